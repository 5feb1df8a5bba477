import { Context, type ContextRedactor, type JsonValue, type Reason } from '@flagstaff/eval';
import type { ContextEventOutput, CustomEventOutput, FeatureEventOutput } from './types.js';

type Attributes = Record<string, unknown>;

/**
 * The context of queued events. Redaction is deferred to flush time, off the evaluation path, and is
 * done at most once per variant (with or without anonymous redaction) however many events of one
 * SDK call share the snapshot (index, feature, debug, prerequisites).
 *
 * The wrapped Context must not change after recording, but a Context wraps the caller's own
 * attribute objects, so {@link snapshotContext} copies them first.
 */
export class ContextSnapshot {
  private plain: Attributes | undefined;
  private anonymousRedacted: Attributes | undefined;

  constructor(readonly context: Context) {}

  /** The context JSON for an event; the result is shared by the events of this snapshot. */
  redacted(redactor: ContextRedactor, redactAnonymous: boolean): Attributes {
    if (!redactAnonymous || !hasAnonymousMember(this.context)) {
      this.plain ??= redactor.redact(this.context, false);
      return this.plain;
    }
    this.anonymousRedacted ??= redactor.redact(this.context, true);
    return this.anonymousRedacted;
  }
}

function hasAnonymousMember(context: Context): boolean {
  for (const kind of context.kinds) if (context.attributes(kind)?.anonymous === true) return true;
  return false;
}

/**
 * A Context that later changes to the caller's objects cannot alter. This is a shallow snapshot: the
 * top-level attributes of every member are copied, and `_meta` with its `privateAttributes` list (so
 * what is private cannot change either), but nested attribute values (objects and arrays) are still
 * shared with the caller; mutating those in place before the next flush shows in the event. LaunchDarkly's
 * SDK shares the caller's context entirely until its queue is flushed, so this is no weaker.
 */
export function snapshotContext(context: Context): Context {
  // A legacy user was already converted into fresh objects when the Context was built.
  if (context.legacy) return context;
  const kinds = context.kinds;
  let input: Attributes;
  if (kinds.length === 1) {
    const kind = kinds[0]!;
    input = copyMember(context.attributes(kind));
    // A multi-kind context with one member becomes single-kind; its member has no `kind` of its own.
    input.kind = kind;
  } else {
    input = { kind: 'multi' };
    for (const kind of kinds) {
      Object.defineProperty(input, kind, {
        value: copyMember(context.attributes(kind)),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  const copy = Context.from(input);
  // Cannot fail for a copy of a valid context; should it ever, the original is still usable.
  return copy instanceof Context ? copy : context;
}

function copyMember(attrs: Attributes | undefined): Attributes {
  const out: Attributes = { ...attrs };
  const meta = out._meta;
  if (meta !== null && typeof meta === 'object' && !Array.isArray(meta)) {
    const metaCopy: Attributes = { ...meta };
    const names = metaCopy.privateAttributes;
    if (Array.isArray(names)) metaCopy.privateAttributes = names.slice();
    out._meta = metaCopy;
  }
  return out;
}

export interface QueuedContextEvent {
  kind: 'index' | 'identify';
  creationDate: number;
  context: ContextSnapshot;
}

export interface QueuedFeatureEvent {
  kind: 'feature' | 'debug';
  creationDate: number;
  context: ContextSnapshot;
  key: string;
  value: JsonValue;
  default: JsonValue;
  variation: number | undefined;
  version: number;
  reason: Reason | undefined;
  prereqOf: string | undefined;
  samplingRatio: number | undefined;
}

export interface QueuedCustomEvent {
  kind: 'custom';
  creationDate: number;
  context: ContextSnapshot;
  key: string;
  data: unknown;
  metricValue: number | undefined;
}

export type QueuedEvent = QueuedContextEvent | QueuedFeatureEvent | QueuedCustomEvent;

export type OutputEvent = FeatureEventOutput | ContextEventOutput | CustomEventOutput;

/**
 * The schema-4 JSON of a queued event. Property order follows LaunchDarkly's SDK so payloads compare
 * equal with its output. Anonymous members are redacted in feature and custom events only (§6.3).
 */
export function toOutputEvent(event: QueuedEvent, redactor: ContextRedactor): OutputEvent {
  switch (event.kind) {
    case 'feature':
    case 'debug': {
      const out: FeatureEventOutput = {
        kind: event.kind,
        creationDate: event.creationDate,
        context: event.context.redacted(redactor, event.kind === 'feature'),
        key: event.key,
        value: event.value,
        default: event.default,
      };
      const ratio = event.samplingRatio;
      if (ratio !== undefined && ratio !== 1) out.samplingRatio = ratio;
      if (event.prereqOf !== undefined) out.prereqOf = event.prereqOf;
      if (event.variation !== undefined) out.variation = event.variation;
      out.version = event.version;
      if (event.reason !== undefined) out.reason = event.reason;
      return out;
    }
    case 'index':
    case 'identify':
      return {
        kind: event.kind,
        creationDate: event.creationDate,
        context: event.context.redacted(redactor, false),
      };
    case 'custom': {
      const out: CustomEventOutput = {
        kind: 'custom',
        creationDate: event.creationDate,
        key: event.key,
        context: event.context.redacted(redactor, true),
      };
      if (event.data !== undefined) out.data = event.data;
      if (event.metricValue !== undefined) out.metricValue = event.metricValue;
      return out;
    }
  }
}

/**
 * Whether a full or debug feature event survives the flag's `samplingRatio` (§6.4): 1 or absent keeps
 * it, 0 (or anything invalid) drops it, N keeps it with probability 1/N.
 */
export function shouldSample(ratio: number | undefined): boolean {
  if (ratio === undefined || ratio === 1) return true;
  const n = Math.trunc(ratio);
  if (!(n >= 1)) return false;
  return n === 1 || Math.floor(Math.random() * n) === 0;
}
