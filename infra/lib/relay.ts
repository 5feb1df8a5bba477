// FlagstaffRelay: the relay proxy on ECS Fargate behind an Application Load Balancer, keeping a DynamoDB
// table current for Lambdas in daemon mode. Configured with LaunchDarkly Relay's variable names (see
// packages/relay/README.md), so the same settings work for Flagstaff's flag service or LaunchDarkly.
import { Duration, type aws_ec2 as ec2, aws_ecs as ecs, aws_logs as logs, Stack } from 'aws-cdk-lib';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { Construct } from 'constructs';
import { dockerContextExcludes, RELAY_IMAGE_SOURCES } from './docker-context.js';
import {
  FargateWebService,
  type LoadBalancerOptions,
  resolveSizing,
  type ServiceSizing,
} from './fargate-web-service.js';
import { FlagstaffFlagTable, type FlagstaffFlagTableProps, TABLE_ACCESS } from './flag-table.js';
import { createFlagstaffVpc, type FlagstaffVpcProps } from './network.js';
import { REPOSITORY_ROOT } from './repository.js';
import { ecsSecret, type SecretField } from './secret-field.js';

/** One environment the relay serves: LaunchDarkly Relay's `LD_ENV_<name>` and friends. */
export interface RelayEnvironment {
  /** `<NAME>` in LD_ENV_<NAME>: letters, digits and underscores. */
  name: string;
  /** The environment's SDK key, from Secrets Manager. */
  sdkKey: SecretField;
  /** Client-side ID, for JavaScript SDKs; used only with `serveClientSide`. Public by design. */
  clientSideId?: string;
  /** Mobile key, for mobile SDKs; used only with `serveClientSide`. */
  mobileKey?: SecretField;
  /** Key prefix in the table (LD_PREFIX_<NAME>); needed when several environments share the table. */
  prefix?: string;
}

/**
 * Defaults from the relay benchmark (BENCHMARKS.md, "Relay"; arithmetic in infra/README.md): the process
 * idles at about 110 MiB RSS and holds 10,000 SSE streams in about 220 MiB, and Node runs JavaScript on
 * one core, so a quarter-size task with 1 GiB has room for several times that and two of them survive a
 * zone failure. The seed's three 4 vCPU / 16 GiB tasks cost about fourteen times as much.
 */
export const RELAY_DEFAULTS: Required<ServiceSizing> = {
  cpu: 512,
  memoryLimitMiB: 1024,
  desiredCount: 2,
  maxCount: 6,
  cpuTargetPercent: 60,
  requestsPerTaskPerMinute: 60_000,
};

export const RELAY_PORT = 8030;

export interface FlagstaffRelayProps extends ServiceSizing, LoadBalancerOptions {
  environments: RelayEnvironment[];
  /** Upstream streaming URI (STREAM_URI); default LaunchDarkly's, as the relay's own default. */
  streamUri?: string;
  /** Upstream polling URI (BASE_URI); default LaunchDarkly's. */
  baseUri?: string;
  /** Where analytics events go (EVENTS_HOST); default LaunchDarkly's. */
  eventsUri?: string;
  /** Accept and forward SDK analytics events (USE_EVENTS); default true. */
  useEvents?: boolean;
  /**
   * Serve client-side SDKs (browsers, mobile apps): the load balancer becomes internet-facing and the
   * client-side IDs and mobile keys are configured. Off, the relay is internal to the VPC and serves
   * server-side SDKs only. Default false. `internetFacing` overrides the load balancer part.
   */
  serveClientSide?: boolean;
  /** An existing VPC; default a new one (see `vpcProps`). */
  vpc?: ec2.IVpc;
  vpcProps?: FlagstaffVpcProps;
  /** An existing ECS cluster (its VPC is then used); default a new one. */
  cluster?: ecs.ICluster;
  /** CloudWatch Container Insights on the cluster this construct creates; default false. */
  containerInsights?: boolean;
  /** A table shared with other constructs; default a new one (see `tableProps`). */
  table?: FlagstaffFlagTable;
  tableProps?: FlagstaffFlagTableProps;
  /** The relay image; default built from packages/relay/Dockerfile in this repository. */
  image?: ecs.ContainerImage;
  /** Default X86_64; ARM64 (Graviton) costs about 20% less. */
  cpuArchitecture?: ecs.CpuArchitecture;
  /** SSE heartbeat (HEARTBEAT_INTERVAL); default 30 s, below the load balancer's idle timeout. */
  heartbeatInterval?: Duration;
  /** Load balancer idle timeout; default 60 s. Must exceed `heartbeatInterval`. */
  idleTimeout?: Duration;
  /** More relay variables (INIT_TIMEOUT, IGNORE_CONNECTION_ERRORS, ...); never credentials. */
  environment?: Record<string, string>;
  /** Default one month. */
  logRetention?: logs.RetentionDays;
}

