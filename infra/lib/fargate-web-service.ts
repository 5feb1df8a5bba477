// What the relay and the flag service have in common: a Fargate service behind an Application Load
// Balancer, health-checked on an HTTP path, scaled on CPU and request count, logging to CloudWatch.
import {
  type aws_certificatemanager as acm,
  Duration,
  aws_ec2 as ec2,
  aws_ecs as ecs,
  aws_ecs_patterns as ecsPatterns,
  aws_elasticloadbalancingv2 as elbv2,
  aws_logs as logs,
  type aws_route53 as route53,
  type aws_s3 as s3,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acceptFinding } from './nag.js';

/** Task size and scaling. */
export interface ServiceSizing {
  /** vCPU units per task (1024 = 1 vCPU); a Fargate combination with `memoryLimitMiB`. */
  cpu?: number;
  /** Memory per task in MiB. */
  memoryLimitMiB?: number;
  /** Tasks at deployment and the autoscaling minimum. */
  desiredCount?: number;
  /** Autoscaling maximum. */
  maxCount?: number;
  /** Average CPU the service scales to hold, in percent. */
  cpuTargetPercent?: number;
  /** ALB requests per task per minute the service scales to hold. */
  requestsPerTaskPerMinute?: number;
}

/** The given sizes over the defaults, checked for what would only fail at deployment. */
export function resolveSizing(
  owner: string,
  defaults: Required<ServiceSizing>,
  given: ServiceSizing,
): Required<ServiceSizing> {
  const sizing = { ...defaults };
  for (const key of Object.keys(defaults) as (keyof ServiceSizing)[]) {
    const value = given[key];
    if (value !== undefined) sizing[key] = value;
  }
  if (!Number.isInteger(sizing.desiredCount) || sizing.desiredCount < 1) {
    throw new Error(`${owner}: desiredCount must be a whole number of at least 1`);
  }
  if (sizing.maxCount < sizing.desiredCount) {
    throw new Error(`${owner}: maxCount (${sizing.maxCount}) is below desiredCount (${sizing.desiredCount})`);
  }
  if (sizing.cpuTargetPercent <= 0 || sizing.cpuTargetPercent > 100) {
    throw new Error(`${owner}: cpuTargetPercent must be between 1 and 100`);
  }
  return sizing;
}

/** How the load balancer is reached. */
export interface LoadBalancerOptions {
  /** Internet-facing (public subnets) or internal (reachable from the VPC only). */
  internetFacing?: boolean;
  /** An ACM certificate: the listener becomes HTTPS on 443 and port 80 redirects to it. */
  certificate?: acm.ICertificate;
  /** The name clients use (the certificate's); with `domainZone`, an alias record is created. */
  domainName?: string;
  domainZone?: route53.IHostedZone;
  /** S3 bucket for the load balancer's access logs; default none. */
  accessLogsBucket?: s3.IBucket;
}

export interface FargateWebServiceProps extends Required<ServiceSizing>, LoadBalancerOptions {
  vpc: ec2.IVpc;
  cluster?: ecs.ICluster;
  /** CloudWatch Container Insights on a cluster this construct creates. */
  containerInsights: boolean;
  image: ecs.ContainerImage;
  containerName: string;
  containerPort: number;
  environment: Record<string, string>;
  secrets: Record<string, ecs.Secret>;
  healthCheckPath: string;
  /** Longer than the longest quiet period of an SSE stream (its heartbeat interval). */
  idleTimeout: Duration;
  /** How long a stopping task keeps its connections; SDKs reconnect to another task. */
  deregistrationDelay: Duration;
  cpuArchitecture: ecs.CpuArchitecture;
  logRetention: logs.RetentionDays;
}

