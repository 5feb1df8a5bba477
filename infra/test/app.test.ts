// The CDK app as `npx cdk synth` runs it: .env.example documents exactly what the app reads, mistakes in
// .env are reported together, the whole stack passes cdk-nag, and the CLI synthesises offline, without
// AWS credentials, from a fresh checkout's .env.example.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { Stack, aws_secretsmanager as secretsmanager } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseAppConfig, type Variables } from '../lib/app-config.js';
import { FlagstaffStack } from '../lib/stack.js';
import { acknowledgements, ENV, INFRA_DIR, nagFindings, tempDir, testApp } from './support/cdk.js';

const EXAMPLE = parseEnv(readFileSync(join(INFRA_DIR, '.env.example'), 'utf8')) as Variables;

/** The variable names parseAppConfig looks at, recorded through a proxy. */
function namesRead(vars: Variables): Set<string> {
  const read = new Set<string>();
  const proxy = new Proxy(vars, {
    get(target, name) {
      if (typeof name === 'string') read.add(name);
      return target[name as string];
    },
  });
  parseAppConfig(proxy);
  return read;
}

describe('.env.example', () => {
  it('documents every variable the app reads, and the app reads every one it documents', () => {
    const documented = new Set(Object.keys(EXAMPLE));
    const read = namesRead(EXAMPLE);
    // CDK_DEFAULT_* come from the CDK CLI (the profile), not from .env.
    const undocumented = [...read].filter(
      (name) => !documented.has(name) && !name.startsWith('CDK_DEFAULT_'),
    );
    expect(undocumented).toEqual([]);
    expect([...documented].filter((name) => !read.has(name))).toEqual([]);
  });

  it('configures the whole stack with the defaults of README.md', () => {
    const config = parseAppConfig(EXAMPLE);
    expect(config).toMatchObject({
      region: 'us-east-1',
      stackName: 'Flagstaff',
      deploy: { service: true, relay: true, syncFunction: false, layer: true },
      relay: {
        environments: [{ name: 'Production' }],
        sdkKeysSecret: 'flagstaff/sdk-keys',
        serveClientSide: false,
        sizing: { cpu: 512, memoryLimitMiB: 1024, desiredCount: 2, maxCount: 6 },
      },
      table: { replicaRegions: [] },
      layer: { stores: ['dynamodb'] },
    });
    expect(config.account).toBeUndefined();
  });
});

describe('parseAppConfig', () => {
  it('refuses SDK keys in .env, since they would be written into the template', () => {
    expect(() => parseAppConfig({ ...EXAMPLE, LD_ENV_Production: 'sdk-0123' })).toThrowError(
      /LD_ENV_Production: keys do not go in \.env/,
    );
  });

  it('lists every mistake at once', () => {
    let message = '';
    try {
      parseAppConfig({
        ...EXAMPLE,
        DEPLOY_RELAY: 'maybe',
        RELAY_CPU: 'lots',
        RELAY_ENVIRONMENTS: 'Prod-1',
        STREAM_URI: 'flags.example.com',
        TABLE_REMOVAL_POLICY: 'snapshot',
        LAYER_STORES: 'mongodb',
        CPU_ARCHITECTURE: 'risc-v',
        TABLE_REPLICA_REGIONS: 'us-east-1',
      });
    } catch (err) {
      message = (err as Error).message;
    }
    for (const expected of [
      'DEPLOY_RELAY must be true or false',
      'RELAY_CPU must be a whole number',
      '"Prod-1" must be letters, digits and _',
      'STREAM_URI must be an http(s) URL',
      'TABLE_REMOVAL_POLICY must be retain or destroy',
      'unknown store "mongodb"',
      'CPU_ARCHITECTURE must be X86_64 or ARM64',
      "lists us-east-1, the stack's own region",
    ]) {
      expect(message).toContain(expected);
    }
  });

  it('needs the SDK keys secret and an environment only when a relay or sync function is deployed', () => {
    const bare = { ...EXAMPLE, RELAY_ENVIRONMENTS: '', SDK_KEYS_SECRET: '' };
    expect(() => parseAppConfig(bare)).toThrowError(/RELAY_ENVIRONMENTS[\s\S]*SDK_KEYS_SECRET/);
    expect(parseAppConfig({ ...bare, DEPLOY_RELAY: 'false' }).deploy).toMatchObject({
      service: true,
      relay: false,
    });
  });
});

