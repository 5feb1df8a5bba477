// Child process for the `shutdown` flush-policy test: wraps a handler with flush: 'shutdown', invokes
// it N times, says "ready", and then idles the way a frozen-and-thawed Lambda runtime would until the
// parent sends SIGTERM.
import { getClient, withFlags } from '../src/handler.js';

const url = process.env.FLAGS_URL ?? '';
const count = Number(process.env.INVOCATIONS ?? '5');

const handler = withFlags(
  async (_event: unknown) => getClient().variation('flag-a', { kind: 'user', key: 'u' }, false),
  {
    sdkKey: 'sdk-test',
    flush: 'shutdown',
    sdkOptions: {
      baseUri: url,
      streamUri: url,
      eventsUri: url,
      diagnosticOptOut: true,
      // Long enough that only the SIGTERM path can deliver the events during the test.
      flushInterval: 300,
    },
  },
);

for (let i = 0; i < count; i++) {
  const value = await handler({}, {});
  if (value !== true) throw new Error(`invocation ${i} got ${value}`);
}
// The Lambda runtime's poll loop keeps the process alive; this stands in for it.
setInterval(() => {}, 60_000);
process.stdout.write('ready\n');
