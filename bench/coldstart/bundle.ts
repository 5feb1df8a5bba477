/**
 * Deployment size: each side bundled with esbuild as a Lambda function would bundle it (platform node,
 * CommonJS, minified), with the AWS SDK left external because the Lambda runtime provides it (v3; the
 * seed's v2 is marked external too, so only the SDK and store code are compared).
 */
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { markdownTable } from '../lib/table.js';

interface Entry {
  label: string;
  contents: string;
  /** Where imports of the entry are resolved from. */
  resolveDir: string;
  external: string[];
}

/** Which package a bundled input belongs to, for the breakdown. */
function owner(path: string): string {
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (inModules) return inModules[1]!;
  const inPackages = /packages\/([^/]+)/.exec(path);
  return inPackages ? `packages/${inPackages[1]}` : path;
}

function breakdown(metafile: Metafile): string {
  const bytes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      bytes.set(owner(path), (bytes.get(owner(path)) ?? 0) + input.bytesInOutput);
    }
  }
  return [...bytes]
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${(n / 1024).toFixed(1)}`)
    .join(', ');
}

export async function printBundleSizes(repoRoot: string): Promise<void> {
  const interop = `${repoRoot}/packages/interop-v7`;
  const entries: Entry[] = [
    {
      label: 'ours: init + DynamoDBFeatureStore (what a daemon-mode handler imports)',
      contents:
        "export { init } from '@flagstaff/node-server-sdk';\n" +
        "export { DynamoDBFeatureStore } from '@flagstaff/store-dynamodb';\n",
      resolveDir: `${repoRoot}/bench`,
      external: ['@aws-sdk/*'],
    },
    {
      label: 'ours: both packages, every export',
      contents: "export * from '@flagstaff/node-server-sdk';\nexport * from '@flagstaff/store-dynamodb';\n",
      resolveDir: `${repoRoot}/bench`,
      external: ['@aws-sdk/*'],
    },
    {
      label: 'seed: launchdarkly-node-server-sdk@7 + launchdarkly-node-server-sdk-dynamodb@4',
      contents:
        "module.exports = { sdk: require('launchdarkly-node-server-sdk'), " +
        "store: require('launchdarkly-node-server-sdk-dynamodb') };\n",
      resolveDir: interop,
      external: ['aws-sdk', 'aws-sdk/*'],
    },
  ];
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const entry of entries) {
    const result = await build({
      stdin: { contents: entry.contents, resolveDir: entry.resolveDir, sourcefile: 'entry.js', loader: 'js' },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      minify: true,
      external: entry.external,
      write: false,
      metafile: true,
      outfile: 'bundle.js',
      logLevel: 'error',
    });
    const code = result.outputFiles[0]!.contents;
    rows.push([
      entry.label,
      entry.external.join(', '),
      `${(code.length / 1024).toFixed(1)}`,
      `${(gzipSync(code, { level: 9 }).length / 1024).toFixed(1)}`,
    ]);
    notes.push(
      `- ${entry.label.split(':')[0]}, ${entry.label.split(': ')[1]}: ${breakdown(result.metafile)}`,
    );
  }
  console.log(
    markdownTable(['bundle', 'external', 'minified KiB', 'gzip -9 KiB'], rows, [
      'left',
      'left',
      'right',
      'right',
    ]),
  );
  console.log('\nMinified KiB per package in each bundle:\n');
  console.log(notes.join('\n'));
}
