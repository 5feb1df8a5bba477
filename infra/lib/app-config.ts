// The CDK app's configuration: the variables of infra/.env (documented in .env.example), checked all at
// once so that one synth names every mistake.
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { RemovalPolicy } from 'aws-cdk-lib';
import type { ServiceSizing } from './fargate-web-service.js';
import type { LayerStore } from './layer.js';

export interface AppConfig {
  account?: string;
  region?: string;
  stackName: string;
  deploy: { service: boolean; relay: boolean; syncFunction: boolean; layer: boolean };
  relay: {
    environments: { name: string; clientSideId?: string; prefix?: string }[];
    /** Secret (name or ARN) holding one SDK key per environment, as JSON fields named after them. */
    sdkKeysSecret?: string;
    /** Same, for mobile keys; optional. */
    mobileKeysSecret?: string;
    serveClientSide: boolean;
    streamUri?: string;
    baseUri?: string;
    eventsUri?: string;
    useEvents: boolean;
    image?: string;
    sizing: ServiceSizing;
    certificateArn?: string;
    domainName?: string;
  };
  service: {
    image?: string;
    sizing: ServiceSizing;
    databaseMinAcu?: number;
    databaseMaxAcu?: number;
    certificateArn?: string;
    domainName?: string;
    internetFacing: boolean;
  };
  table: { name?: string; removalPolicy: RemovalPolicy; replicaRegions: string[] };
  layer: { stores: LayerStore[] };
  sync: { baseUri?: string };
  cpuArchitecture: 'X86_64' | 'ARM64';
  natGateways?: number;
  containerInsights: boolean;
  vpcFlowLogs: boolean;
  /** cdk-nag's AwsSolutions checks on every synth. */
  nag: boolean;
}

export type Variables = Record<string, string | undefined>;

/**
 * The variables of an env file under those of the process: a value exported in the shell (or by CI)
 * overrides the file, as Node's `--env-file` and dotenv do. A missing file gives the process's alone.
 */
export function readVariables(envFile: string, processEnv: Variables = process.env): Variables {
  const fromFile = existsSync(envFile) ? parseEnv(readFileSync(envFile, 'utf8')) : {};
  return { ...fromFile, ...processEnv };
}

