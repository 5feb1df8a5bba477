import { OPERATORS } from '../model/flag.js';
import type { Checker } from './checker.js';
import { quote } from './describe.js';
import { childPath } from './pointer.js';
import { type ObjectReader, readObject } from './reader.js';
import { checkAttributeReference, checkContextKind } from './references.js';

const KNOWN_OPERATORS: ReadonlySet<string> = new Set(OPERATORS);

/**
 * Reads one clause of a flag rule or segment rule. `segmentKey` is set for clauses inside a segment, which
 * must not match against that same segment (evaluation would report a cycle).
 */
export function readClause(c: Checker, path: string, value: unknown, segmentKey?: string): unknown {
  return readObject(c, path, value, 'a clause', (clause) => {
    const contextKind = clause.string('contextKind');
    const attribute = clause.string('attribute');
    const op = clause.string('op', 'required');
    const values = clause.jsonArray('values', 'required');
    clause.boolean('negate');
    if (!c.strict) return;

    if (contextKind !== undefined) checkContextKind(c, clause.at('contextKind'), contextKind);
    if (op === undefined) return;
    if (!KNOWN_OPERATORS.has(op)) {
      c.fail(clause.at('op'), `unknown operator ${quote(op)}: expected one of ${OPERATORS.join(', ')}`);
    }
    // segmentMatch ignores the attribute, and writers such as Go's emit "" there.
    if (op !== 'segmentMatch') checkAttribute(clause, op, attribute);
    if (values === undefined) return;
    if (op === 'matches') checkPatterns(c, clause.at('values'), values);
    if (op === 'segmentMatch') checkSegmentKeys(c, clause.at('values'), values, segmentKey);
  });
}

function checkAttribute(clause: ObjectReader, op: string, attribute: string | undefined): void {
  if (!clause.has('attribute')) {
    clause.c.fail(clause.at('attribute'), `"attribute" is required for operator ${quote(op)}`);
  } else if (attribute !== undefined) {
    checkAttributeReference(clause.c, clause.at('attribute'), attribute, clause.has('contextKind'));
  }
}

/** Evaluation treats a bad pattern as never matching, which silently disables the clause. */
function checkPatterns(c: Checker, path: string, values: readonly unknown[]): void {
  values.forEach((pattern, i) => {
    if (typeof pattern !== 'string') return;
    const problem = regExpProblem(pattern);
    if (problem !== undefined) {
      c.fail(childPath(path, i), `${quote(pattern)} is not a valid regular expression: ${problem}`);
    }
  });
}

function regExpProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : 'it does not compile';
  }
}

function checkSegmentKeys(
  c: Checker,
  path: string,
  values: readonly unknown[],
  segmentKey: string | undefined,
): void {
  values.forEach((key, i) => {
    if (typeof key !== 'string') {
      c.wrongType(childPath(path, i), 'a segment key (a string)', key);
    } else if (segmentKey !== undefined && key === segmentKey) {
      c.fail(childPath(path, i), `segment ${quote(key)} cannot match against itself`);
    }
  });
}
