import { Context, ContextError, type Flag, type Reason } from '@flagstaff/eval';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LDOptions } from '../src/api/options.js';
import {
  createEventProcessor,
  type EvaluationEvent,
  type EventProcessor,
  type EventProcessorOptions,
} from '../src/events/index.js';
import type { Config } from '../src/options/config.js';
import { type EventsServer, eventsConfig, startEventsServer } from './support/eventsServer.js';

// Payload shapes (spec §6.2-6.5), checked on what a real HTTP server receives.

const T = 1_700_000_000_000;

function ctx(input: unknown): Context {
  const context = Context.from(input);
  if (context instanceof ContextError) throw new Error(context.message);
  return context;
}

function flagOf(fields: Partial<Flag> & { key: string }): Flag {
  return { version: 1, on: true, variations: [false, true], fallthrough: { variation: 1 }, ...fields };
}

const user = ctx({ kind: 'user', key: 'u1', name: 'Ann' });
const userJson = { kind: 'user', key: 'u1', name: 'Ann' };
const FALLTHROUGH: Reason = { kind: 'FALLTHROUGH' };

function evaluation(flag: Flag | undefined, fields: Partial<EvaluationEvent> = {}): EvaluationEvent {
  return {
    context: user,
    flagKey: flag?.key ?? 'missing',
    flag,
    value: true,
    default: false,
    variation: 1,
    reason: FALLTHROUGH,
    withReason: false,
    ...fields,
  };
}

let server: EventsServer;
const open: EventProcessor[] = [];

beforeEach(async () => {
  server = await startEventsServer();
});

afterEach(async () => {
  for (const p of open.splice(0)) await p.close();
  await server.close();
  vi.restoreAllMocks();
});

function processor(
  options: LDOptions = {},
  overrides: Partial<Config> = {},
  processorOptions: EventProcessorOptions = {},
): EventProcessor {
  const p = createEventProcessor(eventsConfig(server.url, options, overrides), {
    now: () => T,
    ...processorOptions,
  });
  open.push(p);
  return p;
}

/** The events of every payload posted so far, in order. */
function posted(): Record<string, unknown>[] {
  return server.bulk().flatMap((r) => r.json as Record<string, unknown>[]);
}

function ofKind(kind: string): Record<string, unknown>[] {
  return posted().filter((e) => e.kind === kind);
}

function summaryOf(flagKey: string): unknown {
  const summary = ofKind('summary')[0] as { features: Record<string, unknown> } | undefined;
  return summary?.features[flagKey];
}