export class FargateWebService extends Construct {
  readonly service: ecsPatterns.ApplicationLoadBalancedFargateService;
  readonly scaling: ecs.ScalableTaskCount;
  /** Base URL of the load balancer, `https://<domainName>` when a certificate and name are given. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: FargateWebServiceProps) {
    super(scope, id);
    const internetFacing = props.internetFacing ?? false;
    const https = props.certificate !== undefined;
    const cluster =
      props.cluster ??
      new ecs.Cluster(this, 'Cluster', {
        vpc: props.vpc,
        containerInsightsV2: props.containerInsights
          ? ecs.ContainerInsights.ENABLED
          : ecs.ContainerInsights.DISABLED,
      });
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });

    this.service = new ecsPatterns.ApplicationLoadBalancedFargateService(this, 'Service', {
      cluster,
      cpu: props.cpu,
      memoryLimitMiB: props.memoryLimitMiB,
      desiredCount: props.desiredCount,
      runtimePlatform: {
        cpuArchitecture: props.cpuArchitecture,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
      taskImageOptions: {
        image: props.image,
        containerName: props.containerName,
        containerPort: props.containerPort,
        environment: props.environment,
        secrets: props.secrets,
        logDriver: ecs.LogDrivers.awsLogs({ streamPrefix: props.containerName, logGroup }),
      },
      taskSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      publicLoadBalancer: internetFacing,
      // An internal load balancer is opened to the VPC below, not to the world.
      openListener: internetFacing,
      idleTimeout: props.idleTimeout,
      ...(https
        ? {
            certificate: props.certificate,
            protocol: elbv2.ApplicationProtocol.HTTPS,
            redirectHTTP: true,
            sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
          }
        : {}),
      ...(props.domainName && props.domainZone
        ? { domainName: props.domainName, domainZone: props.domainZone }
        : {}),
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      healthCheckGracePeriod: Duration.seconds(60),
      // A task that never becomes healthy rolls the deployment back instead of retrying for hours.
      circuitBreaker: { rollback: true },
    });

    // The pattern adds stack outputs of its own; a construct should leave outputs to the app using it.
    this.service.node.tryRemoveChild('LoadBalancerDNS');
    this.service.node.tryRemoveChild('ServiceURL');

    const loadBalancer = this.service.loadBalancer;
    // Headers with invalid characters are dropped at the edge rather than passed to Node's parser.
    loadBalancer.setAttribute('routing.http.drop_invalid_header_fields.enabled', 'true');
    if (!internetFacing) {
      const port = https ? 443 : 80;
      loadBalancer.connections.allowFrom(
        ec2.Peer.ipv4(props.vpc.vpcCidrBlock),
        ec2.Port.tcp(port),
        'Clients inside the VPC',
      );
    }
    if (props.accessLogsBucket) loadBalancer.logAccessLogs(props.accessLogsBucket, id);

    this.service.targetGroup.configureHealthCheck({
      path: props.healthCheckPath,
      healthyHttpCodes: '200',
      interval: Duration.seconds(15),
      timeout: Duration.seconds(5),
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 3,
    });
    this.service.targetGroup.setAttribute(
      'deregistration_delay.timeout_seconds',
      String(props.deregistrationDelay.toSeconds()),
    );

    this.scaling = this.service.service.autoScaleTaskCount({
      minCapacity: props.desiredCount,
      maxCapacity: props.maxCount,
    });
    this.scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: props.cpuTargetPercent,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.minutes(5),
    });
    this.scaling.scaleOnRequestCount('Requests', {
      requestsPerTarget: props.requestsPerTaskPerMinute,
      targetGroup: this.service.targetGroup,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.minutes(5),
    });

    this.url =
      https && props.domainName
        ? `https://${props.domainName}`
        : `${https ? 'https' : 'http'}://${loadBalancer.loadBalancerDnsName}`;

    this.acceptFindings(props, internetFacing, https, cluster !== props.cluster);
  }

  /** The AwsSolutions findings these services accept, each with the reason. */
  private acceptFindings(
    props: FargateWebServiceProps,
    internetFacing: boolean,
    https: boolean,
    ownCluster: boolean,
  ): void {
    const taskDefinition = this.service.taskDefinition;
    acceptFinding(
      taskDefinition,
      'AwsSolutions-ECS2',
      'The environment holds configuration only (URLs, table name, switches, public client-side IDs); ' +
        'SDK keys, tokens and database credentials come from Secrets Manager as ECS secrets.',
    );
    acceptFinding(
      taskDefinition.obtainExecutionRole(),
      'AwsSolutions-IAM5[Resource::*]',
      'ecr:GetAuthorizationToken has no resource-level permissions; ECS grants it to every task execution ' +
        'role that pulls from ECR.',
    );
    if (ownCluster && !props.containerInsights) {
      acceptFinding(
        this.service.cluster,
        'AwsSolutions-ECS4',
        'Container Insights is opt-in (containerInsights: true): its metrics cost more per month than a ' +
          'small relay; the services publish request and readiness metrics of their own.',
      );
    }
    if (!props.accessLogsBucket) {
      acceptFinding(
        this.service.loadBalancer,
        'AwsSolutions-ELB2',
        'Access logs need a bucket the user owns and pays for; pass accessLogsBucket to turn them on. ' +
          'The services log every request themselves.',
      );
    }
    if (!internetFacing) {
      acceptFinding(
        this.service.loadBalancer,
        'AwsSolutions-EC23',
        "Ingress comes from the VPC's own CIDR only; the rule cannot read it at synth (a token) and fails.",
      );
    }
    if (internetFacing) {
      acceptFinding(
        this.service.loadBalancer,
        'AwsSolutions-EC23',
        https
          ? 'A public endpoint by choice (client-side SDKs, dashboard users); port 80 only redirects to HTTPS.'
          : 'A public endpoint by choice (client-side SDKs, dashboard users); pass a certificate for HTTPS.',
      );
    }
  }
}
