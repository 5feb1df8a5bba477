// `flagstaff dev` (what `npm start` runs): the service on SQLite with the demo project, dev.json for
// scripts, an SDK evaluating the demo flags, restarts that keep data, and a clean Ctrl+C.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as Flagstaff from '@flagstaff/node-server-sdk';
import { DynamoDBFeatureStore } from '@flagstaff/store-dynamodb';
import * as LaunchDarkly from '@launchdarkly/node-server-sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { type DevInfo, startDev } from '../src/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'flagstaff-dev-'));
  dirs.push(dir);
  return dir;
};
const silent = { error() {}, warn() {}, info() {}, debug() {} };

describe('flagstaff dev', () => {
  it('serves the demo project, writes dev.json, and the official SDK evaluates the demo flags', async () => {
    const dataDir = tempDir();
    const server = await startDev({ port: 0, relayPort: 0, dynamoDBPort: 0, host: '127.0.0.1', dataDir });
    try {
      const info = JSON.parse(readFileSync(join(dataDir, 'dev.json'), 'utf8')) as DevInfo;
      expect(info).toEqual(server.info);
      expect(Object.keys(info.environments).sort()).toEqual(['production', 'test']);
      const client = LaunchDarkly.init(info.environments.production!.sdkKey, {
        baseUri: info.url,
        streamUri: info.url,
        eventsUri: info.url,
        sendEvents: false,
        logger: silent,
      });
      try {
        await client.waitForInitialization({ timeout: 10 });
        expect(await client.variation('checkout-enabled', { kind: 'user', key: 'u1' }, false)).toBe(true);
        expect(
          await client.variationDetail(
            'staff-preview',
            { kind: 'user', key: 'u2', email: 'ann@example.com' },
            false,
          ),
        ).toEqual({
          value: true,
          variationIndex: 0,
          reason: { kind: 'RULE_MATCH', ruleIndex: 0, ruleId: 'example-staff' },
        });
        expect(
          await client.variation(
            'staff-preview',
            { kind: 'user', key: 'u3', email: 'bo@elsewhere.org' },
            true,
          ),
        ).toBe(false);
        const config = (await client.variation('pricing-config', { kind: 'user', key: 'u4' }, null)) as {
          trialDays: number;
        };
        expect(config.trialDays).toBe(14);
        // The 25% rollout: about a quarter of 400 users get the new search.
        let on = 0;
        for (let i = 0; i < 400; i++)
          if (await client.variation('new-search', { kind: 'user', key: `user-${i}` }, false)) on++;
        expect(on).toBeGreaterThan(60);
        expect(on).toBeLessThan(140);
      } finally {
        client.close();
      }
    } finally {
      await server.close();
    }
  });

  it('runs the relay: SDKs stream through it, and daemon mode reads the table it keeps current', async () => {
    const dataDir = tempDir();
    const server = await startDev({ port: 0, relayPort: 0, dynamoDBPort: 0, host: '127.0.0.1', dataDir });
    const { relay, environments } = server.info;
    const production = environments.production!;
    const official = LaunchDarkly.init(production.sdkKey, {
      baseUri: relay.url,
      streamUri: relay.url,
      eventsUri: relay.url,
      sendEvents: false,
      logger: silent,
    });
    const daemon = Flagstaff.init(production.sdkKey, {
      useLdd: true,
      sendEvents: false,
      logger: silent,
      featureStore: DynamoDBFeatureStore(relay.dynamoDBTable, {
        prefix: 'production',
        cacheTTL: 0,
        clientOptions: {
          endpoint: relay.dynamoDBEndpoint,
          region: 'us-east-1',
          credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
        },
      }),
    });
    try {
      await official.waitForInitialization({ timeout: 10 });
      await daemon.waitForInitialization({ timeout: 10 });
      const ann = { kind: 'user', key: 'u2', email: 'ann@example.com' };
      expect(await official.variation('staff-preview', ann, false)).toBe(true);
      expect(await daemon.variationDetail('staff-preview', ann, false)).toEqual({
        value: true,
        variationIndex: 0,
        reason: { kind: 'RULE_MATCH', ruleIndex: 0, ruleId: 'example-staff' },
      });
      const status = await fetch(`${relay.url}/status`);
      expect(status.status).toBe(200);
      expect(((await status.json()) as { status: string }).status).toBe('healthy');
    } finally {
      official.close();
      await daemon.close();
      await server.close();
    }
  });

  it('keeps its data and admin token across restarts without seeding twice', async () => {
    const dataDir = tempDir();
    const first = await startDev({ port: 0, relayPort: 0, dynamoDBPort: 0, host: '127.0.0.1', dataDir });
    const token = first.info.adminToken;
    const sdkKey = first.info.environments.production!.sdkKey;
    await first.close();
    const second = await startDev({ port: 0, relayPort: 0, dynamoDBPort: 0, host: '127.0.0.1', dataDir });
    try {
      expect(second.info.adminToken).toBe(token);
      expect(second.info.environments.production!.sdkKey).toBe(sdkKey);
      const res = await fetch(`${second.info.url}/api/v1/projects`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { items: unknown[] }).items).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it('runs as `npm start` does and shuts down cleanly on Ctrl+C (SIGINT)', async () => {
    const dataDir = tempDir();
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const child = spawn(
      process.execPath,
      [
        '--conditions=flagstaff-source',
        '--import',
        'tsx',
        'packages/cli/src/run.ts',
        'dev',
        '--port',
        '0',
        '--data-dir',
        dataDir,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!output.includes('Ctrl+C stops it.')) {
      if (Date.now() > deadline) throw new Error(`no banner; output so far:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(output).toMatch(/Admin token\s+api-/);
    expect(output).toMatch(/SDK key\s+sdk-/);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('shutting down');
  });

  it('refuses a bad port with a message', async () => {
    const { main } = await import('../src/index.js');
    const writes: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      writes.push(chunk);
      return true;
    }) as typeof process.stderr.write;
    try {
      expect(await main(['dev', '--port', 'abc'])).toBe(2);
    } finally {
      process.stderr.write = original;
    }
    expect(writes.join('')).toContain('--port must be a port number');
  });
});
