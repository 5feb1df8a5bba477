// The network Flagstaff's services run in when the user brings none: two availability zones, public
// subnets for the load balancers, private subnets for the tasks and the database.
import { aws_ec2 as ec2 } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { acceptFinding } from './nag.js';

export interface FlagstaffVpcProps {
  /** Availability zones; default 2 (a load balancer needs two). */
  maxAzs?: number;
  /**
   * NAT gateways for the private subnets' outbound traffic (image pulls, Secrets Manager, the upstream
   * stream); default 1. One per zone survives a zone outage at about $33 a month each.
   */
  natGateways?: number;
  /** VPC flow logs to CloudWatch Logs; default false (they cost per GB and are rarely read). */
  flowLogs?: boolean;
}

export function createFlagstaffVpc(scope: Construct, id: string, props: FlagstaffVpcProps = {}): ec2.Vpc {
  const vpc = new ec2.Vpc(scope, id, {
    maxAzs: props.maxAzs ?? 2,
    natGateways: props.natGateways ?? 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
    ],
    // The relay's table writes and the sync function's reads stay off the NAT gateway (and its per-GB
    // charge): a gateway endpoint for DynamoDB costs nothing.
    gatewayEndpoints: { DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB } },
    ...(props.flowLogs ? { flowLogs: { all: { trafficType: ec2.FlowLogTrafficType.REJECT } } } : {}),
  });
  if (!props.flowLogs) {
    acceptFinding(
      vpc,
      'AwsSolutions-VPC7',
      'Flow logs are opt-in (flowLogs: true, or VPC_FLOW_LOGS in the app): they are billed per GB ingested ' +
        'and the services log their own requests.',
    );
  }
  return vpc;
}
