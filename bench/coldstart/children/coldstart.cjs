// One Lambda-style cold start in daemon mode, as its own `node` process started by bench/coldstart:
// require the SDK and its DynamoDB store (CommonJS, as the seed's Lambda code does), init with
// `useLdd: true`, wait for initialization, evaluate one flag, close, exit. Plain JavaScript on purpose:
// the process must load only Node, the SDK, the store and what they load, not tsx.
// Argument: one JSON object (built in bench/coldstart/index.ts). Prints one JSON line of milliseconds
// since the process started (performance.now()) after each step.
const scriptStart = performance.now();
const config = JSON.parse(process.argv[2] ?? '{}');

async function main() {
  const silent = { error() {}, warn() {}, info() {}, debug() {} };
  let client;
  let required;
  let awsClient;
  if (config.sdk === 'seed') {
    const LaunchDarkly = require(config.sdkModule);
    const { DynamoDBFeatureStore } = require(config.storeModule);
    required = performance.now();
    // launchdarkly-node-server-sdk-dynamodb@4 passes clientOptions to AWS SDK v2's DocumentClient.
    const clientOptions =
      config.credentials === 'env'
        ? { endpoint: config.endpoint }
        : {
            endpoint: config.endpoint,
            region: config.region,
            accessKeyId: config.accessKeyId,
            secretAccessKey: config.secretAccessKey,
          };
    client = LaunchDarkly.init('sdk-key-cold-start', {
      useLdd: true,
      featureStore: DynamoDBFeatureStore(config.table, { prefix: config.prefix, clientOptions }),
      sendEvents: false,
      diagnosticOptOut: true,
      logger: silent,
    });
  } else {
    const LaunchDarkly = require(config.sdkModule);
    const { DynamoDBFeatureStore } = require(config.storeModule);
    const storeOptions = { prefix: config.prefix };
    if (config.ownClient) {
      // The application brings its own AWS SDK v3 client, as it may to share one or configure it.
      const { DynamoDBClient } = require(config.awsSdkModule);
      awsClient = new DynamoDBClient({
        endpoint: config.endpoint,
        region: config.region,
        credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      });
      storeOptions.dynamoDBClient = awsClient;
    } else {
      // useAwsSdk: the store creates an AWS SDK v3 client from clientOptions, loading the SDK on first use.
      if (config.useAwsSdk) storeOptions.useAwsSdk = true;
      storeOptions.clientOptions =
        config.credentials === 'env'
          ? { endpoint: config.endpoint }
          : {
              endpoint: config.endpoint,
              region: config.region,
              credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
            };
    }
    required = performance.now();
    client = LaunchDarkly.init('sdk-key-cold-start', {
      useLdd: true,
      featureStore: DynamoDBFeatureStore(config.table, storeOptions),
      sendEvents: false,
      diagnosticOptOut: true,
      logger: silent,
    });
  }
  const created = performance.now();
  await (config.sdk === 'seed'
    ? client.waitForInitialization()
    : client.waitForInitialization({ timeout: 10 }));
  const ready = performance.now();
  const value = await client.variation(config.flagKey, config.context, 'cold-start-default');
  const firstValue = performance.now();
  // Whether AWS SDK v3 was loaded at all (after the timings, so the check costs them nothing).
  const awsSdkV3 = Object.keys(require.cache).some((path) => path.includes('/@aws-sdk/client-dynamodb/'));
  const out = { scriptStart, required, created, ready, firstValue, value, awsSdkV3 };
  // Verification runs only (never timed): every flag's value, to compare both SDKs on the whole table.
  if (config.verify) out.all = (await client.allFlagsState(config.context)).allValues();
  client.close();
  // The store never destroys a client it was given; its owner does.
  awsClient?.destroy();
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exitCode = 1;
});
