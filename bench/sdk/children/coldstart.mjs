// Cold start of one SDK as an ES module user sees it, run as its own `node` process by bench/sdk.
// Plain JavaScript on purpose: the process must load only Node and the SDK, not tsx.
// Arguments: package name ("-" for none: Node's own start-up), flag file, flag key, context JSON.
// Prints one JSON line of milliseconds since the process started (performance.now()).
const scriptStart = performance.now();
const [packageName = '-', file = '', flagKey = '', contextJson = '{}'] = process.argv.slice(2);

if (packageName === '-') {
  process.stdout.write(`${JSON.stringify({ scriptStart })}\n`);
} else {
  const sdk = await import(packageName);
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
  // Closed as an application would on shutdown; the process then exits once nothing holds it open.
  client.close();
  process.stdout.write(`${JSON.stringify({ scriptStart, imported, created, ready, firstValue, value })}\n`);
}