describe('feature events', () => {
  it('posts index, feature and summary events for a tracked flag', async () => {
    const p = processor();
    p.recordEvaluation(evaluation(flagOf({ key: 'f1', version: 7, trackEvents: true })));
    expect(await p.flush()).toEqual({ delivered: 3, dropped: 0 });
    const events = posted();
    expect(events).toEqual([
      { kind: 'index', creationDate: T, context: userJson },
      {
        kind: 'feature',
        creationDate: T,
        context: userJson,
        key: 'f1',
        value: true,
        default: false,
        variation: 1,
        version: 7,
      },
      {
        kind: 'summary',
        startDate: T,
        endDate: T,
        features: {
          f1: {
            default: false,
            contextKinds: ['user'],
            counters: [{ value: true, count: 1, variation: 1, version: 7 }],
          },
        },
      },
    ]);
    // LaunchDarkly's property order, so payloads also compare equal as text.
    expect(Object.keys(events[1]!)).toEqual([
      'kind',
      'creationDate',
      'context',
      'key',
      'value',
      'default',
      'variation',
      'version',
    ]);
  });

  it('sends only the summary (and index) for an untracked flag', async () => {
    const p = processor();
    p.recordEvaluation(evaluation(flagOf({ key: 'f1' })));
    p.recordEvaluation(evaluation(flagOf({ key: 'f1' }), { withReason: true }));
    await p.flush();
    expect(posted().map((e) => e.kind)).toEqual(['index', 'summary']);
    expect(summaryOf('f1')).toEqual({
      default: false,
      contextKinds: ['user'],
      counters: [{ value: true, count: 2, variation: 1, version: 1 }],
    });
  });

  it('includes the reason only for detail calls and experiments', async () => {
    const p = processor();
    const tracked = flagOf({ key: 'tracked', trackEvents: true });
    p.recordEvaluation(evaluation(tracked));
    p.recordEvaluation(evaluation(tracked, { withReason: true }));
    await p.flush();
    const [plain, detail] = ofKind('feature');
    expect(plain).not.toHaveProperty('reason');
    expect(detail!.reason).toEqual(FALLTHROUGH);
  });

  it('treats tracked rules, tracked fallthrough and inExperiment reasons as experiments', async () => {
    const p = processor();
    const ruleMatch: Reason = { kind: 'RULE_MATCH', ruleIndex: 1, ruleId: 'r1' };
    const rules = [
      { id: 'r0', variation: 0, clauses: [] },
      { id: 'r1', variation: 1, clauses: [], trackEvents: true },
    ];
    p.recordEvaluation(evaluation(flagOf({ key: 'rule', rules }), { reason: ruleMatch }));
    p.recordEvaluation(
      evaluation(flagOf({ key: 'untracked-rule', rules }), {
        reason: { kind: 'RULE_MATCH', ruleIndex: 0, ruleId: 'r0' },
      }),
    );
    p.recordEvaluation(evaluation(flagOf({ key: 'fallthrough', trackEventsFallthrough: true })));
    p.recordEvaluation(
      evaluation(flagOf({ key: 'in-experiment' }), { reason: { kind: 'FALLTHROUGH', inExperiment: true } }),
    );
    p.recordEvaluation(
      evaluation(flagOf({ key: 'target', trackEventsFallthrough: true }), {
        reason: { kind: 'TARGET_MATCH' },
      }),
    );
    await p.flush();
    const features = ofKind('feature');
    expect(features.map((e) => [e.key, e.reason])).toEqual([
      ['rule', ruleMatch],
      ['fallthrough', FALLTHROUGH],
      ['in-experiment', { kind: 'FALLTHROUGH', inExperiment: true }],
    ]);
  });

  it('sends prerequisite events with prereqOf before the parent', async () => {
    const p = processor();
    const prereq = flagOf({ key: 'pre', version: 3, trackEvents: true });
    const parent = flagOf({ key: 'parent', version: 4, trackEvents: true });
    p.recordEvaluation(evaluation(prereq, { prereqOf: 'parent', default: null }));
    p.recordEvaluation(evaluation(parent));
    await p.flush();
    expect(posted().map((e) => [e.kind, e.key])).toEqual([
      ['index', undefined],
      ['feature', 'pre'],
      ['feature', 'parent'],
      ['summary', undefined],
    ]);
    const [pre, par] = ofKind('feature');
    expect(pre).toMatchObject({ key: 'pre', version: 3, prereqOf: 'parent', default: null });
    expect(par).not.toHaveProperty('prereqOf');
  });

  it('summarizes unknown flags with unknown: true and sends no feature event', async () => {
    const p = processor();
    const notFound: Reason = { kind: 'ERROR', errorKind: 'FLAG_NOT_FOUND' };
    p.recordEvaluation(
      evaluation(undefined, {
        flagKey: 'nope',
        value: 'd',
        default: 'd',
        variation: undefined,
        reason: notFound,
      }),
    );
    p.recordEvaluation(
      evaluation(undefined, {
        flagKey: 'nope',
        value: 'd',
        default: 'd',
        variation: undefined,
        reason: notFound,
        withReason: true,
      }),
    );
    await p.flush();
    expect(posted().map((e) => e.kind)).toEqual(['index', 'summary']);
    expect(summaryOf('nope')).toEqual({
      default: 'd',
      contextKinds: ['user'],
      counters: [{ value: 'd', count: 2, unknown: true }],
    });
  });

  it('dates each summary from its first evaluation to its last', async () => {
    let t = 1000;
    const p = processor({}, {}, { now: () => t });
    const flag = flagOf({ key: 'f1' });
    p.recordEvaluation(evaluation(flag));
    for (let i = 0; i < 40; i++) {
      t += 10;
      p.recordEvaluation(evaluation(flag));
    }
    await p.flush();
    const first = ofKind('summary')[0] as { startDate: number; endDate: number };
    expect(first.startDate).toBe(1000);
    expect(first.endDate).toBe(1400);
    t = 5000;
    p.recordEvaluation(evaluation(flag));
    t = 5001;
    p.recordEvaluation(evaluation(flag, { creationDate: 5003 }));
    await p.flush();
    expect(ofKind('summary')[1]).toMatchObject({ startDate: 5000, endDate: 5003 });
  });

  it('leaves flags with excludeFromSummaries out of the summary', async () => {
    const p = processor();
    p.recordEvaluation(evaluation(flagOf({ key: 'hidden', excludeFromSummaries: true, trackEvents: true })));
    await p.flush();
    expect(posted().map((e) => e.kind)).toEqual(['index', 'feature']);
  });

  it('keeps a value that has no variation (default returned) without a variation property', async () => {
    const p = processor();
    const flag = flagOf({ key: 'wrong', trackEvents: true });
    p.recordEvaluation(
      evaluation(flag, {
        value: 'x',
        default: 'x',
        variation: undefined,
        reason: { kind: 'ERROR', errorKind: 'WRONG_TYPE' },
        withReason: true,
      }),
    );
    await p.flush();
    expect(ofKind('feature')[0]).toEqual({
      kind: 'feature',
      creationDate: T,
      context: userJson,
      key: 'wrong',
      value: 'x',
      default: 'x',
      version: 1,
      reason: { kind: 'ERROR', errorKind: 'WRONG_TYPE' },
    });
    expect(summaryOf('wrong')).toEqual({
      default: 'x',
      contextKinds: ['user'],
      counters: [{ value: 'x', count: 1, version: 1 }],
    });
  });

  it('honours samplingRatio for full events but still summarizes', async () => {
    const p = processor();
    p.recordEvaluation(evaluation(flagOf({ key: 'never', trackEvents: true, samplingRatio: 0 })));
    vi.spyOn(Math, 'random').mockReturnValue(0);
    p.recordEvaluation(evaluation(flagOf({ key: 'half', trackEvents: true, samplingRatio: 2 })));
    p.recordEvaluation(evaluation(flagOf({ key: 'always', trackEvents: true, samplingRatio: 1 })));
    vi.spyOn(Math, 'random').mockReturnValue(0.99);
    p.recordEvaluation(evaluation(flagOf({ key: 'unlucky', trackEvents: true, samplingRatio: 2 })));
    await p.flush();
    const features = ofKind('feature');
    expect(features.map((e) => [e.key, e.samplingRatio])).toEqual([
      ['half', 2],
      ['always', undefined],
    ]);
    const summary = ofKind('summary')[0] as { features: Record<string, unknown> };
    expect(Object.keys(summary.features).sort()).toEqual(['always', 'half', 'never', 'unlucky']);
  });
});

