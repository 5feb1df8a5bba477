import { AttributeReference } from '../context/attributeReference.js';
import type { Checker } from './checker.js';
import { quote } from './describe.js';

const NAME_PATTERN = /^[A-Za-z0-9._-]+$/;
const NAME_CHARS = 'only letters, digits, ".", "_" and "-"';

/** Flag and segment keys appear in URL paths and store keys, so they are held to the same alphabet. */
export function checkItemKey(c: Checker, path: string, key: string, item: 'flag' | 'segment'): void {
  if (!NAME_PATTERN.test(key)) {
    c.fail(path, `${item} key ${quote(key)} is not valid: expected a non-empty key of ${NAME_CHARS}`);
  }
}

/** A context kind as contexts themselves must have it (spec §2.2), or no context could ever match. */
export function checkContextKind(c: Checker, path: string, kind: string): void {
  if (!NAME_PATTERN.test(kind)) {
    c.fail(path, `context kind ${quote(kind)} is not valid: expected a non-empty kind of ${NAME_CHARS}`);
  } else if (kind === 'kind' || kind === 'multi') {
    c.fail(path, `context kind ${quote(kind)} is not valid: "kind" and "multi" are reserved`);
  }
}

/**
 * An attribute reference (spec §2.4). `asPath` is true when the owner names a context kind, which is
 * what makes the string a slash path rather than a literal attribute name.
 */
export function checkAttributeReference(c: Checker, path: string, ref: string, asPath: boolean): void {
  const parsed = asPath ? AttributeReference.parse(ref) : AttributeReference.literal(ref);
  // Evaluation accepts a literal `_meta` (it is a valid name, spec §2.4) but it can only ever read
  // the context's private-attribute metadata, so the service refuses to store it.
  if (parsed.valid && (asPath || ref !== '_meta')) return;
  const kindOf = asPath ? 'attribute reference' : 'attribute name';
  c.fail(path, `${kindOf} ${quote(ref)} is not valid: ${referenceProblem(ref, asPath)}`);
}

function referenceProblem(ref: string, asPath: boolean): string {
  if (ref === '') return 'it must not be empty';
  if (asPath && ref.startsWith('/')) {
    if (ref.slice(1).split('/').includes('')) return 'a slash path must not have empty components';
    if (/~(?![01])/.test(ref)) return 'in a slash path "~" must be followed by "0" or "1"';
  }
  return '"_meta" is reserved and cannot be used as an attribute';
}