export class FlagstaffRelay extends Construct {
  readonly table: FlagstaffFlagTable;
  readonly vpc: ec2.IVpc;
  readonly web: FargateWebService;
  /** The relay's base URL: SDKs' baseUri, streamUri and eventsUri. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: FlagstaffRelayProps) {
    super(scope, id);
    const environments = validateEnvironments(props.environments);
    const serveClientSide = props.serveClientSide ?? false;
    const heartbeat = props.heartbeatInterval ?? Duration.seconds(30);
    const idleTimeout = props.idleTimeout ?? Duration.seconds(60);
    if (heartbeat.toMilliseconds() >= idleTimeout.toMilliseconds()) {
      throw new Error(
        'FlagstaffRelay: heartbeatInterval must be shorter than idleTimeout, or the load balancer cuts idle streams',
      );
    }
    this.vpc = props.cluster?.vpc ?? props.vpc ?? createFlagstaffVpc(this, 'Vpc', props.vpcProps);
    this.table = props.table ?? new FlagstaffFlagTable(this, 'Flags', props.tableProps);
    const cpuArchitecture = props.cpuArchitecture ?? ecs.CpuArchitecture.X86_64;
    const useEvents = props.useEvents ?? true;

    const environment: Record<string, string> = {
      PORT: String(RELAY_PORT),
      AWS_REGION: Stack.of(this).region,
      USE_DYNAMODB: 'true',
      DYNAMODB_TABLE: this.table.tableName,
      USE_EVENTS: String(useEvents),
      HEARTBEAT_INTERVAL: `${heartbeat.toSeconds()}s`,
      ...(props.streamUri ? { STREAM_URI: props.streamUri } : {}),
      ...(props.baseUri ? { BASE_URI: props.baseUri } : {}),
      ...(useEvents && props.eventsUri ? { EVENTS_HOST: props.eventsUri } : {}),
    };
    const secrets: Record<string, ecs.Secret> = {};
    for (const env of environments) {
      secrets[`LD_ENV_${env.name}`] = ecsSecret(env.sdkKey);
      if (env.prefix) environment[`LD_PREFIX_${env.name}`] = env.prefix;
      if (serveClientSide && env.clientSideId)
        environment[`LD_CLIENT_SIDE_ID_${env.name}`] = env.clientSideId;
      if (serveClientSide && env.mobileKey) secrets[`LD_MOBILE_KEY_${env.name}`] = ecsSecret(env.mobileKey);
    }
    for (const [name, value] of Object.entries(props.environment ?? {})) {
      if (/^LD_(ENV|MOBILE_KEY)_/.test(name)) {
        throw new Error(
          `FlagstaffRelay: ${name} is a credential; pass it through environments[].sdkKey/mobileKey`,
        );
      }
      environment[name] = value;
    }

    this.web = new FargateWebService(this, 'Relay', {
      ...resolveSizing('FlagstaffRelay', RELAY_DEFAULTS, props),
      vpc: this.vpc,
      cluster: props.cluster,
      containerInsights: props.containerInsights ?? false,
      image: props.image ?? relayImageFromRepository(cpuArchitecture),
      containerName: 'relay',
      containerPort: RELAY_PORT,
      environment,
      secrets,
      // 200 only once every environment has data (from upstream or the table): a task is not sent
      // traffic before it can answer, and one that loses all data is replaced.
      healthCheckPath: '/ready',
      idleTimeout,
      // Streams never end by themselves; after this, SDKs reconnect to another task.
      deregistrationDelay: Duration.seconds(30),
      cpuArchitecture,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      internetFacing: props.internetFacing ?? serveClientSide,
      certificate: props.certificate,
      domainName: props.domainName,
      domainZone: props.domainZone,
      accessLogsBucket: props.accessLogsBucket,
    });
    this.table.grant(this.web.service.taskDefinition.taskRole, TABLE_ACCESS.relay);
    this.url = this.web.url;
  }
}

/** The image built from packages/relay/Dockerfile, with a build context of only what it needs. */
export function relayImageFromRepository(cpuArchitecture: ecs.CpuArchitecture): ecs.ContainerImage {
  const file = 'packages/relay/Dockerfile';
  return ecs.ContainerImage.fromAsset(REPOSITORY_ROOT, {
    file,
    exclude: dockerContextExcludes(file, RELAY_IMAGE_SOURCES),
    platform: cpuArchitecture === ecs.CpuArchitecture.ARM64 ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
  });
}

function validateEnvironments(environments: RelayEnvironment[]): RelayEnvironment[] {
  if (environments.length === 0) throw new Error('FlagstaffRelay: at least one environment is required');
  const names = new Set<string>();
  const prefixes = new Map<string, string>();
  for (const env of environments) {
    if (!/^[A-Za-z0-9_]+$/.test(env.name)) {
      throw new Error(`FlagstaffRelay: environment name "${env.name}" must be letters, digits and _`);
    }
    if (names.has(env.name)) throw new Error(`FlagstaffRelay: environment "${env.name}" is listed twice`);
    names.add(env.name);
    // The relay refuses two environments writing one data set; saying so here beats a crash-looping task.
    const prefix = env.prefix ?? '';
    const other = prefixes.get(prefix);
    if (other !== undefined) {
      throw new Error(
        `FlagstaffRelay: environments "${other}" and "${env.name}" would share one data set in the table; ` +
          'give each a different prefix',
      );
    }
    prefixes.set(prefix, env.name);
  }
  return environments;
}
