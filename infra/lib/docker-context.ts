// The Docker build context of the repository's images. Both Dockerfiles build from the repository root
// (the workspace lockfile is there), and `cdk synth` copies the whole context into cdk.out to hash it:
// with node_modules, .git and earlier cdk.out folders that is gigabytes, and any edit anywhere would
// rebuild every image. So the context is an allow-list: the root manifests, every workspace's
// package.json (npm ci checks them all against the lockfile) and the sources the image compiles.
import { workspaces } from './repository.js';

/** Build output, dependencies, tests and local state, never wanted even inside an allowed folder. */
const NEVER = [
  '**/node_modules',
  '**/dist',
  '**/cdk.out',
  '**/test',
  '**/*.test.ts',
  '**/coverage',
  '**/*.tsbuildinfo',
  '**/*.log',
  '**/.flagstaff',
  '**/.env',
  '**/test-artifacts',
];

/**
 * Exclude patterns (Docker's .dockerignore syntax, which CDK applies when staging the context) that keep
 * only `sources` (folders or files), the Dockerfile and what every image needs for `npm ci`.
 */
export function dockerContextExcludes(dockerfile: string, sources: string[], root?: string): string[] {
  const keep = [
    'package.json',
    'package-lock.json',
    'tsconfig.base.json',
    'scripts/build-package.mjs',
    ...workspaces(root).map((workspace) => `${workspace}/package.json`),
    ...sources,
    dockerfile,
  ];
  return ['*', ...keep.map((path) => `!${path}`), ...NEVER];
}

/** What the relay image compiles: the relay and the workspaces it imports. */
export const RELAY_IMAGE_SOURCES = [
  'packages/eval',
  'packages/sdk',
  'packages/store-dynamodb',
  'packages/store-redis',
  'packages/relay',
];

/**
 * What the flag service image compiles: the server, the dashboard it serves, and the CLI whose `serve`
 * command starts it (the CLI also imports the relay and the Lambda kit, for its other commands).
 */
export const SERVICE_IMAGE_SOURCES = [
  ...RELAY_IMAGE_SOURCES,
  'packages/server',
  'packages/dashboard',
  'packages/lambda',
  'packages/cli',
];
