import type { Checker } from './checker.js';
import { isJsonObject } from './checker.js';
import { describeValue } from './describe.js';
import { childPath } from './pointer.js';

interface Frame {
  value: unknown;
  parent: Frame | undefined;
  key: string | number;
}

/** Marks the point where a container's children are done, so it leaves the set of open ancestors. */
interface Leave {
  leave: object;
}

/**
 * Checks that an opaque value (a variation, a clause value) is plain JSON. Parsed JSON always is; this
 * catches values built in code (undefined, NaN, functions, Dates, cycles). The walk is iterative and
 * paths are only built for a problem, because these values may be nested arbitrarily deep. Only the
 * first problem inside each value is reported: one is enough to fix, and more could be unbounded.
 */
export function checkJsonValue(c: Checker, path: string, value: unknown): boolean {
  const open = new Set<object>();
  // Shared (not circular) containers are checked once: repeated sharing could otherwise be exponential.
  const done = new Set<object>();
  const stack: Array<Frame | Leave> = [{ value, parent: undefined, key: '' }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if ('leave' in item) {
      open.delete(item.leave);
      done.add(item.leave);
      continue;
    }
    const problem = scalarProblem(item.value);
    if (problem === null) continue;
    if (problem !== undefined) return fail(c, path, item, problem);
    const container = item.value as object;
    if (done.has(container)) continue;
    if (open.has(container)) return fail(c, path, item, 'a circular reference');
    open.add(container);
    stack.push({ leave: container });
    if (Array.isArray(container)) {
      for (let i = container.length - 1; i >= 0; i--) {
        stack.push({ value: container[i], parent: item, key: i });
      }
    } else {
      const record = container as Record<string, unknown>;
      const keys = Object.keys(record);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        stack.push({ value: record[key], parent: item, key });
      }
    }
  }
  return true;
}

/** null for a valid scalar, undefined for an array or plain object to descend into, else a description. */
function scalarProblem(value: unknown): string | null | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      return Number.isFinite(value) ? null : describeValue(value);
    case 'object':
      if (value === null) return null;
      return Array.isArray(value) || isJsonObject(value) ? undefined : describeValue(value);
    default:
      return describeValue(value);
  }
}

function fail(c: Checker, root: string, frame: Frame, problem: string): false {
  const keys: Array<string | number> = [];
  for (let f: Frame | undefined = frame; f?.parent !== undefined; f = f.parent) keys.push(f.key);
  let path = root;
  for (let i = keys.length - 1; i >= 0; i--) path = childPath(path, keys[i]!);
  c.fail(path, `expected a JSON value, got ${problem}`);
  return false;
}
