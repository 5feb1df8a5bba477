// Where this repository's parts are, for the constructs' defaults: the Dockerfiles and sources the
// images are built from and the CLI that builds the Lambda layer. A CDK app elsewhere passes its own
// image or layer zip instead.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: this file is `infra/lib/repository.ts`. */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The npm workspaces listed in the root package.json, e.g. `packages/relay`. */
export function workspaces(root = REPOSITORY_ROOT): string[] {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces?: unknown };
  if (!Array.isArray(manifest.workspaces)) return [];
  return manifest.workspaces.filter((entry): entry is string => typeof entry === 'string');
}

export interface CliCommand {
  /** The executable (this Node). */
  command: string;
  args: string[];
  cwd: string;
}

/**
 * How to run the `flagstaff` CLI: from its TypeScript sources through tsx when they are there (this
 * repository, where nothing needs building first, as `npm start` does), else its built entry point.
 */
export function flagstaffCli(from = dirname(fileURLToPath(import.meta.url))): CliCommand {
  const packageDir = findPackageDir('flagstaff', from);
  const sources = join(packageDir, 'src', 'run.ts');
  if (existsSync(sources)) {
    // `--import tsx` is resolved from the working directory, which therefore is the CLI's own.
    return {
      command: process.execPath,
      args: ['--conditions=flagstaff-source', '--import', 'tsx', sources],
      cwd: packageDir,
    };
  }
  return { command: process.execPath, args: [join(packageDir, 'bin', 'flagstaff.js')], cwd: packageDir };
}

/** A package's directory, found through the `node_modules` folders above `from`, as Node looks. */
export function findPackageDir(name: string, from: string): string {
  let dir = from;
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`Cannot find the ${name} package from ${from}: is it installed?`);
    dir = parent;
  }
}
