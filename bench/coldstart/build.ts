/**
 * The cold-start processes load our built `dist`, as a Lambda function does, so it has to match the
 * sources. Same rule as bench/sdk/build.ts, for the three packages this benchmark loads: a package is
 * rebuilt when any of its build inputs is newer than the oldest file of its dist (the build deletes dist
 * first, so the oldest file marks the start of the last build).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const PACKAGES = [
  { dir: 'packages/eval', name: '@flagstaff/eval' },
  { dir: 'packages/sdk', name: '@flagstaff/node-server-sdk' },
  { dir: 'packages/store-dynamodb', name: '@flagstaff/store-dynamodb' },
];

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

function mtimes(paths: string[]): number[] {
  return paths.filter((p) => existsSync(p)).map((p) => statSync(p).mtimeMs);
}

/** Why the dist of `root/dir` needs a rebuild, or undefined when it is current. */
function staleness(root: string, dir: string): string | undefined {
  if (
    !existsSync(join(root, dir, 'dist/esm/index.js')) ||
    !existsSync(join(root, dir, 'dist/cjs/index.js'))
  ) {
    return `${dir}/dist is missing`;
  }
  const built = mtimes(files(join(root, dir, 'dist')));
  const inputs = [
    ...files(join(root, dir, 'src')),
    ...['package.json', 'tsconfig.json'].map((f) => join(root, dir, f)),
    join(root, 'tsconfig.base.json'),
    join(root, 'scripts/build-package.mjs'),
  ];
  return Math.max(...mtimes(inputs)) > Math.min(...built) ? `${dir}/src is newer than its dist` : undefined;
}

/** Builds the stale packages (in dependency order); returns a sentence saying what was done. */
export function ensureBuilt(root: string): string {
  const stale = PACKAGES.map((pkg) => ({ ...pkg, reason: staleness(root, pkg.dir) })).filter(
    (pkg) => pkg.reason !== undefined,
  );
  if (stale.length === 0) return `${PACKAGES.map((p) => p.dir).join(', ')}: dist up to date with src`;
  const started = performance.now();
  try {
    execFileSync('npm', ['run', 'build', ...stale.flatMap((pkg) => ['-w', pkg.name])], {
      cwd: root,
      stdio: 'pipe',
    });
  } catch (err) {
    const output = (err as { stdout?: Buffer; stderr?: Buffer }).stdout?.toString() ?? '';
    throw new Error(`building the packages failed:\n${output}${String(err)}`);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  return `rebuilt ${stale.map((p) => `${p.dir} (${p.reason})`).join(', ')} in ${seconds} s`;
}