describe('FlagstaffStack from .env.example with every part deployed', () => {
  const config = parseAppConfig({
    ...EXAMPLE,
    DEPLOY_SYNC_FUNCTION: 'true',
    TABLE_REPLICA_REGIONS: 'eu-west-1',
  });
  // Bundling (the layer, the sync function) is skipped here: layer.test.ts, sync-function.test.ts and the
  // CLI synth below run it for real.
  const app = testApp({ bundling: false });
  const stack = new FlagstaffStack(app, config.stackName, { config, env: { region: config.region } });
  const template = Template.fromStack(stack);

  it('shares one VPC and one ECS cluster between the flag service and the relay', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::ECS::Cluster', 1);
    template.resourceCountIs('AWS::ECS::Service', 2);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.dynamodb']] },
    });
  });

  it('points the relay at the flag service deployed beside it', () => {
    const relayTask = Object.values(template.findResources('AWS::ECS::TaskDefinition')).find((task) =>
      JSON.stringify(task).includes('"USE_DYNAMODB"'),
    )!;
    const environment = Object.fromEntries(
      (relayTask.Properties.ContainerDefinitions[0].Environment as { Name: string; Value: unknown }[]).map(
        (entry) => [entry.Name, entry.Value],
      ),
    );
    const serviceUrl = {
      'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [expect.stringMatching(/^ServiceLB/), 'DNSName'] }]],
    };
    expect(environment).toMatchObject({
      STREAM_URI: serviceUrl,
      BASE_URI: serviceUrl,
      EVENTS_HOST: serviceUrl,
    });
  });

  it('creates a replicated table, a layer and a sync function per environment', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: Match.arrayWith([Match.objectLike({ Region: 'eu-west-1' })]),
    });
    template.resourceCountIs('AWS::Lambda::LayerVersion', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ FLAGSTAFF_SDK_KEY_SECRET_FIELD: 'Production' }) },
    });
  });

  it('outputs what an operator needs next', () => {
    expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([
      'AdminTokenSecretArn',
      'LayerVersionArn',
      'RelayUrl',
      'ServiceUrl',
      'SyncProductionUrl',
      'SyncProductionWebhookSecretArn',
      'TableName',
    ]);
  });

  it('holds no secret value: every secret is generated at deployment or imported by name', () => {
    const json = JSON.stringify(template.toJSON());
    expect(json).not.toMatch(/"SecretString":/);
    for (const secret of Object.values(template.findResources('AWS::SecretsManager::Secret'))) {
      expect(secret.Properties.GenerateSecretString).toBeDefined();
    }
  });

  it("passes cdk-nag's AwsSolutions checks, every acknowledgement with its reason", () => {
    expect(nagFindings(stack)).toEqual([]);
    const ours = acknowledgements(stack).filter((entry) => entry.id.startsWith('AwsSolutions-'));
    expect(ours.length).toBeGreaterThan(10);
    for (const entry of ours) expect(entry.reason.length, `${entry.id} at ${entry.path}`).toBeGreaterThan(40);
  });
});

describe('the nag check itself', () => {
  it('reports what is not acknowledged', () => {
    const stack = new Stack(testApp(), 'Careless', { env: ENV });
    new secretsmanager.Secret(stack, 'NeverRotated');
    expect(nagFindings(stack)).toEqual([
      expect.stringMatching(/^AwsSolutions-SMG4 at Careless\/NeverRotated/),
    ]);
  });
});

describe('cdk synth through the CLI', () => {
  it('synthesises the whole app offline, without AWS credentials, from .env.example', async () => {
    const out = tempDir('flagstaff-synth-');
    const home = tempDir('flagstaff-home-');
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        'npm',
        ['run', 'cdk', '--', 'synth', '--quiet', '--no-notices', '--output', out],
        {
          cwd: INFRA_DIR,
          timeout: 240_000,
          env: {
            PATH: process.env.PATH ?? '',
            // An empty home: no ~/.aws profile or credentials to find.
            HOME: home,
            // What `cp .env.example .env` gives a fresh checkout, plus the sync function so that every
            // construct (and both bundlings) runs.
            FLAGSTAFF_ENV_FILE: '.env.example',
            DEPLOY_SYNC_FUNCTION: 'true',
            // Nothing to ask the network: no instance metadata, no version check, no telemetry.
            AWS_EC2_METADATA_DISABLED: 'true',
            CDK_DISABLE_VERSION_CHECK: 'true',
            CDK_DISABLE_CLI_TELEMETRY: 'true',
          },
        },
        (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });
    expect(code, stderr).toBe(0);
    const template = JSON.parse(readFileSync(join(out, 'Flagstaff.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string }>;
    };
    const types = new Set(Object.values(template.Resources).map((resource) => resource.Type));
    for (const type of [
      'AWS::ECS::Service',
      'AWS::ElasticLoadBalancingV2::LoadBalancer',
      'AWS::DynamoDB::GlobalTable',
      'AWS::RDS::DBCluster',
      'AWS::Lambda::LayerVersion',
      'AWS::Lambda::Function',
      'AWS::Lambda::Url',
    ]) {
      expect(types.has(type), type).toBe(true);
    }
    // cdk-nag runs as a validation plugin of the app: a finding without an acknowledgement fails the
    // synth (exit code 1, with the rule in the output).
    expect(stderr).not.toMatch(/AwsSolutions-/);
  }, 300_000);
});
