// cdk-nag 3 runs as a CDK validation plugin and honours CDK's own acknowledgements (Validations), which
// it finds on a resource or any construct above it. Every acknowledgement here carries its reason.
import { Validations } from 'aws-cdk-lib';
import cdkNag from 'cdk-nag';
import type { IConstruct } from 'constructs';

// A default import: cdk-nag is CommonJS re-exporting its submodules at run time, which Node's ES module
// loader cannot list for named imports.
export const { AwsSolutionsChecks } = cdkNag;

/**
 * Accepts a finding on `scope` and everything under it. A rule that reports several findings on one
 * resource (IAM5, IAM4) is accepted one finding at a time: `AwsSolutions-IAM5[Resource::*]`.
 */
export function acceptFinding(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}
