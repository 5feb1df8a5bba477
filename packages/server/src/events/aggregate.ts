import type { CounterRow } from '../storage/types.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** Keys longer than this are junk (or abuse); counting them would only bloat the counter table. */
const MAX_KEY_LENGTH = 512;
/** Context keys may be long (e.g. emails, JWT subjects), but a bound keeps the contexts document small. */
const MAX_CONTEXT_KEY_LENGTH = 1024;
const MAX_NAME_LENGTH = 200;
/**
 * Timestamps are the SDK's clock. Older than this or in the future means a broken clock or a forged
 * payload; such events are counted at the time they arrived rather than in a far-away bucket.
 */
const MAX_EVENT_AGE_MS = 31 * DAY_MS;

/** One context an event mentioned (multi-contexts are split into their members). */
export interface SeenContext {
  kind: string;
  key: string;
  name?: string;
  anonymous?: boolean;
}

export interface IngestStats {
  events: number;
  summaries: number;
  features: number;
  custom: number;
  index: number;
  identify: number;
  /** Known kinds that carry nothing we aggregate (debug, migration_op). */
  skipped: number;
  /** Unknown or missing kinds: ignored so newer SDKs never get errors from an older server. */
  unknown: number;
  /** Events or summary counters of a known kind with unusable fields. */
  invalid: number;
}

export interface Aggregate {
  /** Merged per (kind, key, variation, hour): one row per cell, ready for a single addCounts call. */
  counters: CounterRow[];
  /** De-duplicated by kind and key. */
  contexts: SeenContext[];
  stats: IngestStats;
}

export const hourOf = (time: number) => Math.floor(time / HOUR_MS) * HOUR_MS;

type EventObject = Record<string, unknown>;

const isObject = (value: unknown): value is EventObject =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const usableKey = (value: unknown, max = MAX_KEY_LENGTH): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= max;

/**
 * Aggregates one analytics payload (already checked to be an array of objects) in memory.
 *
 * Evaluations are counted from `summary` events only: every evaluation an SDK makes is in its summary,
 * and full `feature` events are a subset of those, so counting both would double count. A summary's
 * counters go to the hour of its `endDate`. SDKs flush every few seconds, so a summary spanning two
 * hours is rare and short; splitting it proportionally would need fractional counts for little gain.
 */
export function aggregateEvents(events: readonly EventObject[], env: string, now: number): Aggregate {
  const stats: IngestStats = {
    events: events.length,
    summaries: 0,
    features: 0,
    custom: 0,
    index: 0,
    identify: 0,
    skipped: 0,
    unknown: 0,
    invalid: 0,
  };
  const cells = new Map<string, CounterRow>();
  const contexts = new Map<string, SeenContext>();

  const count = (kind: CounterRow['kind'], key: string, variation: string, time: number, n: number) => {
    const hour = hourOf(time);
    const id = `${kind}\u0000${key}\u0000${variation}\u0000${hour}`;
    const cell = cells.get(id);
    if (cell) cell.count += n;
    else cells.set(id, { env, kind, key, variation, hour, count: n });
  };
  const eventTime = (value: unknown) =>
    typeof value === 'number' && Number.isFinite(value) && value <= now && value >= now - MAX_EVENT_AGE_MS
      ? value
      : now;
  const seeContexts = (event: EventObject) => {
    for (const seen of contextsOf(event)) {
      const id = `${seen.kind}\u0000${seen.key}`;
      // A later event in the same payload may carry more (e.g. index has the name, custom is redacted).
      contexts.set(id, { ...contexts.get(id), ...seen });
    }
  };

  for (const event of events) {
    switch (event.kind) {
      case 'summary': {
        stats.summaries++;
        const features = event.features;
        if (!isObject(features)) {
          stats.invalid++;
          break;
        }
        const time = eventTime(typeof event.endDate === 'number' ? event.endDate : event.startDate);
        for (const [flagKey, summary] of Object.entries(features)) {
          const counters = isObject(summary) ? summary.counters : undefined;
          if (!usableKey(flagKey) || !Array.isArray(counters)) {
            stats.invalid++;
            continue;
          }
          for (const counter of counters) {
            const n = isObject(counter) ? counter.count : undefined;
            if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) {
              stats.invalid++;
              continue;
            }
            count('eval', flagKey, variationOf(counter as EventObject), time, n);
          }
        }
        break;
      }
      case 'custom':
        stats.custom++;
        if (usableKey(event.key)) count('custom', event.key, '', eventTime(event.creationDate), 1);
        else stats.invalid++;
        seeContexts(event);
        break;
      case 'feature':
        // Already in the summary (see above); only the context is new information.
        stats.features++;
        seeContexts(event);
        break;
      case 'index':
        stats.index++;
        seeContexts(event);
        break;
      case 'identify':
        stats.identify++;
        seeContexts(event);
        break;
      case 'debug':
      case 'migration_op':
        stats.skipped++;
        break;
      default:
        stats.unknown++;
    }
  }
  return { counters: [...cells.values()], contexts: [...contexts.values()], stats };
}

/**
 * The counter cell of a summary counter: the variation index, or `default` when the SDK served the
 * default value (unknown flag, error, or an off flag without an off variation).
 */
function variationOf(counter: EventObject): string {
  if (counter.unknown === true) return 'default';
  const variation = counter.variation;
  return typeof variation === 'number' && Number.isInteger(variation) && variation >= 0 && variation < 1000
    ? String(variation)
    : 'default';
}

/** The contexts an event names: v9 inlines `context`, v7 sends `contextKeys`, schema-3 SDKs `user`. */
export function contextsOf(event: EventObject): SeenContext[] {
  const out: SeenContext[] = [];
  const add = (kind: unknown, member: unknown) => {
    if (!isObject(member) || !usableKey(kind, 64) || !usableKey(member.key, MAX_CONTEXT_KEY_LENGTH)) return;
    const seen: SeenContext = { kind, key: member.key };
    if (typeof member.name === 'string' && member.name !== '')
      seen.name = member.name.slice(0, MAX_NAME_LENGTH);
    if (member.anonymous === true) seen.anonymous = true;
    out.push(seen);
  };
  const context = event.context;
  if (isObject(context)) {
    if (context.kind === 'multi') {
      for (const [kind, member] of Object.entries(context))
        if (kind !== 'kind' && kind !== '_meta') add(kind, member);
    } else {
      // A context without `kind` is a legacy user.
      add(context.kind === undefined ? 'user' : context.kind, context);
    }
  } else if (isObject(event.contextKeys)) {
    for (const [kind, key] of Object.entries(event.contextKeys)) add(kind, { key });
  } else if (isObject(event.user)) {
    add('user', event.user);
  } else if (typeof event.userKey === 'string') {
    add('user', { key: event.userKey });
  }
  return out;
}
