// A DataSourceContext that records what a data source does, for the TestData and file data source tests
// (they run without a client or store).
import type {
  DataKindName,
  DataSourceContext,
  FullDataSet,
  VersionedItem,
} from '../../src/api/dataSource.js';
import type { LDLogger } from '../../src/api/logger.js';
import type { Config } from '../../src/options/config.js';

export type RecordedCall =
  | { type: 'init'; data: FullDataSet }
  | { type: 'upsert'; kind: DataKindName; item: VersionedItem }
  | { type: 'ready' }
  | { type: 'interrupted'; error: Error }
  | { type: 'failed'; error: Error };

export interface Recorder {
  context: DataSourceContext;
  /** Every updates/status call, in order. */
  calls: RecordedCall[];
  logs: { level: keyof LDLogger; text: string }[];
  of<T extends RecordedCall['type']>(type: T): Extract<RecordedCall, { type: T }>[];
}

/** While `behaviour.failWrites` is true, init and upsert reject, like a broken persistent store. */
export function recordingContext(behaviour: { failWrites?: boolean } = {}): Recorder {
  const calls: RecordedCall[] = [];
  const logs: Recorder['logs'] = [];
  const log =
    (level: keyof LDLogger) =>
    (...args: unknown[]) => {
      logs.push({ level, text: args.map(String).join(' ') });
    };
  const write = async (call: RecordedCall) => {
    // Asynchronous like a real store, so callers cannot depend on writes applying synchronously.
    await new Promise((resolve) => setImmediate(resolve));
    if (behaviour.failWrites) throw new Error('store is broken');
    calls.push(call);
  };
  const context: DataSourceContext = {
    // Data sources under test never read the configuration.
    config: {} as Config,
    logger: { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') },
    updates: {
      init: (data) => write({ type: 'init', data }),
      upsert: (kind, item) => write({ type: 'upsert', kind, item }),
    },
    status: {
      ready: () => calls.push({ type: 'ready' }),
      interrupted: (error) => calls.push({ type: 'interrupted', error }),
      failed: (error) => calls.push({ type: 'failed', error }),
    },
  };
  return {
    context,
    calls,
    logs,
    of: <T extends RecordedCall['type']>(type: T) =>
      calls.filter((call): call is Extract<RecordedCall, { type: T }> => call.type === type),
  };
}