export function parseAppConfig(vars: Variables): AppConfig {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = vars[name]?.trim();
    return value ? value : undefined;
  };
  const flag = (name: string, fallback: boolean): boolean => {
    const value = text(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['true', '1', 'yes'].includes(value)) return true;
    if (['false', '0', 'no'].includes(value)) return false;
    problems.push(`${name} must be true or false, got "${vars[name]}"`);
    return fallback;
  };
  const number = (name: string, check: (n: number) => boolean, what: string): number | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n) || !check(n)) {
      problems.push(`${name} must be ${what}, got "${value}"`);
      return undefined;
    }
    return n;
  };
  const count = (name: string) => number(name, (n) => Number.isInteger(n) && n >= 0, 'a whole number');
  const positive = (name: string) => number(name, (n) => n > 0, 'a positive number');
  const list = (name: string) =>
    (text(name) ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  const url = (name: string) => {
    const value = text(name);
    if (value !== undefined && !/^https?:\/\/[^/\s]+/.test(value)) {
      problems.push(`${name} must be an http(s) URL, got "${value}"`);
    }
    return value;
  };
  const sizing = (prefix: string): ServiceSizing => ({
    cpu: count(`${prefix}_CPU`),
    memoryLimitMiB: count(`${prefix}_MEMORY_MIB`),
    desiredCount: count(`${prefix}_DESIRED_COUNT`),
    maxCount: count(`${prefix}_MAX_COUNT`),
    cpuTargetPercent: positive(`${prefix}_CPU_TARGET_PERCENT`),
    requestsPerTaskPerMinute: positive(`${prefix}_REQUESTS_PER_TASK_PER_MINUTE`),
  });

  const deploy = {
    service: flag('DEPLOY_SERVICE', true),
    relay: flag('DEPLOY_RELAY', true),
    syncFunction: flag('DEPLOY_SYNC_FUNCTION', false),
    layer: flag('DEPLOY_LAYER', true),
  };

  const environments = list('RELAY_ENVIRONMENTS').map((name) => {
    if (!/^[A-Za-z0-9_]+$/.test(name))
      problems.push(`RELAY_ENVIRONMENTS: "${name}" must be letters, digits and _`);
    return { name, clientSideId: text(`LD_CLIENT_SIDE_ID_${name}`), prefix: text(`LD_PREFIX_${name}`) };
  });
  const needsKeys = deploy.relay || deploy.syncFunction;
  if (needsKeys && environments.length === 0) {
    problems.push('RELAY_ENVIRONMENTS must name at least one environment for the relay or the sync function');
  }
  const sdkKeysSecret = text('SDK_KEYS_SECRET');
  if (needsKeys && !sdkKeysSecret) {
    problems.push('SDK_KEYS_SECRET must name the Secrets Manager secret holding the SDK keys');
  }
  // A key pasted into .env would end up in the template; refuse it and say where it belongs.
  for (const name of Object.keys(vars)) {
    if (/^LD_(ENV|MOBILE_KEY)_/.test(name) && text(name)) {
      problems.push(
        `${name}: keys do not go in .env (they would be written into the template); put them in the secret ` +
          'named by SDK_KEYS_SECRET (or MOBILE_KEYS_SECRET), one JSON field per environment',
      );
    }
  }

  const removal = (text('TABLE_REMOVAL_POLICY') ?? 'retain').toLowerCase();
  const removalPolicies: Record<string, RemovalPolicy> = {
    retain: RemovalPolicy.RETAIN,
    destroy: RemovalPolicy.DESTROY,
  };
  if (!(removal in removalPolicies))
    problems.push(`TABLE_REMOVAL_POLICY must be retain or destroy, got "${removal}"`);

  const storeNames = text('LAYER_STORES') === undefined ? ['dynamodb'] : list('LAYER_STORES');
  const stores = storeNames
    .filter((store) => store !== 'none')
    .map((store) => {
      if (store !== 'dynamodb' && store !== 'redis') problems.push(`LAYER_STORES: unknown store "${store}"`);
      return store as LayerStore;
    });

  const architecture = (text('CPU_ARCHITECTURE') ?? 'X86_64').toUpperCase();
  if (architecture !== 'X86_64' && architecture !== 'ARM64') {
    problems.push(`CPU_ARCHITECTURE must be X86_64 or ARM64, got "${architecture}"`);
  }

  const region = text('CDK_DEPLOY_REGION') ?? text('CDK_DEFAULT_REGION');
  const replicaRegions = list('TABLE_REPLICA_REGIONS');
  if (replicaRegions.length > 0 && !region) {
    problems.push(
      'TABLE_REPLICA_REGIONS needs CDK_DEPLOY_REGION: a global table is created from a known region',
    );
  }
  if (region && replicaRegions.includes(region)) {
    problems.push(`TABLE_REPLICA_REGIONS lists ${region}, the stack's own region`);
  }

  const config: AppConfig = {
    account: text('CDK_DEPLOY_ACCOUNT') ?? text('CDK_DEFAULT_ACCOUNT'),
    region,
    stackName: text('STACK_NAME') ?? 'Flagstaff',
    deploy,
    relay: {
      environments,
      sdkKeysSecret,
      mobileKeysSecret: text('MOBILE_KEYS_SECRET'),
      serveClientSide: flag('SERVE_CLIENT_SIDE', false),
      streamUri: url('STREAM_URI'),
      baseUri: url('BASE_URI'),
      eventsUri: url('EVENTS_HOST'),
      useEvents: flag('USE_EVENTS', true),
      image: text('RELAY_IMAGE'),
      sizing: sizing('RELAY'),
      certificateArn: text('RELAY_CERTIFICATE_ARN'),
      domainName: text('RELAY_DOMAIN_NAME'),
    },
    service: {
      image: text('SERVICE_IMAGE'),
      sizing: sizing('SERVICE'),
      databaseMinAcu: number('DATABASE_MIN_ACU', (n) => n >= 0, 'a number of ACUs (0.5 steps)'),
      databaseMaxAcu: positive('DATABASE_MAX_ACU'),
      certificateArn: text('SERVICE_CERTIFICATE_ARN'),
      domainName: text('SERVICE_DOMAIN_NAME'),
      internetFacing: flag('SERVICE_INTERNET_FACING', true),
    },
    table: {
      name: text('TABLE_NAME'),
      removalPolicy: removalPolicies[removal] ?? RemovalPolicy.RETAIN,
      replicaRegions,
    },
    layer: { stores },
    sync: { baseUri: url('SYNC_BASE_URI') },
    cpuArchitecture: architecture === 'ARM64' ? 'ARM64' : 'X86_64',
    natGateways: count('NAT_GATEWAYS'),
    containerInsights: flag('CONTAINER_INSIGHTS', false),
    vpcFlowLogs: flag('VPC_FLOW_LOGS', false),
    nag: flag('CDK_NAG', true),
  };
  if (problems.length > 0) throw new Error(`infra/.env:\n  ${problems.join('\n  ')}`);
  return config;
}
