// Heap retained by one SDK for a set of flags, run as its own `node --expose-gc` process by bench/sdk.
// Plain JavaScript, so the heap holds Node, the SDK and the data, and not tsx.
// Arguments: package name, flags file, warm-up flags file, contexts file (JSON arrays).
// Prints one JSON line: heapUsed in bytes at each step, and a digest of every evaluation detail.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const [packageName = '', flagsFile = '', warmUpFile = '', contextsFile = ''] = process.argv.slice(2);
const { init, integrations } = await import(packageName);
const silent = { error() {}, warn() {}, info() {}, debug() {} };

// Parsed before the baseline and kept until the end: the SDKs copy what they are given (a JSON round
// trip in both TestData implementations), so the heap difference is what the SDK itself holds.
const flags = JSON.parse(readFileSync(flagsFile, 'utf8'));
const contexts = JSON.parse(readFileSync(contextsFile, 'utf8'));

async function startClient() {
  const td = new integrations.TestData();
  const client = init('sdk-key-heap', {
    updateProcessor: td.getFactory(),
    sendEvents: false,
    diagnosticOptOut: true,
    logger: silent,
  });
  await client.waitForInitialization({ timeout: 10 });
  return { td, client };
}

async function load(td, list) {
  for (const flag of list) await td.usePreconfiguredFlag(flag);
}

/** Keys sorted and undefined dropped, so equal details give equal text in both SDKs. */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

async function evaluateAll(client, list, digest, reasons) {
  for (const flag of list) {
    for (const context of contexts) {
      const detail = await client.variationDetail(flag.key, context, 'heap-default');
      digest?.update(`${flag.key} ${canonical(detail)}\n`);
      if (reasons) reasons[detail.reason.kind] = (reasons[detail.reason.kind] ?? 0) + 1;
    }
  }
}

/** heapUsed after full collections, with turns of the event loop between them for pending callbacks. */
async function settledHeap() {
  for (let i = 0; i < 4; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    globalThis.gc();
  }
  return process.memoryUsage().heapUsed;
}

// Warm-up on other flags in a client that is then dropped: the SDK's code is compiled and its lazily
// created module state exists before the baseline, so the steps below count data, not code.
{
  const warmUpFlags = JSON.parse(readFileSync(warmUpFile, 'utf8'));
  const { td, client } = await startClient();
  await load(td, warmUpFlags);
  await evaluateAll(client, warmUpFlags);
  await client.close();
}

const digest = createHash('sha256');
const reasons = {};
const { td, client } = await startClient();
const baseline = await settledHeap();
await load(td, flags);
const afterLoad = await settledHeap();
await evaluateAll(client, flags, digest, reasons);
const afterEvaluation = await settledHeap();
await client.close();
process.stdout.write(
  `${JSON.stringify({ baseline, afterLoad, afterEvaluation, digest: digest.digest('hex'), reasons })}\n`,
);
