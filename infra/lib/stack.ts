// The stack `npx cdk deploy` creates from infra/.env: the constructs of this folder, wired together
// (one VPC and cluster, the relay fed by the flag service, sync functions writing the relay's table).
import {
  aws_certificatemanager as acm,
  CfnOutput,
  aws_ecs as ecs,
  Stack,
  type StackProps,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { AppConfig } from './app-config.js';
import { FlagstaffFlagTable } from './flag-table.js';
import { FlagstaffLayer } from './layer.js';
import { acceptFinding } from './nag.js';
import { createFlagstaffVpc } from './network.js';
import { FlagstaffRelay } from './relay.js';
import { importSecret } from './secret-field.js';
import { FlagstaffService } from './service.js';
import { FlagstaffSyncFunction } from './sync-function.js';

/** LaunchDarkly's SDK endpoint: where the sync function reads when no flag service is deployed here. */
const LAUNCHDARKLY_SDK_URI = 'https://sdk.launchdarkly.com';

export interface FlagstaffStackProps extends StackProps {
  config: AppConfig;
}

export class FlagstaffStack extends Stack {
  readonly service?: FlagstaffService;
  readonly relay?: FlagstaffRelay;
  readonly table?: FlagstaffFlagTable;
  readonly layer?: FlagstaffLayer;
  readonly syncFunctions: FlagstaffSyncFunction[] = [];

  constructor(scope: Construct, id: string, props: FlagstaffStackProps) {
    super(scope, id, props);
    const { config } = props;
    const architecture = ecs.CpuArchitecture.of(config.cpuArchitecture);
    const usesFargate = config.deploy.service || config.deploy.relay;
    const vpc = usesFargate
      ? createFlagstaffVpc(this, 'Vpc', { natGateways: config.natGateways, flowLogs: config.vpcFlowLogs })
      : undefined;
    const cluster = vpc
      ? new ecs.Cluster(this, 'Cluster', {
          vpc,
          containerInsightsV2: config.containerInsights
            ? ecs.ContainerInsights.ENABLED
            : ecs.ContainerInsights.DISABLED,
        })
      : undefined;
    if (cluster && !config.containerInsights) {
      acceptFinding(
        cluster,
        'AwsSolutions-ECS4',
        'Container Insights is opt-in (CONTAINER_INSIGHTS=true): its metrics cost more per month than a ' +
          'small relay; the services publish request and readiness metrics of their own.',
      );
    }

    if (config.deploy.service) {
      this.service = new FlagstaffService(this, 'Service', {
        cluster,
        cpuArchitecture: architecture,
        ...config.service.sizing,
        image: config.service.image ? ecs.ContainerImage.fromRegistry(config.service.image) : undefined,
        database: { minCapacity: config.service.databaseMinAcu, maxCapacity: config.service.databaseMaxAcu },
        internetFacing: config.service.internetFacing,
        certificate: certificate(this, 'ServiceCertificate', config.service.certificateArn),
        domainName: config.service.domainName,
      });
      new CfnOutput(this, 'ServiceUrl', {
        value: this.service.url,
        description: 'Flag service and dashboard',
      });
      new CfnOutput(this, 'AdminTokenSecretArn', {
        value: this.service.adminTokenSecret.secretArn,
        description: 'aws secretsmanager get-secret-value --secret-id <this> gives the first admin API token',
      });
    }

    const needsKeys = config.deploy.relay || config.deploy.syncFunction;
    const sdkKeys =
      needsKeys && config.relay.sdkKeysSecret
        ? importSecret(this, 'SdkKeys', config.relay.sdkKeysSecret)
        : undefined;
    const mobileKeys = config.relay.mobileKeysSecret
      ? importSecret(this, 'MobileKeys', config.relay.mobileKeysSecret)
      : undefined;

    if (config.deploy.relay || config.deploy.syncFunction) {
      this.table = new FlagstaffFlagTable(this, 'Flags', {
        tableName: config.table.name,
        removalPolicy: config.table.removalPolicy,
        replicaRegions: config.table.replicaRegions,
      });
      new CfnOutput(this, 'TableName', {
        value: this.table.tableName,
        description: 'Flag table for daemon mode',
      });
    }

    if (config.deploy.relay && sdkKeys && this.table) {
      // With the flag service in this stack the relay follows it; otherwise the .env URIs, or LaunchDarkly.
      const upstream = this.service?.url;
      this.relay = new FlagstaffRelay(this, 'Relay', {
        cluster,
        table: this.table,
        cpuArchitecture: architecture,
        ...config.relay.sizing,
        environments: config.relay.environments.map((env) => ({
          name: env.name,
          sdkKey: { secret: sdkKeys, field: env.name },
          clientSideId: env.clientSideId,
          mobileKey: mobileKeys ? { secret: mobileKeys, field: env.name } : undefined,
          prefix: env.prefix,
        })),
        streamUri: config.relay.streamUri ?? upstream,
        baseUri: config.relay.baseUri ?? upstream,
        eventsUri: config.relay.eventsUri ?? upstream,
        useEvents: config.relay.useEvents,
        serveClientSide: config.relay.serveClientSide,
        image: config.relay.image ? ecs.ContainerImage.fromRegistry(config.relay.image) : undefined,
        certificate: certificate(this, 'RelayCertificate', config.relay.certificateArn),
        domainName: config.relay.domainName,
      });
      new CfnOutput(this, 'RelayUrl', {
        value: this.relay.url,
        description: 'SDK baseUri/streamUri/eventsUri (internal to the VPC unless SERVE_CLIENT_SIDE)',
      });
    }

    if (config.deploy.layer) {
      this.layer = new FlagstaffLayer(this, 'Layer', { withStores: config.layer.stores });
      new CfnOutput(this, 'LayerVersionArn', { value: this.layer.layerVersionArn });
    }

    if (config.deploy.syncFunction && sdkKeys && this.table) {
      const baseUri =
        config.sync.baseUri ?? this.service?.url ?? config.relay.baseUri ?? LAUNCHDARKLY_SDK_URI;
      for (const env of config.relay.environments) {
        const sync = new FlagstaffSyncFunction(this, `Sync${env.name}`, {
          table: this.table,
          baseUri,
          sdkKey: { secret: sdkKeys, field: env.name },
          prefix: env.prefix,
        });
        this.syncFunctions.push(sync);
        new CfnOutput(this, `Sync${env.name}Url`, {
          value: sync.url,
          description: `Webhook URL for ${env.name}; sign with the secret in Sync${env.name}WebhookSecretArn`,
        });
        new CfnOutput(this, `Sync${env.name}WebhookSecretArn`, { value: sync.webhookSecret.secretArn });
      }
    }
  }
}

function certificate(scope: Construct, id: string, arn: string | undefined): acm.ICertificate | undefined {
  return arn ? acm.Certificate.fromCertificateArn(scope, id, arn) : undefined;
}
