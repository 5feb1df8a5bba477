import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

/** Where the built dashboard lives, if anywhere: the directory holding its `index.html`. */
export function locateDashboard(): string | undefined {
  const fromEnv = process.env.FLAGSTAFF_DASHBOARD_DIR;
  if (fromEnv) return resolve(fromEnv);
  // No `import.meta` here: the ESM and CommonJS builds share this source. The package is looked up
  // from the working directory (a workspace checkout or an app that depends on it) and, in the
  // CommonJS build, from this file too (an installed server next to an installed dashboard).
  const bases = [join(process.cwd(), 'index.js')];
  if (typeof __filename === 'string') bases.push(__filename);
  for (const base of bases) {
    try {
      const manifest = createRequire(base).resolve('@flagstaff/dashboard/package.json');
      const dist = join(dirname(manifest), 'dist');
      if (existsSync(join(dist, 'index.html'))) return dist;
    } catch {
      // Not installed from there: try the next place.
    }
  }
  return undefined;
}
