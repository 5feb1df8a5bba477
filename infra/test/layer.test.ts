// FlagstaffLayer: the zip is built during synth by `flagstaff layer build` (from this repository's
// sources, nothing built first), holds the SDK and the stores asked for, and is byte-identical across
// synths so that an unchanged layer is never republished. A prebuilt zip is used as given.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { FlagstaffLayer, type FlagstaffLayerProps } from '../lib/layer.js';
import { ENV, nagFindings, tempDir, testApp } from './support/cdk.js';

function synthLayer(props: FlagstaffLayerProps = {}) {
  const app = testApp();
  const stack = new Stack(app, 'LayerOnly', { env: ENV });
  new FlagstaffLayer(stack, 'Layer', props);
  const template = Template.fromStack(stack);
  const [layer] = Object.values(template.findResources('AWS::Lambda::LayerVersion'));
  const key = layer!.Properties.Content.S3Key as string;
  // File assets are staged as asset.<hash><extension> in the cloud assembly.
  const zip = readFileSync(join(app.outdir, `asset.${key}`));
  return { stack, template, key, zip };
}

describe('FlagstaffLayer built during synth', () => {
  const first = synthLayer();

  it('holds the SDK and the DynamoDB store under nodejs/node_modules, not the Redis store', () => {
    const files = unzipSync(new Uint8Array(first.zip));
    // What else the layer carries (the Lambda extension) is the layer builder's business.
    expect(Object.keys(files)).toEqual(
      expect.arrayContaining([
        'nodejs/node_modules/@flagstaff/node-server-sdk/index.js',
        'nodejs/node_modules/@flagstaff/node-server-sdk/package.json',
        'nodejs/node_modules/@flagstaff/store-dynamodb/index.js',
        'nodejs/node_modules/@flagstaff/store-dynamodb/package.json',
      ]),
    );
    expect(Object.keys(files).filter((path) => path.includes('store-redis'))).toEqual([]);
    const manifest = JSON.parse(
      new TextDecoder().decode(files['nodejs/node_modules/@flagstaff/store-dynamodb/package.json']),
    );
    expect(manifest).toMatchObject({ name: '@flagstaff/store-dynamodb', main: 'index.js' });
  });

  it('declares the Node.js runtimes and both architectures, and keeps old versions', () => {
    first.template.hasResource('AWS::Lambda::LayerVersion', {
      DeletionPolicy: 'Retain',
      Properties: {
        CompatibleRuntimes: ['nodejs20.x', 'nodejs22.x', 'nodejs24.x'],
        CompatibleArchitectures: ['x86_64', 'arm64'],
        LicenseInfo: 'Apache-2.0',
        Content: { S3Bucket: 'cdk-hnb659fds-assets-123456789012-us-east-1', S3Key: first.key },
      },
    });
  });

  it('gives the same bytes, hence the same asset, on the next synth; other stores give another', () => {
    const second = synthLayer();
    expect(second.key).toBe(first.key);
    expect(Buffer.compare(second.zip, first.zip)).toBe(0);
    const withRedis = synthLayer({ withStores: ['dynamodb', 'redis'] });
    expect(withRedis.key).not.toBe(first.key);
    expect(Object.keys(unzipSync(new Uint8Array(withRedis.zip)))).toContain(
      'nodejs/node_modules/@flagstaff/store-redis/index.js',
    );
  });

  it("passes cdk-nag's AwsSolutions checks with nothing to acknowledge", () => {
    expect(nagFindings(first.stack)).toEqual([]);
  });
});

describe('FlagstaffLayer from a prebuilt zip', () => {
  it('publishes the given file as it is', () => {
    const zipFile = join(tempDir(), 'prebuilt-layer.zip');
    writeFileSync(zipFile, zipSync({ 'nodejs/node_modules/marker.js': strToU8('module.exports = 1;\n') }));
    const { zip } = synthLayer({ zipFile });
    expect(Buffer.compare(zip, readFileSync(zipFile))).toBe(0);
  });

  it('refuses an unknown store', () => {
    expect(() => synthLayer({ withStores: ['mongodb' as never] })).toThrowError(/unknown store "mongodb"/);
  });
});
