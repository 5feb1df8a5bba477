// FlagstaffRelay on its own in a stack, as a user's CDK app would use it: the table, the task's
// configuration and secrets, the load balancer and its health check, scaling, least-privilege IAM, and
// cdk-nag's AwsSolutions checks.
import { Duration, aws_ecs as ecs, Stack, aws_secretsmanager as secretsmanager } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FlagstaffRelay, type FlagstaffRelayProps } from '../lib/relay.js';
import { acknowledgements, ENV, nagFindings, STUB_IMAGE, testApp } from './support/cdk.js';

function relayStack(props: Partial<FlagstaffRelayProps> = {}, env = ENV) {
  const app = testApp();
  const stack = new Stack(app, 'RelayOnly', { env });
  const keys = secretsmanager.Secret.fromSecretNameV2(stack, 'Keys', 'flagstaff/sdk-keys');
  const mobile = secretsmanager.Secret.fromSecretNameV2(stack, 'Mobile', 'flagstaff/mobile-keys');
  const relay = new FlagstaffRelay(stack, 'Relay', {
    environments: [
      {
        name: 'Production',
        sdkKey: { secret: keys, field: 'Production' },
        clientSideId: 'cside-production',
        mobileKey: { secret: mobile, field: 'Production' },
        prefix: 'prod',
      },
      { name: 'Staging', sdkKey: { secret: keys, field: 'Staging' }, prefix: 'staging' },
    ],
    streamUri: 'https://flags.example.com',
    baseUri: 'https://flags.example.com',
    eventsUri: 'https://flags.example.com',
    image: STUB_IMAGE,
    ...props,
  });
  return { stack, relay, template: Template.fromStack(stack) };
}

type ContainerDefinition = {
  Environment: { Name: string; Value: unknown }[];
  Secrets: { Name: string; ValueFrom: unknown }[];
};

function container(template: Template): ContainerDefinition {
  const definitions = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
  expect(definitions).toHaveLength(1);
  return (definitions[0]!.Properties as { ContainerDefinitions: ContainerDefinition[] })
    .ContainerDefinitions[0]!;
}

const environmentOf = (definition: ContainerDefinition) =>
  Object.fromEntries(definition.Environment.map((entry) => [entry.Name, entry.Value]));

/** Every IAM policy statement in the template that grants a DynamoDB action. */
function dynamoStatements(template: Template) {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
    (policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]).filter(
      (statement) => [statement.Action].flat().some((action) => action.startsWith('dynamodb:')),
    ),
  );
}

describe('FlagstaffRelay, server-side only (the default)', () => {
  const { stack, template } = relayStack();
  const tableId = Object.keys(template.findResources('AWS::DynamoDB::GlobalTable'))[0]!;

  it('creates the flag table in LaunchDarkly layout: namespace/key, on demand, point-in-time recovery, retained', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: 'namespace', KeyType: 'HASH' },
          { AttributeName: 'key', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: 'namespace', AttributeType: 'S' },
          { AttributeName: 'key', AttributeType: 'S' },
        ]),
        BillingMode: 'PAY_PER_REQUEST',
        Replicas: [
          Match.objectLike({
            Region: 'us-east-1',
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ],
      },
    });
  });

  it("configures the relay with LaunchDarkly Relay's variables, without any credential in them", () => {
    const definition = container(template);
    expect(environmentOf(definition)).toEqual({
      PORT: '8030',
      AWS_REGION: 'us-east-1',
      USE_DYNAMODB: 'true',
      DYNAMODB_TABLE: { Ref: tableId },
      USE_EVENTS: 'true',
      HEARTBEAT_INTERVAL: '30s',
      STREAM_URI: 'https://flags.example.com',
      BASE_URI: 'https://flags.example.com',
      EVENTS_HOST: 'https://flags.example.com',
      LD_PREFIX_Production: 'prod',
      LD_PREFIX_Staging: 'staging',
    });
    // SDK keys arrive as ECS secrets: a reference to a JSON field of the secret, resolved at task start.
    expect(definition.Secrets.map((secret) => secret.Name).sort()).toEqual([
      'LD_ENV_Production',
      'LD_ENV_Staging',
    ]);
    const production = JSON.stringify(
      definition.Secrets.find((secret) => secret.Name === 'LD_ENV_Production'),
    );
    expect(production).toContain(':secret:flagstaff/sdk-keys:Production::');
    // Server-side only: no client-side ID, no mobile key.
    expect(JSON.stringify(definition)).not.toMatch(/LD_CLIENT_SIDE_ID|LD_MOBILE_KEY|cside-production/);
  });

  it('runs two 0.5 vCPU / 1 GiB Fargate tasks by default, across the private subnets', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '512',
      Memory: '1024',
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 2,
      LaunchType: 'FARGATE',
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
      }),
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
    });
  });

  it("checks the relay's readiness endpoint and lets streams go after 30 s on deregistration", () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 80,
      HealthCheckPath: '/ready',
      Matcher: { HttpCode: '200' },
      HealthCheckIntervalSeconds: 15,
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }]),
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ PortMappings: [{ ContainerPort: 8030, Protocol: 'tcp' }] })],
    });
  });

  it('puts an internal load balancer in front, open to the VPC only, with an idle timeout above the heartbeat', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'idle_timeout.timeout_seconds', Value: '60' },
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
      ]),
    });
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroup')).flatMap(
      (group) => (group.Properties.SecurityGroupIngress ?? []) as { CidrIp?: unknown }[],
    );
    expect(ingress.filter((rule) => rule.CidrIp === '0.0.0.0/0')).toEqual([]);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: Match.arrayWith([
        Match.objectLike({
          CidrIp: { 'Fn::GetAtt': [Match.anyValue(), 'CidrBlock'] },
          FromPort: 80,
          ToPort: 80,
        }),
      ]),
    });
  });

  it('scales between 2 and 6 tasks on CPU and on requests per task', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 6,
      ScalableDimension: 'ecs:service:DesiredCount',
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        TargetValue: 60,
      }),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: Match.objectLike({ PredefinedMetricType: 'ALBRequestCountPerTarget' }),
        TargetValue: 60000,
      }),
    });
  });

  it('lets the task read and write this table only, with the four calls the store makes', () => {
    const statements = dynamoStatements(template);
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:BatchWriteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
        Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
      },
    ]);
    // Attached to the task role, not to the execution role.
    const policies = template.findResources('AWS::IAM::Policy');
    const owner = Object.entries(policies).find(([, policy]) =>
      JSON.stringify(policy.Properties.PolicyDocument).includes('dynamodb:'),
    )!;
    expect(JSON.stringify(owner[1].Properties.Roles)).toContain('TaskRole');
  });

  it('lets only the execution role read the SDK keys secret', () => {
    const readers = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify(policy).includes('secretsmanager:GetSecretValue'),
    );
    expect(readers).toHaveLength(1);
    expect(JSON.stringify(readers[0]!.Properties.Roles)).toContain('ExecutionRole');
    expect(JSON.stringify(readers[0])).toContain(':secret:flagstaff/sdk-keys-??????');
  });

  it("passes cdk-nag's AwsSolutions checks, every acknowledgement with its reason", () => {
    expect(nagFindings(stack)).toEqual([]);
    const acknowledged = acknowledgements(stack);
    const ours = acknowledged.filter((entry) => entry.id.startsWith('AwsSolutions-'));
    expect(ours.map((entry) => entry.id).sort()).toEqual([
      'AwsSolutions-EC23',
      'AwsSolutions-ECS2',
      'AwsSolutions-ECS4',
      'AwsSolutions-ELB2',
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-VPC7',
    ]);
    for (const entry of acknowledged) expect(entry.reason.length, entry.id).toBeGreaterThan(40);
  });
});

