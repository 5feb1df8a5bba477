import os from 'node:os';
import { Context, ContextError, type Flag } from '@flagstaff/eval';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LDOptions } from '../src/api/options.js';
import {
  createEventProcessor,
  type EventProcessor,
  type EventProcessorOptions,
} from '../src/events/index.js';
import type { Config } from '../src/options/config.js';
import { SDK_NAME, SDK_VERSION } from '../src/version.js';
import { type EventsServer, eventsConfig, startEventsServer } from './support/eventsServer.js';

// Diagnostic events (spec §6.2): the init event, the periodic statistics, and their independence
// from analytics flushes.

function ctx(input: unknown): Context {
  const context = Context.from(input);
  if (context instanceof ContextError) throw new Error(context.message);
  return context;
}

const flag: Flag = {
  key: 'f1',
  version: 1,
  on: true,
  variations: [false, true],
  fallthrough: { variation: 1 },
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let server: EventsServer;
const open: EventProcessor[] = [];

beforeEach(async () => {
  server = await startEventsServer();
});

afterEach(async () => {
  for (const p of open.splice(0)) await p.close();
  await server.close();
});

function processor(
  options: LDOptions = {},
  overrides: Partial<Config> = {},
  processorOptions: EventProcessorOptions = {},
): EventProcessor {
  const p = createEventProcessor(
    eventsConfig(server.url, { diagnosticOptOut: false, ...options }, overrides),
    {
      retryDelayMs: 20,
      ...processorOptions,
    },
  );
  open.push(p);
  return p;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function evaluate(p: EventProcessor, key: string): void {
  p.recordEvaluation({
    context: ctx({ kind: 'user', key }),
    flagKey: 'f1',
    flag,
    value: true,
    default: false,
    variation: 1,
    reason: { kind: 'FALLTHROUGH' },
    withReason: false,
  });
}

describe('diagnostic-init', () => {
  it('is posted at start with the SDK, configuration and platform', async () => {
    const now = 1_700_000_000_000;
    processor(
      {
        wrapperName: 'wrap',
        wrapperVersion: '1.2',
        capacity: 500,
        timeout: 4,
        flushInterval: 3600,
        pollInterval: 60,
        stream: false,
        allAttributesPrivate: true,
        contextKeysCapacity: 50,
        contextKeysFlushInterval: 120,
        diagnosticRecordingInterval: 300,
      },
      {},
      { now: () => now, dataStoreType: 'DynamoDB' },
    );
    await server.waitFor('/diagnostic', 1);
    const [req] = server.diagnostic();
    expect(req!.method).toBe('POST');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers.authorization).toBe('sdk-key-123456');
    expect(req!.headers['x-launchdarkly-event-schema']).toBeUndefined();
    expect(req!.headers['x-launchdarkly-payload-id']).toBeUndefined();
    const event = req!.json as { id: { diagnosticId: string } };
    expect(event.id.diagnosticId).toMatch(UUID);
    expect(event).toEqual({
      kind: 'diagnostic-init',
      id: { diagnosticId: event.id.diagnosticId, sdkKeySuffix: '123456' },
      creationDate: now,
      sdk: { name: SDK_NAME, version: SDK_VERSION, wrapperName: 'wrap', wrapperVersion: '1.2' },
      configuration: {
        customBaseURI: true,
        customStreamURI: true,
        customEventsURI: true,
        eventsCapacity: 500,
        connectTimeoutMillis: 4000,
        socketTimeoutMillis: 4000,
        eventsFlushIntervalMillis: 3_600_000,
        pollingIntervalMillis: 60_000,
        reconnectTimeMillis: 1000,
        contextKeysFlushIntervalMillis: 120_000,
        diagnosticRecordingIntervalMillis: 300_000,
        streamingDisabled: true,
        usingRelayDaemon: false,
        offline: false,
        allAttributesPrivate: true,
        contextKeysCapacity: 50,
        usingProxy: false,
        usingProxyAuthenticator: false,
        dataStoreType: 'DynamoDB',
      },
      platform: {
        name: 'Node',
        osArch: os.arch(),
        osName: expect.any(String),
        osVersion: os.version(),
        nodeVersion: process.versions.node,
      },
    });
  });

  it('reports the store description, or memory', async () => {
    const store = { getDescription: () => 'Redis' } as unknown as LDOptions['featureStore'];
    processor({ featureStore: store });
    processor();
    await server.waitFor('/diagnostic', 2);
    const types = server
      .diagnostic()
      .map((r) => (r.json as { configuration: { dataStoreType: string } }).configuration.dataStoreType);
    expect(types.sort()).toEqual(['Redis', 'memory']);
  });

  it('is not sent with diagnosticOptOut', async () => {
    const p = processor({ diagnosticOptOut: true }, { diagnosticRecordingIntervalMs: 20 });
    evaluate(p, 'u');
    await p.flush();
    await sleep(60);
    expect(server.diagnostic()).toHaveLength(0);
  });
});

describe('periodic diagnostic events', () => {
  it('report the statistics of each period', async () => {
    const p = processor({ capacity: 2 }, { diagnosticRecordingIntervalMs: 150 });
    await server.waitFor('/diagnostic', 1);
    const init = server.diagnostic()[0]!.json as { id: unknown; creationDate: number };
    evaluate(p, 'a'); // index a
    evaluate(p, 'a'); // deduplicated
    evaluate(p, 'a'); // deduplicated
    evaluate(p, 'b'); // index b
    evaluate(p, 'c'); // index c: over capacity
    p.recordStreamInit?.({ timestamp: 5, failed: true, durationMillis: 70 });
    p.recordStreamInit?.({ timestamp: 80, failed: false, durationMillis: 30 });
    expect(await p.flush()).toEqual({ delivered: 3, dropped: 1 });
    await server.waitFor('/diagnostic', 2);
    const stats = server.diagnostic()[1]!.json as { creationDate: number };
    expect(server.diagnostic()[1]!.headers['x-launchdarkly-payload-id']).toBeUndefined();
    expect(stats).toEqual({
      kind: 'diagnostic',
      id: init.id,
      creationDate: expect.any(Number),
      dataSinceDate: init.creationDate,
      droppedEvents: 1,
      deduplicatedUsers: 2,
      eventsInLastBatch: 3,
      streamInits: [
        { timestamp: 5, failed: true, durationMillis: 70 },
        { timestamp: 80, failed: false, durationMillis: 30 },
      ],
    });
    // The next period starts empty, apart from the size of the last batch.
    await server.waitFor('/diagnostic', 3);
    expect(server.diagnostic()[2]!.json).toMatchObject({
      dataSinceDate: stats.creationDate,
      droppedEvents: 0,
      deduplicatedUsers: 0,
      eventsInLastBatch: 3,
      streamInits: [],
    });
  });

  it('never delay a flush', async () => {
    server.replyToDiagnosticWith({ status: 202, delayMs: 20_000 });
    const p = processor();
    await sleep(20);
    evaluate(p, 'a');
    const started = Date.now();
    expect(await p.flush()).toEqual({ delivered: 2, dropped: 0 });
    // The diagnostic answer takes 20 s; a flush that waited for it would take at least that long.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('wait while a flush is delivering', async () => {
    const p = processor({ flushInterval: 0.02 }, { diagnosticRecordingIntervalMs: 20 });
    await server.waitFor('/diagnostic', 1);
    server.replyWith({ status: 202, delayMs: 200 });
    evaluate(p, 'a');
    let diagnosticsDuringFlush = -1;
    const flushing = p.flush().then(() => {
      diagnosticsDuringFlush = server.diagnostic().length;
    });
    const before = server.diagnostic().length;
    await flushing;
    // The stats event that fell due during the flush went out afterwards, none during it.
    expect(diagnosticsDuringFlush).toBe(before);
    await server.waitFor('/diagnostic', before + 1);
  });

  it('stop on close, with a pending retry cancelled', async () => {
    const p = processor({}, { diagnosticRecordingIntervalMs: 100 }, { retryDelayMs: 300 });
    server.replyToDiagnosticWith({ status: 503 });
    await server.waitFor('/diagnostic', 1);
    await p.close();
    await sleep(400);
    expect(server.diagnostic()).toHaveLength(1);
  });
});
