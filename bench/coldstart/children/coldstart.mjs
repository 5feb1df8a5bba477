// coldstart.cjs for an ES module Lambda handler (`import`), our packages only: the seed's are CommonJS,
// and its Lambda code loads them with `require`. Same argument and output as coldstart.cjs.
const scriptStart = performance.now();
const config = JSON.parse(process.argv[2] ?? '{}');

const silent = { error() {}, warn() {}, info() {}, debug() {} };
const [LaunchDarkly, { DynamoDBFeatureStore }] = await Promise.all([
  import(config.sdkModule),
  import(config.storeModule),
]);
const required = performance.now();
const clientOptions =
  config.credentials === 'env'
    ? { endpoint: config.endpoint }
    : {
        endpoint: config.endpoint,
        region: config.region,
        credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      };
const client = LaunchDarkly.init('sdk-key-cold-start', {
  useLdd: true,
  featureStore: DynamoDBFeatureStore(config.table, { prefix: config.prefix, clientOptions }),
  sendEvents: false,
  diagnosticOptOut: true,
  logger: silent,
});
const created = performance.now();
await client.waitForInitialization({ timeout: 10 });
const ready = performance.now();
const value = await client.variation(config.flagKey, config.context, 'cold-start-default');
const firstValue = performance.now();
// CommonJS packages imported from ESM are loaded by the CommonJS loader, so they show in its cache.
const { createRequire } = await import('node:module');
const loaded = Object.keys(createRequire(import.meta.url).cache);
const awsSdkV3 = loaded.some((path) => path.includes('/@aws-sdk/client-dynamodb/'));
const out = { scriptStart, required, created, ready, firstValue, value, awsSdkV3 };
if (config.verify) out.all = (await client.allFlagsState(config.context)).allValues();
client.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