describe('FlagstaffRelay serving client-side SDKs, on Graviton, with a replicated table', () => {
  const { stack, template } = relayStack({
    serveClientSide: true,
    cpuArchitecture: ecs.CpuArchitecture.ARM64,
    tableProps: { replicaRegions: ['eu-west-1'] },
    cpu: 1024,
    memoryLimitMiB: 2048,
    desiredCount: 3,
    maxCount: 9,
  });

  it('puts the load balancer on the internet and configures client-side IDs and mobile keys', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
    });
    const definition = container(template);
    expect(environmentOf(definition).LD_CLIENT_SIDE_ID_Production).toBe('cside-production');
    expect(environmentOf(definition)).not.toHaveProperty('LD_CLIENT_SIDE_ID_Staging');
    expect(definition.Secrets.map((secret) => secret.Name).sort()).toEqual([
      'LD_ENV_Production',
      'LD_ENV_Staging',
      'LD_MOBILE_KEY_Production',
    ]);
  });

  it('applies the given sizes and architecture', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '1024',
      Memory: '2048',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
    });
    template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 3 });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 3,
      MaxCapacity: 9,
    });
  });

  it('replicates the table to the other region, each replica with point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: Match.arrayWith([
        Match.objectLike({
          Region: 'eu-west-1',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        }),
        Match.objectLike({
          Region: 'us-east-1',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        }),
      ]),
    });
    // The relay writes in its own region; readers elsewhere get their own grants there.
    const [statement, ...others] = dynamoStatements(template);
    expect(others).toEqual([]);
    expect(statement!.Action).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    expect(JSON.stringify(statement!.Resource)).not.toContain('*');
  });

  it("passes cdk-nag's AwsSolutions checks, the public endpoint acknowledged", () => {
    expect(nagFindings(stack)).toEqual([]);
    const publicEndpoint = acknowledgements(stack).find((entry) => entry.id === 'AwsSolutions-EC23');
    expect(publicEndpoint?.reason).toMatch(/public endpoint by choice/);
  });
});

describe('FlagstaffRelay refuses configurations that would only fail once deployed', () => {
  it('two environments writing the same data set of the table', () => {
    expect(() =>
      relayStack({
        environments: [
          { name: 'A', sdkKey: { secret: fakeSecret(), field: 'A' } },
          { name: 'B', sdkKey: { secret: fakeSecret(), field: 'B' } },
        ],
      }),
    ).toThrowError(/"A" and "B" would share one data set/);
  });

  it('a heartbeat the load balancer would cut, a credential as a plain variable, impossible counts', () => {
    expect(() => relayStack({ heartbeatInterval: Duration.seconds(90) })).toThrowError(/heartbeatInterval/);
    expect(() => relayStack({ environment: { LD_ENV_Production: 'sdk-123' } })).toThrowError(
      /is a credential/,
    );
    expect(() => relayStack({ desiredCount: 4, maxCount: 2 })).toThrowError(/maxCount \(2\) is below/);
    expect(() => relayStack({ environments: [] })).toThrowError(/at least one environment/);
    expect(() =>
      relayStack({ environments: [{ name: 'Prod-1', sdkKey: { secret: fakeSecret(), field: 'x' } }] }),
    ).toThrowError(/letters, digits and _/);
  });
});

let fakeSecretCount = 0;
function fakeSecret(): secretsmanager.ISecret {
  const stack = new Stack(testApp(), `Other${++fakeSecretCount}`, { env: ENV });
  return secretsmanager.Secret.fromSecretNameV2(stack, 'Keys', 'keys');
}
