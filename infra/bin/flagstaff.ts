// The CDK app (cdk.json runs this file): one Flagstaff stack configured by infra/.env. Synthesises
// offline: nothing here calls AWS, and the account may stay unset until deployment.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { parseAppConfig, readVariables } from '../lib/app-config.js';
import { AwsSolutionsChecks } from '../lib/nag.js';
import { FlagstaffStack } from '../lib/stack.js';

// infra/.env, or another file (one per stage, say) named by FLAGSTAFF_ENV_FILE, relative to infra/.
const infraDir = fileURLToPath(new URL('..', import.meta.url));
const envFile = resolve(infraDir, process.env.FLAGSTAFF_ENV_FILE || '.env');
let config: ReturnType<typeof parseAppConfig>;
try {
  config = parseAppConfig(readVariables(envFile));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n(read from ${envFile}; see infra/.env.example)\n`);
  process.exit(1);
}

const app = new App();
new FlagstaffStack(app, config.stackName, {
  config,
  env: { account: config.account, region: config.region },
  description:
    'Flagstaff feature flags: flag service, relay, DynamoDB flag table, Lambda layer and sync function',
});
// AWS's best-practice rules on every synth: a finding without a reasoned suppression fails it.
if (config.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