describe('identify and custom events', () => {
  it('posts identify events and needs no index event afterwards', async () => {
    const p = processor();
    p.recordIdentify(user);
    p.recordEvaluation(evaluation(flagOf({ key: 'f1' })));
    await p.flush();
    expect(posted()).toEqual([
      { kind: 'identify', creationDate: T, context: userJson },
      expect.objectContaining({ kind: 'summary' }),
    ]);
  });

  it('posts custom events after an index event', async () => {
    const p = processor();
    p.recordCustom('clicked', user, { button: 'buy' }, 4.5);
    p.recordCustom('viewed', user);
    await p.flush();
    expect(posted()).toEqual([
      { kind: 'index', creationDate: T, context: userJson },
      {
        kind: 'custom',
        creationDate: T,
        key: 'clicked',
        context: userJson,
        data: { button: 'buy' },
        metricValue: 4.5,
      },
      { kind: 'custom', creationDate: T, key: 'viewed', context: userJson },
    ]);
  });

  it('drops only an event whose data cannot be serialized', async () => {
    const p = processor();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    p.recordCustom('bad', user, cyclic);
    p.recordCustom('good', user, 1);
    expect(await p.flush()).toEqual({ delivered: 2, dropped: 1 });
    expect(posted().map((e) => e.key ?? e.kind)).toEqual(['index', 'good']);
  });
});

