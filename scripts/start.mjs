// `npm start` will run the whole stack locally (flag service, dashboard, relay with an embedded
// DynamoDB-compatible store, demo data). Until those packages exist it says so plainly instead of
// pretending: see the README's status table.
const lines = [
  'Flagstaff: `npm start` will start the flag service, dashboard and relay once they are built.',
  'What exists today is the evaluation engine, @flagstaff/eval (packages/eval):',
  '  npm test                 runs its test suites (LaunchDarkly harness vectors, differential test)',
  '  npm run bench -- eval    compares it with the official LaunchDarkly SDK',
];
console.error(lines.join('\n'));
process.exitCode = 1;
