import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build } from 'esbuild';
import { type Zippable, zipSync } from 'fflate';

/** Stores that can be bundled into the layer next to the SDK. */
export type LayerStore = 'dynamodb' | 'redis';

export interface BuildLayerOptions {
  /** Stores to add to the layer; the SDK is always in it. */
  withStores?: LayerStore[];
  /** Where to write the zip, relative to the current directory (default `dist/flagstaff-layer.zip`). */
  out?: string;
  /**
   * Directory from which `@flagstaff/*` packages are resolved (default: this package's own directory,
   * whose dependencies they are).
   */
  resolveDir?: string;
}

export interface LayerEntry {
  /** Path inside the zip, e.g. `nodejs/node_modules/@flagstaff/node-server-sdk/index.js`. */
  path: string;
  /** Uncompressed size. */
  bytes: number;
}

export interface LayerBuildResult {
  /** Absolute path of the zip written. */
  out: string;
  /** Size of the zip. */
  bytes: number;
  /** The files in the zip, sorted by path. */
  entries: LayerEntry[];
}

export const DEFAULT_LAYER_OUT = 'dist/flagstaff-layer.zip';

const SDK = '@flagstaff/node-server-sdk';
const STORE_PACKAGES: Record<LayerStore, string> = {
  dynamodb: '@flagstaff/store-dynamodb',
  redis: '@flagstaff/store-redis',
};

// Zip timestamps are DOS local times from 1980 on; a fixed one makes two builds of the same sources
// byte-identical, so a layer is only republished when its contents change.
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);

/**
 * Builds a Lambda layer zip holding the Flagstaff SDK (and the stores asked for) as self-contained
 * CommonJS bundles under `nodejs/node_modules`, which Lambda puts on NODE_PATH as `/opt/nodejs/node_modules`.
 */
export async function buildLayer(options: BuildLayerOptions = {}): Promise<LayerBuildResult> {
  const stores = [...new Set(options.withStores ?? [])].sort();
  for (const store of stores) {
    if (!(store in STORE_PACKAGES)) throw new TypeError(`buildLayer: unknown store "${String(store)}"`);
  }
  const resolveDir = options.resolveDir ?? ownPackageDir();
  const lambdaDir = ownPackageDir();
  const files: Record<string, Uint8Array> = {};
  const executable = new Set<string>();
  for (const name of [SDK, ...stores.map((store) => STORE_PACKAGES[store])]) {
    const packageDir = findPackageDir(name, resolveDir);
    const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
      version: string;
    };
    const base = `nodejs/node_modules/${name}`;
    files[`${base}/index.js`] = await bundle(name, packageDir, name !== SDK);
    files[`${base}/package.json`] = new TextEncoder().encode(
      `${JSON.stringify({ name, version, main: 'index.js' }, null, 2)}\n`,
    );
  }
  // The handler wrapper (withFlags, getClient, getDataAge) as `@flagstaff/lambda`, using the layer's SDK.
  // The rest of this package (layer builder, sync function) has no business in a function's runtime.
  const lambdaBase = 'nodejs/node_modules/@flagstaff/lambda';
  files[`${lambdaBase}/index.js`] = await bundleFile(ownSource(lambdaDir, 'handler'), [SDK]);
  files[`${lambdaBase}/package.json`] = new TextEncoder().encode(
    `${JSON.stringify({ name: '@flagstaff/lambda', version: packageVersion(lambdaDir), main: 'index.js' }, null, 2)}\n`,
  );
  // The external extension: Lambda starts every executable in /opt/extensions before the runtime,
  // registered under its file name.
  files[EXTENSION_PATH] = await bundleFile(
    ownSource(lambdaDir, 'extension/entry'),
    [],
    '#!/usr/bin/env node',
  );
  executable.add(EXTENSION_PATH);
  const paths = Object.keys(files).sort();
  const zippable: Zippable = {};
  for (const path of paths) {
    // Unix 0644 so the files unpack readable whatever unzips them (Lambda, or `unzip` when inspecting).
    // The extension must be executable (0755) or Lambda cannot start it.
    const mode = executable.has(path) ? 0o100755 : 0o100644;
    zippable[path] = [files[path]!, { mtime: FIXED_MTIME, os: 3, attrs: mode << 16 }];
  }
  const zip = zipSync(zippable, { level: 9 });
  const out = resolve(options.out ?? DEFAULT_LAYER_OUT);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, zip);
  return {
    out,
    bytes: zip.byteLength,
    entries: paths.map((path) => ({ path, bytes: files[path]!.byteLength })),
  };
}