describe('context de-duplication', () => {
  it('sends one index event per context', async () => {
    const p = processor();
    const other = ctx({ kind: 'org', key: 'o1' });
    const flag = flagOf({ key: 'f1' });
    p.recordEvaluation(evaluation(flag));
    p.recordEvaluation(evaluation(flag, { context: ctx({ kind: 'user', key: 'u1', name: 'Ann' }) }));
    p.recordEvaluation(evaluation(flag, { context: other }));
    p.recordEvaluation(evaluation(flag));
    p.recordCustom('e', other);
    await p.flush();
    expect(ofKind('index').map((e) => e.context)).toEqual([userJson, { kind: 'org', key: 'o1' }]);
    // A later flush does not repeat them: the cache outlives flushes.
    p.recordEvaluation(evaluation(flag));
    await p.flush();
    expect(ofKind('index')).toHaveLength(2);
  });

  it('forgets contexts every contextKeysFlushInterval', async () => {
    const p = processor({}, { contextKeysFlushIntervalMs: 40 });
    const flag = flagOf({ key: 'f1' });
    p.recordEvaluation(evaluation(flag));
    p.recordEvaluation(evaluation(flag));
    await new Promise((r) => setTimeout(r, 120));
    p.recordEvaluation(evaluation(flag));
    await p.flush();
    expect(ofKind('index')).toHaveLength(2);
  });

  it('remembers recently used contexts and forgets the least recently used beyond contextKeysCapacity', async () => {
    const p = processor({ contextKeysCapacity: 2 });
    const flag = flagOf({ key: 'f1' });
    const keys = ['a', 'b', 'a', 'c', 'b', 'a', 'd', 'e', 'f', 'g', 'a'];
    for (const key of keys) p.recordEvaluation(evaluation(flag, { context: ctx({ kind: 'user', key }) }));
    await p.flush();
    // Recently used contexts stay known; `a` is forgotten once many others followed it (the
    // de-duplicator's guarantee is exact-LRU's: see contextDeduplicator.ts).
    expect(ofKind('index').map((e) => (e.context as { key: string }).key)).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
      'f',
      'g',
      'a',
    ]);
  });

  it('de-duplicates multi-kind contexts by canonical key', async () => {
    const p = processor();
    const flag = flagOf({ key: 'f1' });
    const multi = { kind: 'multi', user: { key: 'u1' }, org: { key: 'o1', name: 'Acme' } };
    p.recordEvaluation(evaluation(flag, { context: ctx(multi) }));
    p.recordEvaluation(
      evaluation(flag, { context: ctx({ kind: 'multi', org: { key: 'o1' }, user: { key: 'u1' } }) }),
    );
    await p.flush();
    expect(ofKind('index').map((e) => e.context)).toEqual([multi]);
    expect(summaryOf('f1')).toMatchObject({ contextKinds: ['user', 'org'] });
  });
});

