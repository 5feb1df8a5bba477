// Cold start of one SDK as a CommonJS user sees it (`require`); see coldstart.mjs, which this mirrors.
const scriptStart = performance.now();
const [packageName = '-', file = '', flagKey = '', contextJson = '{}'] = process.argv.slice(2);

async function main() {
  if (packageName === '-') {
    process.stdout.write(`${JSON.stringify({ scriptStart })}\n`);
    return;
  }
  const sdk = require(packageName);
  const imported = performance.now();
  const silent = { error() {}, warn() {}, info() {}, debug() {} };
  const client = sdk.init('sdk-key-cold-start', {
    updateProcessor: new sdk.integrations.FileDataSourceFactory({ paths: [file] }).getFactory(),
    sendEvents: false,
    diagnosticOptOut: true,
    logger: silent,
  });
  const created = performance.now();
  await client.waitForInitialization({ timeout: 10 });
  const ready = performance.now();
  const value = await client.variation(flagKey, JSON.parse(contextJson), 'cold-start-default');
  const firstValue = performance.now();
  client.close();
  process.stdout.write(`${JSON.stringify({ scriptStart, imported, created, ready, firstValue, value })}\n`);
}

main();
