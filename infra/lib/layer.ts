// FlagstaffLayer: the Flagstaff SDK (and stores) as a Lambda layer version, so application functions
// share one copy and deploy only their own code. The zip is `flagstaff layer build`'s.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { AssetHashType, BundlingOutput, DockerImage, aws_lambda as lambda, RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { flagstaffCli } from './repository.js';

export type LayerStore = 'dynamodb' | 'redis';

export interface FlagstaffLayerProps {
  /** Stores bundled next to the SDK; default ['dynamodb']. */
  withStores?: LayerStore[];
  /**
   * A layer zip built beforehand (`flagstaff layer build --out ...`). Default: built during synth by
   * the flagstaff CLI, which needs nothing but this repository's sources.
   */
  zipFile?: string;
  layerVersionName?: string;
  /** Default nodejs20.x, nodejs22.x and nodejs24.x: the bundles target Node 20. */
  compatibleRuntimes?: lambda.Runtime[];
  /** Default: old versions are kept, so functions still using them keep deploying. */
  removalPolicy?: RemovalPolicy;
}

const LAYER_ZIP = 'flagstaff-layer.zip';

export class FlagstaffLayer extends Construct {
  readonly layer: lambda.LayerVersion;

  constructor(scope: Construct, id: string, props: FlagstaffLayerProps = {}) {
    super(scope, id);
    const stores = [...new Set(props.withStores ?? ['dynamodb'])].sort();
    for (const store of stores) {
      if (store !== 'dynamodb' && store !== 'redis') {
        throw new Error(`FlagstaffLayer: unknown store "${String(store)}" (dynamodb or redis)`);
      }
    }
    this.layer = new lambda.LayerVersion(this, 'Layer', {
      code: props.zipFile ? lambda.Code.fromAsset(props.zipFile) : layerBuiltBySynth(stores),
      layerVersionName: props.layerVersionName,
      description: `Flagstaff SDK${stores.length ? ` with the ${stores.join(' and ')} store` : ''} (/opt/nodejs/node_modules)`,
      license: 'Apache-2.0',
      compatibleRuntimes: props.compatibleRuntimes ?? [
        lambda.Runtime.NODEJS_20_X,
        lambda.Runtime.NODEJS_22_X,
        lambda.Runtime.NODEJS_24_X,
      ],
      // Plain JavaScript: the same zip runs on both.
      compatibleArchitectures: [lambda.Architecture.X86_64, lambda.Architecture.ARM_64],
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  get layerVersionArn(): string {
    return this.layer.layerVersionArn;
  }
}

/**
 * The zip as an asset built at synth. CDK constructs are synchronous and `buildLayer` is not, so the CLI
 * runs as a child process through local bundling. The asset is hashed by its output: the builder writes
 * byte-identical zips for identical sources, so an unchanged layer is not republished.
 */
function layerBuiltBySynth(stores: string[]): lambda.Code {
  const cli = flagstaffCli();
  return lambda.Code.fromAsset(cli.cwd, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // CDK requires an image, but it is never run: tryBundle either builds the zip or throws.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:20-alpine'),
      outputType: BundlingOutput.ARCHIVED,
      local: {
        tryBundle(outputDir: string): boolean {
          const args = [...cli.args, 'layer', 'build', '--out', join(outputDir, LAYER_ZIP)];
          for (const store of stores) args.push('--with', store);
          try {
            execFileSync(cli.command, args, { cwd: cli.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
          } catch (err) {
            const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
            throw new Error(`flagstaff layer build failed${stderr ? `: ${stderr}` : ''}`);
          }
          return true;
        },
      },
    },
  });
}