describe('redaction', () => {
  const rich = {
    kind: 'user',
    key: 'u1',
    name: 'Ann',
    email: 'ann@example.com',
    address: { city: 'Flagstaff', street: '1 Main' },
    _meta: { privateAttributes: ['name'] },
  };

  it('applies global and per-context private attributes in every event', async () => {
    const p = processor({ privateAttributes: ['email', '/address/street'] });
    const context = ctx(rich);
    p.recordEvaluation(evaluation(flagOf({ key: 'f1', trackEvents: true }), { context }));
    p.recordIdentify(ctx({ ...rich, key: 'u2' }));
    p.recordCustom('c', context);
    await p.flush();
    const expected = {
      kind: 'user',
      key: 'u1',
      address: { city: 'Flagstaff' },
      _meta: { redactedAttributes: ['/address/street', 'email', 'name'] },
    };
    const contexts = posted()
      .filter((e) => e.kind !== 'summary')
      .map((e) => e.context);
    expect(contexts).toEqual([expected, expected, { ...expected, key: 'u2' }, expected]);
  });

  it('redacts everything but key and kind with allAttributesPrivate', async () => {
    const p = processor({ allAttributesPrivate: true });
    p.recordIdentify(ctx(rich));
    await p.flush();
    expect(posted()[0]!.context).toEqual({
      kind: 'user',
      key: 'u1',
      _meta: { redactedAttributes: ['address', 'email', 'name'] },
    });
  });

  it('redacts anonymous contexts in feature and custom events only', async () => {
    const p = processor();
    const anonymous = ctx({ kind: 'user', key: 'anon', anonymous: true, name: 'Guest' });
    const until = T + 60_000;
    p.recordEvaluation(
      evaluation(flagOf({ key: 'f1', trackEvents: true, debugEventsUntilDate: until }), {
        context: anonymous,
      }),
    );
    p.recordCustom('c', anonymous);
    p.recordIdentify(anonymous);
    await p.flush();
    const full = { kind: 'user', key: 'anon', anonymous: true, name: 'Guest' };
    const redacted = { kind: 'user', key: 'anon', anonymous: true, _meta: { redactedAttributes: ['name'] } };
    expect(
      posted()
        .filter((e) => e.kind !== 'summary')
        .map((e) => [e.kind, e.context]),
    ).toEqual([
      ['index', full],
      ['feature', redacted],
      ['debug', full],
      ['custom', redacted],
      ['identify', full],
    ]);
  });

  it('redacts anonymous members of a multi-kind context individually', async () => {
    const p = processor();
    const multi = ctx({
      kind: 'multi',
      user: { key: 'anon', anonymous: true, name: 'Guest' },
      org: { key: 'o1', name: 'Acme' },
    });
    p.recordCustom('c', multi);
    await p.flush();
    expect(ofKind('custom')[0]!.context).toEqual({
      kind: 'multi',
      user: { key: 'anon', anonymous: true, _meta: { redactedAttributes: ['name'] } },
      org: { key: 'o1', name: 'Acme' },
    });
  });

  it('records the context as it was at the call, not at flush time', async () => {
    const p = processor();
    const input: Record<string, unknown> = {
      kind: 'user',
      key: 'u1',
      name: 'Ann',
      _meta: { privateAttributes: ['secret'] },
      secret: 's',
    };
    const context = ctx(input);
    p.recordEvaluation(evaluation(flagOf({ key: 'f1', trackEvents: true }), { context }));
    input.name = 'Changed';
    input.extra = true;
    (input._meta as { privateAttributes: string[] }).privateAttributes.pop();
    await p.flush();
    const expected = { kind: 'user', key: 'u1', name: 'Ann', _meta: { redactedAttributes: ['secret'] } };
    expect(ofKind('index')[0]!.context).toEqual(expected);
    expect(ofKind('feature')[0]!.context).toEqual(expected);
  });

  it('stringifies legacy user built-ins', async () => {
    const p = processor();
    p.recordIdentify(ctx({ key: 7, name: 42, custom: { team: 'a' } }));
    await p.flush();
    expect(posted()[0]!.context).toEqual({ kind: 'user', key: '7', team: 'a', name: '42' });
  });
});

describe('debug events', () => {
  it('sends a debug event while debugEventsUntilDate is in the future', async () => {
    const p = processor();
    p.recordEvaluation(
      evaluation(flagOf({ key: 'dbg', debugEventsUntilDate: T + 1000 }), { withReason: true }),
    );
    p.recordEvaluation(evaluation(flagOf({ key: 'expired', debugEventsUntilDate: T - 1 })));
    p.recordEvaluation(
      evaluation(flagOf({ key: 'both', trackEvents: true, version: 2, debugEventsUntilDate: T + 1000 })),
    );
    await p.flush();
    expect(posted().map((e) => [e.kind, e.key])).toEqual([
      ['index', undefined],
      ['debug', 'dbg'],
      ['feature', 'both'],
      ['debug', 'both'],
      ['summary', undefined],
    ]);
    expect(ofKind('debug')[0]).toEqual({
      kind: 'debug',
      creationDate: T,
      context: userJson,
      key: 'dbg',
      value: true,
      default: false,
      variation: 1,
      version: 1,
      reason: FALLTHROUGH,
    });
  });

  it('stops debugging when the server clock is past debugEventsUntilDate', async () => {
    // A real clock here: the local time is before the window's end, the server's is after it.
    const now = Date.now();
    const p = createEventProcessor(eventsConfig(server.url), {});
    open.push(p);
    const flag = flagOf({ key: 'dbg', debugEventsUntilDate: now + 60 * 60_000 });
    p.recordEvaluation(evaluation(flag));
    server.replyWith({ status: 202, headers: { date: new Date(now + 2 * 60 * 60_000).toUTCString() } });
    await p.flush();
    expect(ofKind('debug')).toHaveLength(1);
    p.recordEvaluation(evaluation(flag));
    await p.flush();
    expect(ofKind('debug')).toHaveLength(1);
    expect(server.bulk()).toHaveLength(2);
  });
});
