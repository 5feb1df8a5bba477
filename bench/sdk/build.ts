/**
 * The cold-start and heap processes load our packages' built `dist`, as users do, so the build has to
 * match the sources. It is rebuilt when any source or build input is newer than the oldest file of a
 * package's dist (the build deletes dist first, so its oldest file marks the start of the last build).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const PACKAGES = ['packages/eval', 'packages/sdk'];

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

function mtimes(paths: string[]): number[] {
  return paths.filter((p) => existsSync(p)).map((p) => statSync(p).mtimeMs);
}

/** Why the dist of `root/pkg` needs a rebuild, or undefined when it is current. */
function staleness(root: string, pkg: string): string | undefined {
  const built = mtimes(files(join(root, pkg, 'dist')));
  if (
    !existsSync(join(root, pkg, 'dist/esm/index.js')) ||
    !existsSync(join(root, pkg, 'dist/cjs/index.js'))
  ) {
    return `${pkg}/dist is missing`;
  }
  const inputs = [
    ...files(join(root, pkg, 'src')),
    ...['package.json', 'tsconfig.json'].map((f) => join(root, pkg, f)),
    join(root, 'tsconfig.base.json'),
    join(root, 'scripts/build-package.mjs'),
  ];
  return Math.max(...mtimes(inputs)) > Math.min(...built) ? `${pkg}/src is newer than its dist` : undefined;
}

/** Builds both packages if either is out of date; returns a sentence saying what was done. */
export function ensureBuilt(root: string): string {
  const reasons = PACKAGES.map((pkg) => staleness(root, pkg)).filter((r) => r !== undefined);
  if (reasons.length === 0) return 'packages/eval and packages/sdk dist are up to date with their sources';
  const started = performance.now();
  try {
    execFileSync('npm', ['run', 'build', '-w', '@flagstaff/eval', '-w', '@flagstaff/node-server-sdk'], {
      cwd: root,
      stdio: 'pipe',
    });
  } catch (err) {
    const output = (err as { stdout?: Buffer; stderr?: Buffer }).stdout?.toString() ?? '';
    throw new Error(`building the packages failed:\n${output}${String(err)}`);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  return `rebuilt packages/eval and packages/sdk (${reasons.join('; ')}) in ${seconds} s`;
}
