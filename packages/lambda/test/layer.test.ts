// The Lambda layer builder: the zip's layout, that it is reproducible, and that its bundles load from
// /opt/nodejs/node_modules with nothing else installed, as they would in the Lambda runtime.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayer, type LayerBuildResult } from '../src/index.js';
import { unixModes } from './support/layer.js';

const BASE = 'nodejs/node_modules/@flagstaff';
let tmp: string;
let result: LayerBuildResult;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'flagstaff-layer-'));
  result = await buildLayer({ withStores: ['redis', 'dynamodb'], out: join(tmp, 'layer.zip') });
  for (const [path, data] of Object.entries(unzipSync(readFileSync(result.out)))) {
    const file = join(tmp, 'opt', path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, data);
  }
}, 60_000);

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function run(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const app = join(tmp, 'app');
  mkdirSync(app, { recursive: true });
  writeFileSync(join(app, 'check.cjs'), script);
  // Plain node: no tsx, no conditions, and a cwd outside the repository so its node_modules are not found.
  const child = spawn(process.execPath, ['check.cjs'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

describe('buildLayer', () => {
  it('writes one CommonJS package per bundle under nodejs/node_modules', () => {
    expect(result.entries.map((entry) => entry.path)).toEqual([
      'extensions/flagstaff',
      `${BASE}/lambda/index.js`,
      `${BASE}/lambda/package.json`,
      `${BASE}/node-server-sdk/index.js`,
      `${BASE}/node-server-sdk/package.json`,
      `${BASE}/store-dynamodb/index.js`,
      `${BASE}/store-dynamodb/package.json`,
      `${BASE}/store-redis/index.js`,
      `${BASE}/store-redis/package.json`,
    ]);
    expect(result.bytes).toBe(readFileSync(result.out).byteLength);
    const pkg = JSON.parse(readFileSync(join(tmp, 'opt', BASE, 'node-server-sdk/package.json'), 'utf8'));
    expect(pkg).toEqual({ name: '@flagstaff/node-server-sdk', version: '0.1.0', main: 'index.js' });
    // The extension is a Node script Lambda can execute: a shebang, and mode 0755 in the zip (Lambda
    // unpacks layers keeping the Unix mode; without the x bit the extension never starts).
    expect(
      readFileSync(join(tmp, 'opt', 'extensions/flagstaff'), 'utf8').startsWith('#!/usr/bin/env node\n'),
    ).toBe(true);
    expect(unixModes(readFileSync(result.out))).toMatchObject({
      'extensions/flagstaff': 0o100755,
      [`${BASE}/lambda/index.js`]: 0o100644,
    });
  });

  it('leaves the AWS SDK and, in the stores, the Flagstaff SDK to be required at run time', () => {
    const dynamo = readFileSync(join(tmp, 'opt', BASE, 'store-dynamodb/index.js'), 'utf8');
    const redis = readFileSync(join(tmp, 'opt', BASE, 'store-redis/index.js'), 'utf8');
    expect(dynamo).toContain('require("@flagstaff/node-server-sdk")');
    expect(dynamo).toContain('@aws-sdk/client-dynamodb');
    expect(redis).toContain('require("@flagstaff/node-server-sdk")');
    // ioredis is bundled: nothing else is installed in a layer.
    expect(redis).not.toContain('require("ioredis")');
  });

  it('is reproducible: the same sources give the same bytes', async () => {
    const again = await buildLayer({ withStores: ['dynamodb', 'redis'], out: join(tmp, 'again.zip') });
    expect(readFileSync(again.out).equals(readFileSync(result.out))).toBe(true);
  }, 60_000);

  it('loads from NODE_PATH=/opt/nodejs/node_modules with nothing else installed', async () => {
    const script = `
const assert = require('node:assert');
assert.throws(() => require.resolve('@aws-sdk/client-dynamodb'), 'the AWS SDK must not be reachable here');
const sdk = require('@flagstaff/node-server-sdk');
const lambda = require('@flagstaff/lambda');
assert.deepStrictEqual(Object.keys(lambda).sort(), ['getClient', 'getDataAge', 'withFlags']);
const { DynamoDBFeatureStore } = require('@flagstaff/store-dynamodb');
const { RedisFeatureStore } = require('@flagstaff/store-redis');
(async () => {
  const td = new sdk.integrations.TestData();
  await td.update(td.flag('layer-flag').booleanFlag().variationForAll(true));
  const client = sdk.init('sdk-key', { updateProcessor: td.getFactory(), sendEvents: false,
    logger: sdk.basicLogger({ level: 'none' }) });
  await client.waitForInitialization({ timeout: 5 });
  const value = await client.variation('layer-flag', { kind: 'user', key: 'u' }, false);
  await client.close();
  // Plain credentials and an endpoint: the store signs its own HTTP requests and never loads the AWS SDK.
  const store = DynamoDBFeatureStore('t', { clientOptions: { endpoint: 'http://127.0.0.1:1', region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' } } });
  const sdkCopies = Object.keys(require.cache).filter((path) => path.includes('node-server-sdk'));
  console.log(JSON.stringify({ value, store: typeof store, redis: typeof RedisFeatureStore, sdkCopies }));
})().catch((err) => { console.error(err); process.exit(1); });
`;
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_PATH: join(tmp, 'opt', 'nodejs', 'node_modules'),
    };
    const { code, output } = await run(script, env);
    expect(code, output).toBe(0);
    const report = JSON.parse(output.trim().split('\n').pop() ?? '{}');
    expect(report.value).toBe(true);
    expect(report.store).toBe('function');
    expect(report.redis).toBe('function');
    // The stores share the layer's single SDK bundle.
    expect(report.sdkCopies).toEqual([join(tmp, 'opt', BASE, 'node-server-sdk/index.js')]);
  }, 60_000);
});
