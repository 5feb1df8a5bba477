// Shared by the infra tests: apps configured like infra/cdk.json, cdk-nag's AwsSolutions report for a
// scope, and the acknowledgements (suppressions) recorded in a construct tree.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, aws_ecs as ecs, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { afterAll } from 'vitest';
import { AwsSolutionsChecks } from '../../lib/nag.js';

export const INFRA_DIR = fileURLToPath(new URL('../..', import.meta.url));
export const ENV = { account: '123456789012', region: 'us-east-1' };
/** A registry image: no Docker build context is staged for it. */
export const STUB_IMAGE = ecs.ContainerImage.fromRegistry('public.ecr.aws/example/flagstaff:test');

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = 'flagstaff-infra-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  outdirs.push(dir);
  return dir;
}

/**
 * An app with cdk.json's feature flags, writing to a temporary directory. `bundling: false` skips asset
 * bundling (CDK's own `aws:cdk:bundling-stacks` switch) where a test looks only at the template.
 * CDK's built-in CloudFormation schema validation is off unless asked for: loading its schemas takes
 * about 9 s per process, and app.test.ts runs it on the whole app through the CLI.
 */
export function testApp(options: { bundling?: boolean; cloudFormationValidation?: boolean } = {}): App {
  const { context } = JSON.parse(readFileSync(join(INFRA_DIR, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return new App({
    outdir: tempDir('flagstaff-cdk-out-'),
    builtinCloudFormationValidation: options.cloudFormationValidation ?? false,
    context: { ...context, ...(options.bundling === false ? { 'aws:cdk:bundling-stacks': [] } : {}) },
  });
}

/** `RuleId[finding]` and construct path of every AwsSolutions finding not acknowledged in `scope`. */
export function nagFindings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks(scope).validateScope(scope);
  return report.violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => `${violation.ruleName} at ${resource.constructPath}`),
  );
}

export interface Acknowledgement {
  path: string;
  id: string;
  reason: string;
}

/** Every acknowledged rule in the tree, where it was acknowledged and why. */
export function acknowledgements(scope: IConstruct): Acknowledgement[] {
  const found: Acknowledgement[] = [];
  for (const construct of scope.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        // CDK records rule IDs it does not know as annotation IDs; cdk-nag reads them the same way.
        found.push({ path: construct.node.path, id: id.replace(/^annotation::/i, ''), reason });
      }
    }
  }
  return found;
}
