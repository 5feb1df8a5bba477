import { describe, expect, it } from 'vitest';
import { Context } from '../src/context/context.js';
import { EventSummarizer, type SummarizableEvaluation } from '../src/events/summarizer.js';

function evaluation(overrides: Partial<SummarizableEvaluation> = {}): SummarizableEvaluation {
  return {
    key: 'flag',
    contextKinds: ['user'],
    value: 'on',
    default: 'fallback',
    variation: 1,
    version: 7,
    creationDate: 1000,
    ...overrides,
  };
}

function contextKinds(input: unknown): readonly string[] {
  const context = Context.from(input);
  if (!(context instanceof Context)) throw new Error(context.message);
  return context.kinds;
}

describe('EventSummarizer', () => {
  it('is empty and produces no snapshot before anything is counted', () => {
    const summarizer = new EventSummarizer();
    expect(summarizer.empty).toBe(true);
    expect(summarizer.snapshot()).toBeUndefined();
  });

  it('counts evaluations per variation and version', () => {
    const summarizer = new EventSummarizer();
    summarizer.summarize(evaluation({ variation: 1, value: 'on' }));
    summarizer.summarize(evaluation({ variation: 1, value: 'on' }));
    summarizer.summarize(evaluation({ variation: 0, value: 'off' }));
    summarizer.summarize(evaluation({ variation: 1, value: 'on', version: 8 }));
    expect(summarizer.empty).toBe(false);
    expect(summarizer.snapshot()).toEqual({
      kind: 'summary',
      startDate: 1000,
      endDate: 1000,
      features: {
        flag: {
          default: 'fallback',
          contextKinds: ['user'],
          counters: [
            { value: 'on', count: 2, variation: 1, version: 7 },
            { value: 'off', count: 1, variation: 0, version: 7 },
            { value: 'on', count: 1, variation: 1, version: 8 },
          ],
        },
      },
    });
  });

  it('keeps zero-valued variation and version', () => {
    const summarizer = new EventSummarizer();
    summarizer.summarize(evaluation({ variation: 0, version: 0, value: false }));
    expect(summarizer.snapshot()?.features.flag?.counters).toEqual([
      { value: false, count: 1, variation: 0, version: 0 },
    ]);
  });

  it('omits variation when none was chosen, in LaunchDarkly property order', () => {
    const summarizer = new EventSummarizer();
    summarizer.summarize(evaluation({ variation: undefined, value: 'fallback' }));
    summarizer.summarize(evaluation({ variation: undefined, value: 'fallback' }));
    const snapshot = summarizer.snapshot();
    expect(JSON.stringify(snapshot?.features.flag?.counters)).toBe(
      '[{"value":"fallback","count":2,"version":7}]',
    );
  });

  it('treats null variation and version from decoded JSON as absent', () => {
    const summarizer = new EventSummarizer();
    const decoded = JSON.parse('{"variation":null,"version":null}') as Partial<SummarizableEvaluation>;
    summarizer.summarize(evaluation({ ...decoded, value: 'fallback' }));
    summarizer.summarize(evaluation({ variation: undefined, version: undefined, value: 'fallback' }));
    expect(summarizer.snapshot()?.features.flag?.counters).toEqual([
      { value: 'fallback', count: 2, unknown: true },
    ]);
  });

  it('marks counters of unknown flags with unknown: true instead of a version', () => {
    const summarizer = new EventSummarizer();
    const unknown = {
      key: 'missing',
      variation: undefined,
      version: undefined,
      value: 'dflt',
      default: 'dflt',
    };
    summarizer.summarize(evaluation(unknown));
    summarizer.summarize(evaluation(unknown));
    const snapshot = summarizer.snapshot();
    expect(snapshot?.features).toEqual({
      missing: {
        default: 'dflt',
        contextKinds: ['user'],
        counters: [{ value: 'dflt', count: 2, unknown: true }],
      },
    });
    expect(JSON.stringify(snapshot?.features.missing?.counters)).toBe(
      '[{"value":"dflt","count":2,"unknown":true}]',
    );
  });

  it('summarizes several flags separately', () => {
    const summarizer = new EventSummarizer();
    summarizer.summarize(evaluation({ key: 'a', value: true, default: false, variation: 0, version: 1 }));
    summarizer.summarize(evaluation({ key: 'b', value: 3, default: 0, variation: 2, version: 5 }));
    summarizer.summarize(evaluation({ key: 'a', value: true, default: false, variation: 0, version: 1 }));
    expect(summarizer.snapshot()?.features).toEqual({
      a: {
        default: false,
        contextKinds: ['user'],
        counters: [{ value: true, count: 2, variation: 0, version: 1 }],
      },
      b: { default: 0, contextKinds: ['user'], counters: [{ value: 3, count: 1, variation: 2, version: 5 }] },
    });
  });

  it('collects the context kinds seen for each flag, including every kind of multi-kind contexts', () => {
    const summarizer = new EventSummarizer();
    const multi = contextKinds({ kind: 'multi', user: { key: 'u' }, org: { key: 'o' } });
    summarizer.summarize(evaluation({ contextKinds: contextKinds({ kind: 'user', key: 'u' }) }));
    summarizer.summarize(evaluation({ contextKinds: multi }));
    summarizer.summarize(evaluation({ contextKinds: contextKinds({ kind: 'device', key: 'd' }) }));
    summarizer.summarize(evaluation({ key: 'other', contextKinds: contextKinds({ key: 'legacy' }) }));
    const features = summarizer.snapshot()?.features;
    expect(features?.flag?.contextKinds).toEqual(['user', 'org', 'device']);
    expect(features?.flag?.counters).toEqual([{ value: 'on', count: 3, variation: 1, version: 7 }]);
    expect(features?.other?.contextKinds).toEqual(['user']);
  });

  it('keeps the first default seen for a flag', () => {
    const summarizer = new EventSummarizer();
    summarizer.summarize(evaluation({ default: 'first' }));
    summarizer.summarize(evaluation({ default: 'second' }));
    expect(summarizer.snapshot()?.features.flag?.default).toBe('first');
  });

  it('supports JSON object and null values and defaults', () => {
    const summarizer = new EventSummarizer();
    summarizer.summarize(evaluation({ value: { a: [1, 2] }, default: null }));
    expect(summarizer.snapshot()?.features.flag).toEqual({
      default: null,
      contextKinds: ['user'],
      counters: [{ value: { a: [1, 2] }, count: 1, variation: 1, version: 7 }],
    });
  });

  it('spans start and end dates over the earliest and latest creation dates', () => {
    const summarizer = new EventSummarizer();
    summarizer.summarize(evaluation({ creationDate: 2000 }));
    summarizer.summarize(evaluation({ creationDate: 1500 }));
    summarizer.summarize(evaluation({ key: 'other', creationDate: 3000 }));
    summarizer.summarize(evaluation({ creationDate: 2500 }));
    const snapshot = summarizer.snapshot();
    expect(snapshot?.startDate).toBe(1500);
    expect(snapshot?.endDate).toBe(3000);
  });

  it('ignores evaluations of flags excluded from summaries', () => {
    const summarizer = new EventSummarizer();
    summarizer.summarize(evaluation({ key: 'hidden', excludeFromSummaries: true, creationDate: 1 }));
    expect(summarizer.empty).toBe(true);
    expect(summarizer.snapshot()).toBeUndefined();
    summarizer.summarize(evaluation({ excludeFromSummaries: false, creationDate: 50 }));
    summarizer.summarize(evaluation({ key: 'hidden', excludeFromSummaries: true, creationDate: 99 }));
    const snapshot = summarizer.snapshot();
    expect(Object.keys(snapshot?.features ?? {})).toEqual(['flag']);
    expect(snapshot?.startDate).toBe(50);
    expect(snapshot?.endDate).toBe(50);
  });

  it('returns snapshots that later counting does not change', () => {
    const summarizer = new EventSummarizer();
    summarizer.summarize(evaluation());
    const first = summarizer.snapshot();
    summarizer.summarize(evaluation({ contextKinds: ['org'], creationDate: 5000 }));
    expect(first?.features.flag?.counters).toEqual([{ value: 'on', count: 1, variation: 1, version: 7 }]);
    expect(first?.features.flag?.contextKinds).toEqual(['user']);
    expect(first?.endDate).toBe(1000);
    expect(summarizer.snapshot()?.features.flag?.counters[0]?.count).toBe(2);
  });

  it('starts over after reset', () => {
    const summarizer = new EventSummarizer();
    summarizer.summarize(evaluation({ key: 'old', creationDate: 10, default: 'old-default' }));
    summarizer.reset();
    expect(summarizer.empty).toBe(true);
    expect(summarizer.snapshot()).toBeUndefined();
    summarizer.summarize(evaluation({ creationDate: 20, default: 'new-default' }));
    expect(summarizer.snapshot()).toEqual({
      kind: 'summary',
      startDate: 20,
      endDate: 20,
      features: {
        flag: {
          default: 'new-default',
          contextKinds: ['user'],
          counters: [{ value: 'on', count: 1, variation: 1, version: 7 }],
        },
      },
    });
  });
});
