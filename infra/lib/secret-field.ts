// A credential kept in Secrets Manager: a whole secret, or one field of a JSON secret (several SDK keys in
// one secret, say). Constructs turn it into an ECS secret or a secret the function reads at cold start,
// never into a value in the template.
import { aws_ecs as ecs, aws_secretsmanager as secretsmanager } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

export interface SecretField {
  secret: secretsmanager.ISecret;
  /** The JSON field holding the value; the whole SecretString when absent. */
  field?: string;
}

export function ecsSecret(source: SecretField): ecs.Secret {
  return ecs.Secret.fromSecretsManager(source.secret, source.field);
}

/**
 * An existing secret by name or full ARN, as `.env` files give them. A full ARN (what create-secret
 * prints, with its six-character suffix) is used as is; a name is matched by IAM with a wildcard for the
 * suffix. Partial ARNs are not accepted: they cannot be told apart from full ones reliably.
 */
export function importSecret(scope: Construct, id: string, nameOrArn: string): secretsmanager.ISecret {
  if (nameOrArn.startsWith('arn:')) return secretsmanager.Secret.fromSecretCompleteArn(scope, id, nameOrArn);
  return secretsmanager.Secret.fromSecretNameV2(scope, id, nameOrArn);
}
