// FlagstaffSyncFunction: keeps the DynamoDB table current without a long-running relay. The flag service
// (or LaunchDarkly) calls its Function URL as a webhook on every change, and an hourly schedule calls it
// as a safety net; see "Sync function" in packages/lambda/README.md.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Duration,
  aws_ec2 as ec2,
  aws_events as events,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_lambda_nodejs as nodejs,
  aws_secretsmanager as secretsmanager,
  aws_events_targets as targets,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { type FlagstaffFlagTable, TABLE_ACCESS } from './flag-table.js';
import { acceptFinding } from './nag.js';
import type { SecretField } from './secret-field.js';
import { SYNC_ENV } from './sync/environment.js';

export interface FlagstaffSyncFunctionProps {
  table: FlagstaffFlagTable;
  /** The flag service or a relay (FLAGSTAFF_BASE_URI), e.g. `https://flags.example.com`. */
  baseUri: string;
  /** The environment's SDK key, read from Secrets Manager at cold start. */
  sdkKey: SecretField;
  /** Namespace prefix in the table, the same as the readers' (and the relay's LD_PREFIX_<NAME>). */
  prefix?: string;
  /**
   * The webhook's signing secret; default a generated one. Register the Function URL as a webhook of the
   * project with this secret's value.
   */
  webhookSecret?: secretsmanager.ISecret;
  /** How often the schedule syncs regardless of webhooks; default 1 hour; `false` for no schedule. */
  schedule?: Duration | false;
  /**
   * A VPC to run in: needed when `baseUri` is an internal load balancer (an internal relay). The VPC
   * needs a NAT gateway or endpoints for Secrets Manager; DynamoDB has a gateway endpoint in ours.
   */
  vpc?: ec2.IVpc;
  /** Default nodejs24.x (the newest; cdk-nag's L1 wants it). The bundle targets Node 20, so any later runtime works. */
  runtime?: lambda.Runtime;
  /** Default ARM_64: plain JavaScript, and Graviton costs about 20% less per GB-second. */
  architecture?: lambda.Architecture;
  memorySize?: number;
  logRetention?: logs.RetentionDays;
}

/** The entry bundled for the function, next to this file. */
const ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'sync', 'handler.ts');

export class FlagstaffSyncFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly functionUrl: lambda.FunctionUrl;
  readonly webhookSecret: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: FlagstaffSyncFunctionProps) {
    super(scope, id);
    this.webhookSecret =
      props.webhookSecret ??
      new secretsmanager.Secret(this, 'WebhookSecret', {
        description: 'Flagstaff sync function: the webhook signing secret (X-Flagstaff-Signature HMAC key)',
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
      });
    const lockFile = findUp('package-lock.json', dirname(ENTRY));
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: ENTRY,
      handler: 'handler',
      projectRoot: dirname(lockFile),
      depsLockFilePath: lockFile,
      runtime: props.runtime ?? lambda.Runtime.NODEJS_24_X,
      architecture: props.architecture ?? lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      // The data set is fetched within 10 s; the rest is a few DynamoDB writes.
      timeout: Duration.seconds(30),
      description: 'Flagstaff sync: keeps the flag table current on webhook calls and on a schedule',
      logGroup,
      environment: {
        [SYNC_ENV.table]: props.table.tableName,
        [SYNC_ENV.baseUri]: props.baseUri,
        [SYNC_ENV.sdkKeySecret]: props.sdkKey.secret.secretArn,
        [SYNC_ENV.webhookSecret]: this.webhookSecret.secretArn,
        ...(props.sdkKey.field ? { [SYNC_ENV.sdkKeyField]: props.sdkKey.field } : {}),
        ...(props.prefix ? { [SYNC_ENV.prefix]: props.prefix } : {}),
      },
      ...(props.vpc
        ? { vpc: props.vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } }
        : {}),
      bundling: {
        format: nodejs.OutputFormat.CJS,
        target: 'node20',
        minify: true,
        sourceMap: false,
        // The Lambda runtime provides AWS SDK v3; the store signs its own requests and rarely needs it.
        externalModules: ['@aws-sdk/*'],
        esbuildArgs: {
          // Workspace packages from their TypeScript sources in this repository, as everywhere else here.
          '--conditions': 'flagstaff-source',
        },
      },
    });
    props.sdkKey.secret.grantRead(this.function);
    this.webhookSecret.grantRead(this.function);
    props.table.grant(this.function, TABLE_ACCESS.sync);

    // Webhook senders cannot sign AWS requests, so the URL is public; the handler refuses any call whose
    // body is not signed with the webhook secret (HMAC-SHA256), before reading or writing anything.
    this.functionUrl = this.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });

    if (props.schedule !== false) {
      new events.Rule(this, 'Schedule', {
        description: 'Flagstaff sync safety net: a full sync even when no webhook arrives',
        schedule: events.Schedule.rate(props.schedule ?? Duration.hours(1)),
        targets: [new targets.LambdaFunction(this.function, { retryAttempts: 2 })],
      });
    }

    for (const policy of ['AWSLambdaBasicExecutionRole', 'AWSLambdaVPCAccessExecutionRole']) {
      acceptFinding(
        this.function,
        `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${policy}]`,
        `${policy} only lets the function write its own logs (and, in a VPC, manage its network interfaces).`,
      );
    }
    if (!props.webhookSecret) {
      acceptFinding(
        this.webhookSecret,
        'AwsSolutions-SMG4',
        'The same value is registered with the flag service webhook; rotating it here alone would make every ' +
          'webhook call fail its signature check.',
      );
    }
  }

  /** The URL to register as the project's webhook. */
  get url(): string {
    return this.functionUrl.url;
  }
}

/** The nearest `name` in `from` or above it: the workspace lockfile, whose folder holds node_modules. */
function findUp(name: string, from: string): string {
  let dir = from;
  for (;;) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`FlagstaffSyncFunction: no ${name} above ${from}`);
    dir = parent;
  }
}
