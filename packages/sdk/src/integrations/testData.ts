import {
  type Flag,
  type Segment,
  type ValidationResult,
  validateFlag,
  validateSegment,
} from '@flagstaff/eval';
import type {
  DataKindName,
  DataSource,
  DataSourceContext,
  DataSourceFactory,
  FullDataSet,
  VersionedItem,
} from '../api/dataSource.js';
import { TestDataFlagBuilder } from './testDataFlagBuilder.js';

/** One started data source: TestData pushes every change into its client's store. */
class TestDataSource implements DataSource {
  private state: 'idle' | 'running' | 'stopped' = 'idle';

  constructor(
    private readonly context: DataSourceContext,
    private readonly running: Set<TestDataSource>,
    private readonly snapshot: () => FullDataSet,
  ) {}

  start(): void {
    if (this.state !== 'idle') return;
    this.state = 'running';
    // Registered before init so no update can fall between the snapshot and the first upsert; the
    // store applies writes in call order, so upserts made meanwhile land after the init.
    this.running.add(this);
    this.context.updates.init(this.snapshot()).then(
      () => {
        if (this.state === 'running') this.context.status.ready();
      },
      (err: unknown) => {
        if (this.state !== 'running') return;
        const error = err instanceof Error ? err : new Error(String(err));
        this.context.logger.error(`TestData: storing the test data failed: ${error.message}`);
        // Nothing would retry the init, so the client should stop waiting for it.
        this.stop();
        this.context.status.failed(error);
      },
    );
  }

  stop(): void {
    this.state = 'stopped';
    this.running.delete(this);
  }

  upsert(kind: DataKindName, item: VersionedItem): Promise<void> {
    return this.context.updates.upsert(kind, item);
  }
}

/**
 * Flag data defined in code, for tests (same API as LaunchDarkly's v9 `integrations.TestData`):
 *
 * ```ts
 * const td = new integrations.TestData();
 * await td.update(td.flag('my-flag').variationForAll(true));
 * const client = init('sdk-key', { updateProcessor: td.getFactory(), sendEvents: false });
 * ```
 *
 * Every client started with `getFactory()` gets all flags and segments defined so far, and every later
 * change right away.
 */
export class TestData {
  private readonly flags = new Map<string, Flag>();
  private readonly segments = new Map<string, Segment>();
  private readonly builders = new Map<string, TestDataFlagBuilder>();
  private readonly running = new Set<TestDataSource>();

  /** The data source factory for `options.updateProcessor`. */
  getFactory(): DataSourceFactory {
    return (context) =>
      new TestDataSource(context, this.running, () => ({
        flags: Object.fromEntries(this.flags),
        segments: Object.fromEntries(this.segments),
      }));
  }

  /**
   * A builder for flag `key`: a copy of the builder last passed to {@link update} for that key, else a new
   * boolean flag that is on and serves `true`. Nothing changes until the builder is passed to `update`.
   */
  flag(key: string): TestDataFlagBuilder {
    return this.builders.get(key)?.clone() ?? new TestDataFlagBuilder(key);
  }

  /**
   * Stores the builder's flag with the next version (previous version + 1, or 1) and sends it to every
   * running client. Later changes to the builder have no effect unless it is passed here again.
   */
  update(flagBuilder: TestDataFlagBuilder): Promise<void> {
    const key = flagBuilder.getKey();
    const flag = flagBuilder.build((this.flags.get(key)?.version ?? 0) + 1);
    this.flags.set(key, flag);
    this.builders.set(key, flagBuilder.clone());
    return this.push('flags', flag);
  }

  /**
   * Stores a full flag in LaunchDarkly's JSON shape and sends it to every running client. As in v9, the
   * version is the previous version + 1 if the key is known, else the given one (1 if absent: v9 keeps it
   * undefined, which breaks later updates). Throws a TypeError, listing every problem, for invalid flag JSON.
   */
  usePreconfiguredFlag(flagConfig: unknown): Promise<void> {
    const flag = this.prepare(flagConfig, this.flags, validateFlag, 'usePreconfiguredFlag', 'flag');
    this.flags.set(flag.key, flag);
    return this.push('flags', flag);
  }

  /** Like {@link usePreconfiguredFlag}, for a segment: the only way to define segments in test data. */
  usePreconfiguredSegment(segmentConfig: unknown): Promise<void> {
    const segment = this.prepare(
      segmentConfig,
      this.segments,
      validateSegment,
      'usePreconfiguredSegment',
      'segment',
    );
    this.segments.set(segment.key, segment);
    return this.push('segments', segment);
  }

  private prepare<T extends { key: string; version: number }>(
    input: unknown,
    current: Map<string, T>,
    validate: (value: unknown) => ValidationResult<T>,
    method: string,
    what: string,
  ): T {
    // A JSON round trip, as in v9: the stored item shares nothing with the caller's object.
    const copy: unknown = input === undefined ? undefined : JSON.parse(JSON.stringify(input));
    let key: string | undefined;
    if (typeof copy === 'object' && copy !== null && !Array.isArray(copy)) {
      const item = copy as Record<string, unknown>;
      key = typeof item.key === 'string' ? item.key : undefined;
      const previous = key === undefined ? undefined : current.get(key);
      if (previous !== undefined) item.version = previous.version + 1;
      else item.version ??= 1;
    }
    const result = validate(copy);
    if (!result.ok) {
      const problems = result.errors.map((e) => `${e.path === '' ? '(root)' : e.path}: ${e.message}`);
      const name = key === undefined ? what : `${what} ${JSON.stringify(key)}`;
      throw new TypeError(`${method}: invalid ${name}: ${problems.join('; ')}`);
    }
    return result.value;
  }

  private async push(kind: DataKindName, item: VersionedItem): Promise<void> {
    await Promise.all([...this.running].map((source) => source.upsert(kind, item)));
  }
}
