// The environment variables Lambda gives the runtime and the extensions. Pure.
//
// Defined runtime variables: "Using Lambda environment variables", Defined runtime environment variables
// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
// Layer paths (NODE_PATH, PATH, LD_LIBRARY_PATH): "Packaging your layer content", Layer paths for each
// Lambda runtime (https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html#packaging-layers-paths).
// What extensions do not see: Extensions API, Permissions and configuration
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html).

import { join } from 'node:path';

export interface EnvironmentConfig {
  taskRoot: string;
  handler: string;
  optDir: string | undefined;
  functionName: string;
  memoryMb: number;
  region: string;
  /** host:port of the emulated Runtime and Extensions APIs. */
  runtimeApi: string;
  /** Directory of the runtime client (Lambda's `/var/runtime`). */
  runtimeDir: string;
  /** Directory of the `node` binary, put first on PATH so `#!/usr/bin/env node` scripts find it. */
  nodeDir: string;
  /** PATH of the test process, after the layer's and node's directories. */
  basePath: string;
  nodeMajor: number;
  logStreamName: string;
  user: Record<string, string>;
}

/** Variables only the runtime process gets (the Extensions API page's list). */
export const RUNTIME_ONLY_VARIABLES = [
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_XRAY_CONTEXT_MISSING',
  'AWS_XRAY_DAEMON_ADDRESS',
  'LAMBDA_RUNTIME_DIR',
  'LAMBDA_TASK_ROOT',
  '_AWS_XRAY_DAEMON_ADDRESS',
  '_AWS_XRAY_DAEMON_PORT',
  '_HANDLER',
  // The emulator's own switch for the runtime client (see toolchain notes); not Lambda's.
  'AWS_LAMBDA_NODEJS_USE_ALTERNATIVE_CLIENT_1',
];

export function runtimeEnvironment(c: EnvironmentConfig): Record<string, string> {
  const opt = c.optDir;
  const nodePath = [
    ...(opt === undefined
      ? []
      : [join(opt, 'nodejs', `node${c.nodeMajor}`, 'node_modules'), join(opt, 'nodejs', 'node_modules')]),
    c.runtimeDir,
    c.taskRoot,
  ];
  const path = [c.nodeDir, ...(opt === undefined ? [] : [join(opt, 'bin')]), c.basePath].filter(
    (p) => p !== '',
  );
  const env: Record<string, string> = {
    _HANDLER: c.handler,
    AWS_REGION: c.region,
    AWS_DEFAULT_REGION: c.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${c.nodeMajor}.x`,
    AWS_LAMBDA_FUNCTION_NAME: c.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(c.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${c.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: c.logStreamName,
    AWS_LAMBDA_RUNTIME_API: c.runtimeApi,
    AWS_LAMBDA_NODEJS_USE_ALTERNATIVE_CLIENT_1: 'true',
    LAMBDA_TASK_ROOT: c.taskRoot,
    LAMBDA_RUNTIME_DIR: c.runtimeDir,
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    PATH: path.join(':'),
    NODE_PATH: nodePath.join(':'),
  };
  if (opt !== undefined) env.LD_LIBRARY_PATH = join(opt, 'lib');
  return { ...env, ...c.user };
}

export function extensionEnvironment(runtimeEnv: Record<string, string>): Record<string, string> {
  const env = { ...runtimeEnv };
  for (const name of RUNTIME_ONLY_VARIABLES) delete env[name];
  return env;
}
