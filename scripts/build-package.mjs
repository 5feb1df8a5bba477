// Builds the package in the current directory twice from one source tree: ES modules (with type
// declarations) into dist/esm and CommonJS into dist/cjs, so both `import` and `require` users get
// native code without a bundler.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const common = ['--rootDir', 'src', '--declaration', '--sourceMap', '--skipLibCheck'];

rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--outDir', 'dist/esm', ...common], {
  stdio: 'inherit',
});
execFileSync(
  process.execPath,
  [
    tsc,
    '-p',
    'tsconfig.json',
    '--outDir',
    'dist/cjs',
    ...common,
    '--module',
    'CommonJS',
    '--moduleResolution',
    'Node10',
    '--verbatimModuleSyntax',
    'false',
    '--declaration',
    'false',
    '--customConditions',
    'null',
  ],
  { stdio: 'inherit' },
);
mkdirSync('dist/cjs', { recursive: true });
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n');
