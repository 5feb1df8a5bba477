/**
 * The cold-start processes: each run is a fresh `node` running children/coldstart.cjs (or .mjs) for one
 * variant, timed by this process from spawn to exit, while dynalite (in this process) records the
 * DynamoDB requests the run made.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalDynamoDB, ServedRequest } from './dynamo.js';

const childrenDir = join(dirname(fileURLToPath(import.meta.url)), 'children');

export interface Variant {
  label: string;
  /** `coldstart.cjs`/`.mjs` with the config below as its argument, or `node -e ''` when absent. */
  script?: 'coldstart.cjs' | 'coldstart.mjs';
  config?: Record<string, unknown>;
  /** Credentials and region in the environment, as Lambda provides them, instead of in the options. */
  envCredentials?: boolean;
}

/** What a child prints: ms since its process started when each step finished. */
export interface ChildTimes {
  scriptStart?: number;
  required?: number;
  created?: number;
  ready?: number;
  firstValue?: number;
  value?: unknown;
  /** Whether `@aws-sdk/client-dynamodb` had been loaded by the end of the run. */
  awsSdkV3?: boolean;
  all?: Record<string, unknown>;
}

export interface Run extends ChildTimes {
  /** Spawn to exit, measured by the parent. */
  wall: number;
  requests: ServedRequest[];
}

function childEnv(db: LocalDynamoDB, variant: Variant): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // Nothing from this shell that could change what a child loads or how the AWS SDKs configure
  // themselves: no NODE_OPTIONS (tsx), no AWS_* (profiles, regions, endpoints).
  for (const [name, value] of Object.entries(process.env)) {
    if (name !== 'NODE_OPTIONS' && !name.startsWith('AWS_')) env[name] = value;
  }
  // As in Lambda; it also keeps AWS SDK v2 from printing its end-of-support notice, as it does there.
  env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs20.x';
  if (variant.envCredentials) {
    env.AWS_REGION = db.region;
    env.AWS_DEFAULT_REGION = db.region;
    env.AWS_ACCESS_KEY_ID = db.accessKeyId;
    env.AWS_SECRET_ACCESS_KEY = db.secretAccessKey;
    // Lambda's role credentials always come with a session token.
    env.AWS_SESSION_TOKEN = 'bench-session-token';
  }
  return env;
}

export function runChild(
  db: LocalDynamoDB,
  variant: Variant,
  extra: Record<string, unknown> = {},
): Promise<Run> {
  const args =
    variant.script === undefined
      ? ['-e', '']
      : [variant.script, JSON.stringify({ ...variant.config, ...extra })];
  db.takeRequests();
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let wall = 0;
    const child = spawn(process.execPath, args, {
      cwd: childrenDir,
      env: childEnv(db, variant),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('exit', () => {
      wall = performance.now() - started;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const requests = db.takeRequests();
      if (code !== 0) {
        reject(new Error(`${variant.label}: child exited with ${code}\n${stderr}`));
        return;
      }
      if (variant.script === undefined) {
        resolve({ wall, requests });
        return;
      }
      try {
        resolve({ ...(JSON.parse(stdout) as ChildTimes), wall, requests });
      } catch {
        reject(new Error(`${variant.label}: unexpected output ${JSON.stringify(stdout)}\n${stderr}`));
      }
    });
  });
}
