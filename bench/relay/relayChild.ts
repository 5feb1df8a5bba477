/**
 * The relay, alone in this process so that its memory can be read on its own: `startRelay` as a
 * deployment configures it (LaunchDarkly's relay variables), one environment, pointed at the flag
 * service the parent hosts, no store and no event forwarding. The parent asks for
 * `process.memoryUsage()`, taken after a full collection (the parent starts this process with --expose-gc).
 */
import { loadConfig, type Relay, startRelay } from '@flagstaff/relay';
import type { RelayCommand, RelayReport } from './protocol.js';

let relay: Relay | undefined;

const send = (message: RelayReport): void => {
  process.send?.(message);
};

const quiet = { debug() {}, info() {}, warn() {}, error: (...args: unknown[]) => console.error(...args) };

process.on('message', (message: RelayCommand) => {
  if (message.type === 'memory') {
    (globalThis as { gc?: () => void }).gc?.();
    const { rss, heapUsed } = process.memoryUsage();
    send({ type: 'memory', id: message.id, rss, heapUsed });
    return;
  }
  const env: Record<string, string> = {
    PORT: '0',
    STREAM_URI: message.serviceUrl,
    BASE_URI: message.serviceUrl,
    [`LD_ENV_${message.envKey}`]: message.sdkKey,
    [`LD_CLIENT_SIDE_ID_${message.envKey}`]: message.clientSideId,
  };
  startRelay(loadConfig({ env, argv: [] }), { host: '127.0.0.1', logger: quiet }).then(
    (started) => {
      relay = started;
      send({ type: 'started', url: started.url });
    },
    (err: unknown) => {
      send({ type: 'failure', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    },
  );
});

process.on('disconnect', () => {
  void (relay?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});
