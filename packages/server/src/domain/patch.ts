import type { Operation } from 'fast-json-patch';
import jsonpatch from 'fast-json-patch';
import { ApiError, invalidField } from './errors.js';
import type { PatchOperation } from './schemas.js';

/** Where the operations sit in the request body: `''` for a bare array, `/patch` inside a wrapper. */
export interface PatchSource {
  operations: PatchOperation[];
  at: string;
}

/**
 * Applies RFC 6902 operations to a copy of `doc`. A failed `test` is a precondition that no longer
 * holds (409); any other failure names the operation at fault (400). The result still has to be
 * validated by the caller: JSON Patch can produce any JSON.
 */
export function applyJsonPatch<T>(doc: T, source: PatchSource, readOnly: readonly string[] = []): unknown {
  let current: unknown = jsonpatch.deepClone(doc);
  source.operations.forEach((operation, index) => {
    const at = `${source.at}/${index}`;
    for (const field of ['path', 'from'] as const) {
      const pointer = operation[field];
      if (pointer === undefined) continue;
      const top = topLevel(pointer);
      if (top !== undefined && readOnly.includes(top)) {
        throw invalidField(`${at}/${field}`, `"${top}" cannot be changed by a patch`);
      }
    }
    try {
      // Operations are applied one by one so that an error names the operation; the document is
      // our own copy, so mutating it is safe, and prototype pollution stays banned.
      current = jsonpatch.applyOperation(
        current,
        operation as Operation,
        true,
        true,
        true,
        index,
      ).newDocument;
    } catch (err) {
      throw patchError(err, operation, at);
    }
  });
  return current;
}

function topLevel(pointer: string): string | undefined {
  if (!pointer.startsWith('/')) return undefined;
  const first = pointer.slice(1).split('/')[0] ?? '';
  return first.replace(/~1/g, '/').replace(/~0/g, '~');
}

function patchError(err: unknown, operation: PatchOperation, at: string): ApiError {
  if (err instanceof jsonpatch.JsonPatchError) {
    switch (err.name) {
      case 'TEST_OPERATION_FAILED':
        return new ApiError(
          409,
          'patch_test_failed',
          `${at.slice(1)}: the test of ${operation.path} failed: the document has changed`,
          { errors: [{ path: at, message: `test of "${operation.path}" failed` }] },
        );
      case 'OPERATION_FROM_UNRESOLVABLE':
        return invalidField(`${at}/from`, `"${operation.from}" does not exist in the document`);
      case 'OPERATION_VALUE_REQUIRED':
      case 'OPERATION_VALUE_CANNOT_CONTAIN_UNDEFINED':
        return invalidField(`${at}/value`, `a "${operation.op}" operation needs a JSON value`);
      case 'OPERATION_FROM_REQUIRED':
        return invalidField(`${at}/from`, `a "${operation.op}" operation needs "from"`);
      case 'OPERATION_VALUE_OUT_OF_BOUNDS':
        return invalidField(`${at}/path`, `"${operation.path}" is beyond the end of the array`);
      case 'OPERATION_PATH_UNRESOLVABLE':
        return invalidField(`${at}/path`, `"${operation.path}" does not exist in the document`);
      default:
        return invalidField(`${at}/path`, `"${operation.path}" cannot be applied: ${firstLine(err.message)}`);
    }
  }
  const message = err instanceof Error ? firstLine(err.message) : 'the operation cannot be applied';
  return invalidField(`${at}/path`, message);
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