/** Where the extension sits in the zip (so at /opt/extensions/flagstaff). */
export const EXTENSION_PATH = 'extensions/flagstaff';

function packageVersion(packageDir: string): string {
  return (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;
}

/** A module of this package: its TypeScript source in the repository, its ESM build when installed. */
function ownSource(packageDir: string, module: string): string {
  const source = join(packageDir, 'src', `${module}.ts`);
  return existsSync(source) ? source : join(packageDir, 'dist', 'esm', `${module}.js`);
}

/** Bundles one entry (a file, or a package by name via `stdin`) as a minified CommonJS file for Node 20. */
async function runEsbuild(
  what: string,
  input: Pick<BuildOptions, 'entryPoints' | 'stdin' | 'nodePaths' | 'conditions' | 'banner'>,
  external: string[],
): Promise<Uint8Array> {
  const result = await build({
    ...input,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    // The Lambda Node.js runtime ships AWS SDK v3; bundling it would add megabytes and pin an old copy.
    external: ['@aws-sdk/*', ...external],
    write: false,
    logLevel: 'silent',
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error(`buildLayer: esbuild produced no output for ${what}`);
  return file.contents;
}

function bundleFile(entry: string, external: string[], banner?: string): Promise<Uint8Array> {
  return runEsbuild(
    entry,
    {
      entryPoints: [entry],
      conditions: ['flagstaff-source'],
      ...(banner === undefined ? {} : { banner: { js: banner } }),
    },
    external,
  );
}

function bundle(name: string, packageDir: string, isStore: boolean): Promise<Uint8Array> {
  // In this repository the packages' `flagstaff-source` export points at their TypeScript sources, so a
  // layer builds without building the packages first; a published install has only `dist`, so the
  // condition is used only where the sources are there.
  const fromSource = existsSync(join(packageDir, 'src', 'index.ts'));
  return runEsbuild(
    name,
    {
      stdin: { contents: `export * from '${name}';\n`, resolveDir: dirname(packageDir), loader: 'js' },
      // Resolve the package by name through its own directory's parents, as Node would.
      nodePaths: [nodeModulesOf(packageDir)],
      conditions: fromSource ? ['flagstaff-source'] : [],
    },
    // The stores load the SDK bundle from the layer rather than carrying their own, so that one copy of
    // the SDK (and of its classes, which `instanceof` checks compare) exists at run time.
    isStore ? [SDK] : [],
  );
}

/** The directory of an installed package, found by walking up `node_modules` folders as Node does. */
function findPackageDir(name: string, from: string): string {
  let dir = resolve(from);
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`buildLayer: cannot find ${name} from ${from}; is it installed?`);
    dir = parent;
  }
}

/** The `node_modules` folder holding a package (scoped packages sit one level deeper). */
function nodeModulesOf(packageDir: string): string {
  const parent = dirname(packageDir);
  return parent.split(/[\\/]/).pop()?.startsWith('@') ? dirname(parent) : parent;
}

/**
 * This package's directory, from which its dependencies resolve. It is found from the stack rather than
 * `import.meta.url` because the package is also compiled to CommonJS, where `import.meta` is a syntax error.
 */
function ownPackageDir(): string {
  const original = Error.prepareStackTrace;
  let file: string | undefined;
  try {
    Error.prepareStackTrace = (_err, frames) => frames;
    const frames = new Error().stack as unknown as NodeJS.CallSite[];
    file = frames[0]?.getFileName() ?? undefined;
  } finally {
    Error.prepareStackTrace = original;
  }
  if (!file) return process.cwd();
  let dir = dirname(file.startsWith('file:') ? fileURLToPath(file) : file);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) {
      const { name } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (name === '@flagstaff/lambda') return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}
