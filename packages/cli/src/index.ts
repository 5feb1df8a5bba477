import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { main as relayMain } from '@flagstaff/relay';
import { banner, startDev } from './dev.js';
import { runServe } from './serve.js';

export { type DevInfo, type DevOptions, type DevServer, startDev } from './dev.js';
export { DEMO_PROJECT, seedDemo } from './seed.js';
export {
  type AdminTokenOutcome,
  databaseUrlFrom,
  ensureAdminToken,
  type RunningService,
  type ServeConfig,
  serveConfig,
  startServe,
} from './serve.js';

const USAGE = `Usage: flagstaff dev [--port N] [--relay-port N] [--dynamodb-port N] [--host ADDR] [--data-dir DIR]
       flagstaff serve [--port N] [--host ADDR] [--data-dir DIR]
       flagstaff relay [--config FILE]
       flagstaff layer build [--with dynamodb] [--with redis] [--out FILE.zip]

  dev    run the flag service locally on SQLite with demo data (the default command)
  serve  run the flag service for production, configured by environment variables
         (PORT, DATABASE_URL or PG*, FLAGSTAFF_ADMIN_TOKEN, ...; flagstaff serve --help)
  relay  run the relay proxy, configured by LaunchDarkly Relay's environment variables
         (LD_ENV_<NAME>, STREAM_URI, USE_DYNAMODB, ...) and optionally a JSON file
  layer  build an AWS Lambda layer zip with the SDK (and the stores given with --with)
         into --out (default: dist/flagstaff-layer.zip)

Options:
  --port N           flag service port (default: $PORT or 8040)
  --relay-port N     relay port (default: 8030)
  --dynamodb-port N  embedded DynamoDB port (default: 8000)
  --host ADDR      address to bind (default: 127.0.0.1)
  --data-dir DIR   where the database and dev.json live (default: ./.flagstaff)
  -h, --help       this help
`;

/** Runs the command line; resolves with an exit code, or never for `dev` (which runs until a signal). */
export async function main(argv: string[]): Promise<number | undefined> {
  // The relay has its own options (`--config`) and reads the environment; dev's parser would reject them.
  if (argv[0] === 'relay') return runRelay(argv.slice(1));
  if (argv[0] === 'layer') return runLayer(argv.slice(1));
  if (argv[0] === 'serve') return runServe(argv.slice(1));
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const command = positionals[0] ?? 'dev';
  if (command !== 'dev') {
    process.stderr.write(`Unknown command "${command}".\n\n${USAGE}`);
    return 2;
  }
  const ports: Record<string, number> = {};
  for (const [name, raw] of [
    ['port', values.port ?? process.env.PORT ?? '8040'],
    ['relay-port', values['relay-port'] ?? '8030'],
    ['dynamodb-port', values['dynamodb-port'] ?? '8000'],
  ] as const) {
    const port = Number(raw);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      process.stderr.write(`--${name} must be a port number (0-65535), got "${raw}"\n`);
      return 2;
    }
    ports[name] = port;
  }
  const dataDir = resolve(values['data-dir'] ?? process.env.FLAGSTAFF_DATA_DIR ?? '.flagstaff');
  const server = await startDev({
    port: ports.port!,
    relayPort: ports['relay-port']!,
    dynamoDBPort: ports['dynamodb-port']!,
    host: values.host ?? '127.0.0.1',
    dataDir,
  });
  process.stdout.write(banner(server.info, dataDir));
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: shutting down...\n`);
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  return undefined;
}

/** `flagstaff relay`: the relay's own entry point; it installs its signal handlers and runs until one. */
async function runRelay(argv: string[]): Promise<number | undefined> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  process.exitCode = undefined;
  try {
    await relayMain(argv);
  } catch (err) {
    // Startup failures (no data within INIT_TIMEOUT, port taken) exit non-zero, as LaunchDarkly's Relay.
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  // main reports configuration problems through the exit code rather than by throwing.
  const code = process.exitCode;
  return typeof code === 'number' && code !== 0 ? code : undefined;
}

/** `flagstaff layer build`: writes the Lambda layer zip and lists what is in it. */
async function runLayer(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseLayer>;
  try {
    parsed = parseLayer(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== 'build') {
    process.stderr.write(`Usage: flagstaff layer build [--with dynamodb] [--with redis] [--out FILE.zip]\n`);
    return 2;
  }
  const stores: ('dynamodb' | 'redis')[] = [];
  for (const store of values.with ?? []) {
    if (store !== 'dynamodb' && store !== 'redis') {
      process.stderr.write(`--with must be dynamodb or redis, got "${store}"\n`);
      return 2;
    }
    stores.push(store);
  }
  // Loaded here rather than at the top: esbuild is only needed for this command, not for `dev` or `relay`.
  const { buildLayer } = await import('@flagstaff/lambda');
  let result: Awaited<ReturnType<typeof buildLayer>>;
  try {
    result = await buildLayer({ withStores: stores, ...(values.out ? { out: values.out } : {}) });
  } catch (err) {
    process.stderr.write(`layer build failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const width = Math.max(...result.entries.map((entry) => entry.path.length));
  const lines = [`${result.out} (${formatBytes(result.bytes)})`];
  for (const entry of result.entries)
    lines.push(`  ${entry.path.padEnd(width)}  ${formatBytes(entry.bytes)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

function formatBytes(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

function parseLayer(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      with: { type: 'string', multiple: true },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      'relay-port': { type: 'string' },
      'dynamodb-port': { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
