import type { ServerContext } from '../context.js';
import type { StorageReader } from '../storage/types.js';
import { composeFlag } from './compose.js';
import { type FieldError, fieldLabel, invalid, notFound, quote, staleVersion } from './errors.js';
import { targetingId } from './ids.js';
import { applyInstruction, type Instruction } from './instructions.js';
import { assertFlagWritable, loadEnvironment, loadFlag, loadWritableEnvironment } from './lookup.js';
import { applyJsonPatch, type PatchSource } from './patch.js';
import { checkSchema } from './schemaCheck.js';
import { type TargetingDoc, TargetingDocSchema } from './schemas.js';
import { fromTargetingDoc, toTargetingDoc } from './targetingDoc.js';
import type { FlagDefinition, Targeting } from './types.js';
import { checkFlag, mapPaths, References } from './validation.js';
import { type TargetingView, targetingView } from './views.js';
import { audit, type ChangeRequest, sameJson, write } from './write.js';

export type TargetingChange = { patch: PatchSource } | { instructions: Instruction[] };

export async function getTargeting(
  reader: StorageReader,
  projectKey: string,
  envKey: string,
  flagKey: string,
): Promise<TargetingView> {
  await loadEnvironment(reader, projectKey, envKey);
  await loadFlag(reader, projectKey, flagKey);
  const doc = await reader.get<Targeting>('targeting', targetingId(projectKey, envKey, flagKey));
  if (!doc) throw notFound(`flag ${quote(flagKey)} has no targeting in environment ${quote(envKey)}`);
  return targetingView(doc.value);
}

/**
 * Changes a flag's targeting in one environment, by JSON Patch against its targeting document or by
 * semantic instructions. The result is validated as the SDK payload it becomes; only then is it
 * written, its version raised by one, audited, and announced to SDK streams and webhooks.
 */
export async function updateTargeting(
  ctx: ServerContext,
  request: ChangeRequest,
  projectKey: string,
  envKey: string,
  flagKey: string,
  change: TargetingChange,
): Promise<TargetingView> {
  return write(ctx, request, async (tx, outbox) => {
    await loadWritableEnvironment(tx, projectKey, envKey);
    const def = (await loadFlag(tx, projectKey, flagKey)).value;
    assertFlagWritable(def);
    const id = targetingId(projectKey, envKey, flagKey);
    const doc = await tx.get<Targeting>('targeting', id);
    if (!doc) throw notFound(`flag ${quote(flagKey)} has no targeting in environment ${quote(envKey)}`);
    const before = doc.value;
    if (request.expectedVersion !== undefined && request.expectedVersion !== before.version) {
      throw staleVersion(
        `flag ${quote(flagKey)} in environment ${quote(envKey)}`,
        request.expectedVersion,
        before.version,
      );
    }

    const refs = new References(tx, projectKey);
    let after: Targeting;
    if ('patch' in change) {
      const patched = applyJsonPatch(toTargetingDoc(before), change.patch, ['version']);
      const shapeErrors = checkSchema(TargetingDocSchema, patched);
      if (shapeErrors.length > 0) throw invalid(shapeErrors);
      after = fromTargetingDoc(patched as TargetingDoc, before.version);
      // Paths of the composed flag are the document's own: JSON Patch edits LaunchDarkly's field names.
      // Problems the flag already had (none, unless data predates a rule) do not block other changes.
      const baseline = new Set((await checkFlag(refs, envKey, def, before)).map(errorKey));
      const errors = (await checkFlag(refs, envKey, def, after)).filter((e) => !baseline.has(errorKey(e)));
      if (errors.length > 0) throw invalid(errors);
    } else {
      after = await applyInstructions(refs, envKey, def.variations.length, def, before, change.instructions);
    }

    if (sameJson(toTargetingDoc(after), toTargetingDoc(before))) return targetingView(before);
    after.version = before.version + 1;
    await tx.put('targeting', id, after, { expectRev: doc.rev });

    const previous = composeFlag(def, before);
    const current = composeFlag(def, after);
    await audit(tx, request, {
      projectKey,
      envKey,
      resource: { kind: 'flag', key: flagKey },
      action: 'updateTargeting',
      before: previous,
      after: current,
    });
    tx.notify({ projectKey, envKey, kind: 'flag', key: flagKey });
    outbox.add({
      projectKey,
      envKey,
      kind: 'flag',
      key: flagKey,
      action: 'updateTargeting',
      actor: request.actor,
      current,
      previous,
      ...(request.comment ? { comment: request.comment } : {}),
    });
    return targetingView(after);
  });
}

/**
 * Applies the instructions in order. An instruction that leaves the flag invalid is reported at its
 * own path (`/instructions/2/clauses/0/op`) and skipped, so the ones after it are judged on their own.
 */
async function applyInstructions(
  refs: References,
  envKey: string,
  variationCount: number,
  def: FlagDefinition,
  start: Targeting,
  instructions: Instruction[],
): Promise<Targeting> {
  let current = start;
  const errors: FieldError[] = [];
  const baseline = new Set((await checkFlag(refs, envKey, def, start)).map(errorKey));
  for (const [i, instruction] of instructions.entries()) {
    const at = `/instructions/${i}`;
    const result = applyInstruction(current, instruction, at, variationCount);
    if (result.errors.length > 0) {
      errors.push(...result.errors);
      continue;
    }
    const found = (await checkFlag(refs, envKey, def, result.targeting)).filter(
      (e) => !baseline.has(errorKey(e)),
    );
    if (found.length > 0) {
      errors.push(
        ...mapPaths(found, result.paths, (e) => ({
          path: at,
          message: `${fieldLabel(e.path)}: ${e.message}`,
        })),
      );
      // Validation looked at the rejected state; later instructions are judged without it.
      refs.assumeTargeting(envKey, def.key, current);
      continue;
    }
    current = result.targeting;
  }
  if (errors.length > 0) throw invalid(errors);
  return current;
}

const errorKey = (e: FieldError) => `${e.path}\u0000${e.message}`;
