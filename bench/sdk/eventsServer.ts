/**
 * A local stand-in for the events service, so both SDKs can run with events on without a network. It
 * accepts `POST <prefix>/bulk` and `POST <prefix>/diagnostic` with 202, as the service does, and tallies
 * what each prefix (one per SDK) delivered so the benchmark can check that events were really produced.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface Delivered {
  /** POSTs to `/bulk`. */
  payloads: number;
  /** Events by kind over all payloads (`index`, `summary`, `feature`, ...). */
  kinds: Map<string, number>;
  /** Sum of the counters of all summary events: the evaluations the SDK reported. */
  summarized: number;
  diagnostics: number;
}

export interface EventsServer {
  /** The `eventsUri` for an SDK whose deliveries are tallied under `prefix`. */
  uri(prefix: string): string;
  delivered(prefix: string): Delivered;
  close(): Promise<void>;
}

interface SummaryEvent {
  kind: 'summary';
  features?: Record<string, { counters?: { count?: number }[] }>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return (request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString('utf8');
}

export async function startEventsServer(): Promise<EventsServer> {
  const tallies = new Map<string, Delivered>();
  const tally = (prefix: string): Delivered => {
    let t = tallies.get(prefix);
    if (t === undefined) {
      t = { payloads: 0, kinds: new Map(), summarized: 0, diagnostics: 0 };
      tallies.set(prefix, t);
    }
    return t;
  };

  const server = createServer((request, response) => {
    const match = /^\/([^/]+)\/(bulk|diagnostic)$/.exec(request.url ?? '');
    if (request.method !== 'POST' || match === null) {
      response.writeHead(404).end();
      return;
    }
    const t = tally(match[1]!);
    readBody(request).then(
      (text) => {
        if (match[2] === 'diagnostic') {
          t.diagnostics++;
        } else {
          t.payloads++;
          for (const event of JSON.parse(text) as { kind: string }[]) {
            t.kinds.set(event.kind, (t.kinds.get(event.kind) ?? 0) + 1);
            if (event.kind !== 'summary') continue;
            for (const feature of Object.values((event as SummaryEvent).features ?? {})) {
              for (const counter of feature.counters ?? []) t.summarized += counter.count ?? 0;
            }
          }
        }
        response.writeHead(202).end();
      },
      () => response.writeHead(400).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    uri: (prefix) => `http://127.0.0.1:${port}/${prefix}`,
    delivered: (prefix) => {
      const t = tally(prefix);
      return { ...t, kinds: new Map(t.kinds) };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        // SDK connections are keep-alive; without this, close() would wait for them to time out.
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
