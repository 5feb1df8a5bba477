/**
 * `@unleash/proxy` in its own process, for the client-side evaluation comparison. The proxy needs an
 * Unleash server to fetch its toggles from; this process serves a stub of one on 127.0.0.1 that answers
 * `GET /client/features` with a fixed set of toggles (and accepts the client's register and metrics
 * posts), then starts the proxy's own `createApp` against it and reports the proxy's URL once
 * `GET /proxy` answers 200.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '@unleash/proxy';
import type { UnleashReport } from './protocol.js';

export const CLIENT_KEY = 'bench-proxy-key';

/** 50 toggles shaped like the relay benchmark's 50 flags (see index.ts): a fifth each of off, on, 50 %
 * rollout by user id, user-id targeting (not matching the benchmark's user), and a constraint that matches. */
export function unleashToggles(count: number): unknown {
  const features = Array.from({ length: count }, (_, i) => {
    const name = `toggle-${String(i).padStart(2, '0')}`;
    const kind = i % 5;
    const strategies =
      kind === 2
        ? [{ name: 'flexibleRollout', parameters: { rollout: '50', stickiness: 'userId', groupId: name } }]
        : kind === 3
          ? [{ name: 'userWithId', parameters: { userIds: 'u-1,u-2,u-3,u-4,u-5,u-6,u-7,u-8,u-9,u-10' } }]
          : kind === 4
            ? [
                {
                  name: 'default',
                  parameters: {},
                  constraints: [{ contextName: 'country', operator: 'IN', values: ['no', 'se'] }],
                },
              ]
            : [{ name: 'default', parameters: {} }];
    return {
      name,
      type: 'release',
      project: 'default',
      enabled: kind !== 0,
      stale: false,
      impressionData: false,
      strategies,
      variants: [],
    };
  });
  return { version: 2, features };
}

const send = (message: UnleashReport): void => {
  process.send?.(message);
};

async function main(): Promise<void> {
  const toggles = JSON.stringify(unleashToggles(Number(process.argv[2] ?? 50)));
  const upstream = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.startsWith('/api/client/features')) {
      res.writeHead(200, { 'content-type': 'application/json', etag: '"bench-1"' });
      res.end(toggles);
      return;
    }
    req.resume();
    res.writeHead(202).end();
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const upstreamPort = (upstream.address() as AddressInfo).port;

  const app = createApp({
    unleashUrl: `http://127.0.0.1:${upstreamPort}/api/`,
    unleashApiToken: 'bench-upstream-token',
    clientKeys: [CLIENT_KEY],
    refreshInterval: 3_600_000,
    metricsInterval: 3_600_000,
    logger: { debug() {}, info() {}, warn() {}, error: console.error, fatal: console.error },
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const deadline = performance.now() + 10_000;
  for (;;) {
    const res = await fetch(`${url}/proxy?userId=probe`, { headers: { authorization: CLIENT_KEY } });
    await res.text();
    if (res.status === 200) break;
    if (performance.now() > deadline) throw new Error(`GET /proxy still answers ${res.status} after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  send({ type: 'started', url });
  process.on('disconnect', () => process.exit(0));
}

if (process.send) {
  main().catch((err: unknown) => {
    send({ type: 'failure', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    setTimeout(() => process.exit(1), 100);
  });
}
