import { readFileSync } from 'node:fs';
import type { RelayEnvironmentConfig } from './environment.js';

/**
 * Relay configuration (spec §8.1), read from LaunchDarkly Relay's environment variables and, optionally,
 * a JSON file. The file uses the same settings in nested camelCase form; environment variables win over
 * it, as with LaunchDarkly's `--config file --from-env`:
 *
 * ```json
 * {
 *   "main": { "port": 8030, "streamUri": "...", "baseUri": "...", "initTimeout": "10s",
 *             "ignoreConnectionErrors": false, "heartbeatInterval": "3m", "disconnectedStatusTime": "1m" },
 *   "events": { "enabled": true, "eventsHost": "https://events.example.com" },
 *   "dynamoDB": { "enabled": true, "tableName": "flags", "url": "http://localhost:8000" },
 *   "redis": { "enabled": false, "url": "redis://localhost:6379" },
 *   "cacheTTL": "30s",
 *   "prometheus": { "enabled": true },
 *   "environments": {
 *     "Prod": { "sdkKey": "sdk-...", "mobileKey": "mob-...", "clientSideId": "...", "prefix": "p", "tableName": "t" }
 *   }
 * }
 * ```
 *
 * Durations are strings with units (`30s`, `1m30s`, `500ms`) as in LaunchDarkly's configuration, or
 * numbers of milliseconds in the file.
 */
export interface RelayConfig {
  port: number;
  streamUri: string;
  baseUri: string;
  initTimeoutMs: number;
  ignoreConnectionErrors: boolean;
  heartbeatIntervalMs: number;
  /** How long a data source may be down before /status calls the environment disconnected. */
  disconnectedStatusTimeMs: number;
  usePrometheus: boolean;
  events: { enabled: boolean; eventsHost: string };
  store?: StoreConfig;
  environments: RelayEnvironmentConfig[];
}

export type StoreConfig =
  | { kind: 'dynamodb'; tableName?: string; endpoint?: string; cacheTtlMs: number }
  | { kind: 'redis'; url: string; cacheTtlMs: number };

export const DEFAULTS = {
  port: 8030,
  streamUri: 'https://stream.launchdarkly.com',
  baseUri: 'https://sdk.launchdarkly.com',
  eventsHost: 'https://events.launchdarkly.com',
  initTimeoutMs: 10_000,
  heartbeatIntervalMs: 3 * 60_000,
  disconnectedStatusTimeMs: 60_000,
  cacheTtlMs: 30_000,
  redisUrl: 'redis://localhost:6379',
} as const;

/** Every problem found, one message each, so an operator fixes them all in one go. */
export class RelayConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid relay configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'RelayConfigError';
  }
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** Command-line arguments (after the script): `--config file.json` is recognized. */
  argv?: readonly string[];
}

/**
 * Obscures a credential for logs and /status (spec §8.3): the `xxx-` prefix and the last 5 characters
 * stay, everything else but dashes becomes `*`, so operators can tell keys apart without leaking them.
 */
export function maskKey(key: string): string {
  if (key.length <= 9) return '*'.repeat(key.length);
  const head = /^[a-z]{3}-/.test(key) ? key.slice(0, 4) : '';
  const middle = key.slice(head.length, -5).replace(/[^-]/g, '*');
  return `${head}${middle}${key.slice(-5)}`;
}

// Where each value came from, so messages name what the operator wrote: `PORT` or `relay.json: main.port`.
interface Setting {
  value: string;
  source: string;
}

/** Reads and validates the configuration; throws RelayConfigError listing every problem. */
export function loadConfig(options: LoadConfigOptions = {}): RelayConfig {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const settings = new Map<string, Setting>();

  const file = configFilePath(options.argv ?? [], env, problems);
  if (file !== undefined) readConfigFile(file, settings, problems);
  // Environment variables override the file.
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined) settings.set(name, { value, source: name });
  }

  const get = (name: string): Setting | undefined => settings.get(name);
  const str = (name: string, fallback: string): string => {
    const s = get(name);
    return s === undefined || s.value.trim() === '' ? fallback : s.value.trim();
  };
  const bool = (name: string): boolean => {
    const s = get(name);
    if (s === undefined) return false;
    const v = s.value.trim().toLowerCase();
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0' || v === '') return false;
    problems.push(`${s.source}: "${s.value}" is not a boolean (use true, false, 1 or 0)`);
    return false;
  };
  const duration = (name: string, fallback: number): number => {
    const s = get(name);
    if (s === undefined || s.value.trim() === '') return fallback;
    const ms = parseDuration(s.value.trim());
    if (ms === undefined) {
      problems.push(`${s.source}: "${s.value}" is not a duration (use units, e.g. 10s, 1m30s, 500ms)`);
      return fallback;
    }
    return ms;
  };
  const uri = (name: string, fallback: string): string => {
    const value = str(name, fallback);
    if (!/^https?:\/\/[^/]/i.test(value) || !URL.canParse(value)) {
      problems.push(`${get(name)?.source ?? name}: "${value}" is not an http(s) URL`);
    }
    // Paths are appended (`/all`), so a trailing slash would double up.
    return value.replace(/\/+$/, '');
  };

  let port: number = DEFAULTS.port;
  const portSetting = get('PORT');
  if (portSetting !== undefined && portSetting.value.trim() !== '') {
    const n = Number(portSetting.value.trim());
    if (!/^\d+$/.test(portSetting.value.trim()) || !Number.isInteger(n) || n < 0 || n > 65535) {
      problems.push(`${portSetting.source}: "${portSetting.value}" is not a port number`);
    } else {
      port = n;
    }
  }

  const environments = readEnvironments(settings, problems);

  const useDynamo = bool('USE_DYNAMODB');
  const useRedis = bool('USE_REDIS');
  const cacheTtlMs = duration('CACHE_TTL', DEFAULTS.cacheTtlMs);
  let store: StoreConfig | undefined;
  if (useDynamo && useRedis) {
    problems.push('USE_DYNAMODB, USE_REDIS: only one persistent store may be enabled');
  } else if (useDynamo) {
    const tableName = get('DYNAMODB_TABLE')?.value.trim() || undefined;
    const endpoint = get('DYNAMODB_URL')?.value.trim() ? uri('DYNAMODB_URL', '') : undefined;
    for (const e of environments) {
      if (tableName === undefined && e.tableName === undefined) {
        problems.push(
          `DYNAMODB_TABLE: must be set when USE_DYNAMODB is on (or set LD_TABLE_NAME_${e.name} for environment ${e.name})`,
        );
      }
    }
    store = { kind: 'dynamodb', tableName, endpoint, cacheTtlMs };
  } else if (useRedis) {
    const url = str('REDIS_URL', DEFAULTS.redisUrl);
    if (!/^rediss?:\/\//i.test(url) || !URL.canParse(url)) {
      problems.push(
        `${get('REDIS_URL')?.source ?? 'REDIS_URL'}: "${url}" is not a redis:// or rediss:// URL`,
      );
    }
    store = { kind: 'redis', url, cacheTtlMs };
  }
  if (store !== undefined) warnSharedStore(environments, store, problems);

  const config: RelayConfig = {
    port,
    streamUri: uri('STREAM_URI', DEFAULTS.streamUri),
    baseUri: uri('BASE_URI', DEFAULTS.baseUri),
    initTimeoutMs: duration('INIT_TIMEOUT', DEFAULTS.initTimeoutMs),
    ignoreConnectionErrors: bool('IGNORE_CONNECTION_ERRORS'),
    heartbeatIntervalMs: duration('HEARTBEAT_INTERVAL', DEFAULTS.heartbeatIntervalMs),
    disconnectedStatusTimeMs: duration('DISCONNECTED_STATUS_TIME', DEFAULTS.disconnectedStatusTimeMs),
    usePrometheus: bool('USE_PROMETHEUS'),
    events: { enabled: bool('USE_EVENTS'), eventsHost: uri('EVENTS_HOST', DEFAULTS.eventsHost) },
    environments,
  };
  if (store !== undefined) config.store = store;
  if (config.heartbeatIntervalMs <= 0) problems.push('HEARTBEAT_INTERVAL: must be greater than zero');
  if (problems.length > 0) throw new RelayConfigError(problems);
  return config;
}

function readEnvironments(settings: Map<string, Setting>, problems: string[]): RelayEnvironmentConfig[] {
  const perEnv = ['LD_ENV_', 'LD_CLIENT_SIDE_ID_', 'LD_MOBILE_KEY_', 'LD_PREFIX_', 'LD_TABLE_NAME_'];
  const names = new Set<string>();
  for (const name of settings.keys()) {
    const prefix = perEnv.find((p) => name.startsWith(p) && name.length > p.length);
    if (prefix !== undefined) names.add(name.slice(prefix.length));
  }
  const environments: RelayEnvironmentConfig[] = [];
  const seen = new Map<string, string>();
  for (const name of [...names].sort()) {
    const value = (key: string) => settings.get(`${key}${name}`)?.value.trim() || undefined;
    const sdkKey = value('LD_ENV_');
    if (sdkKey === undefined) {
      problems.push(`LD_ENV_${name}: must be set to the environment's SDK key`);
      continue;
    }
    const env: RelayEnvironmentConfig = { name, sdkKey };
    const mobileKey = value('LD_MOBILE_KEY_');
    const clientSideId = value('LD_CLIENT_SIDE_ID_');
    const prefix = value('LD_PREFIX_');
    const tableName = value('LD_TABLE_NAME_');
    if (mobileKey !== undefined) env.mobileKey = mobileKey;
    if (clientSideId !== undefined) env.clientSideId = clientSideId;
    if (prefix !== undefined) env.prefix = prefix;
    if (tableName !== undefined) env.tableName = tableName;
    // Two environments answering to one credential would make authentication ambiguous.
    for (const [kind, credential] of [
      ['LD_ENV_', sdkKey],
      ['LD_MOBILE_KEY_', mobileKey],
      ['LD_CLIENT_SIDE_ID_', clientSideId],
    ] as const) {
      if (credential === undefined) continue;
      const other = seen.get(`${kind}${credential}`);
      if (other !== undefined) {
        problems.push(`${kind}${name}: same value as ${kind}${other} (${maskKey(credential)})`);
      }
      seen.set(`${kind}${credential}`, name);
    }
    environments.push(env);
  }
  if (environments.length === 0 && names.size === 0) {
    problems.push('LD_ENV_<NAME>: no environment configured (set e.g. LD_ENV_Production to an SDK key)');
  }
  return environments;
}

// Environments sharing a table (DynamoDB) or key space (Redis) without distinct prefixes would
// overwrite each other's data, which LaunchDarkly only warns about; here it is refused, as a warning
// nobody reads loses flags.
function warnSharedStore(
  environments: RelayEnvironmentConfig[],
  store: StoreConfig,
  problems: string[],
): void {
  const places = new Map<string, string>();
  for (const env of environments) {
    const table = store.kind === 'dynamodb' ? (env.tableName ?? store.tableName ?? '') : '';
    const place = `${table}\u0000${env.prefix ?? ''}`;
    const other = places.get(place);
    if (other !== undefined) {
      problems.push(
        `LD_PREFIX_${env.name}: environments ${other} and ${env.name} would share one ${store.kind} data set; give them distinct prefixes or tables`,
      );
    }
    places.set(place, env.name);
  }
}

/** Go-style durations: `10s`, `1m30s`, `500ms`, `1h`; `0` alone. Undefined when unreadable. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    part.lastIndex = pos;
    const match = part.exec(text);
    if (match === null) return undefined;
    total += Number(match[1]) * (units[match[2]!] ?? 0);
    pos = part.lastIndex;
  }
  return pos === 0 ? undefined : Math.round(total);
}

function configFilePath(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  problems: string[],
): string | undefined {
  const i = argv.findIndex((a) => a === '--config' || a.startsWith('--config='));
  if (i >= 0) {
    const arg = argv[i]!;
    const path = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[i + 1];
    if (path === undefined || path === '') {
      problems.push('--config: a file path must follow');
      return undefined;
    }
    return path;
  }
  const fromEnv = env.FLAGSTAFF_RELAY_CONFIG?.trim();
  return fromEnv ? fromEnv : undefined;
}

// The file's settings, mapped onto the environment variable names so one validation covers both.
const FILE_KEYS: Record<string, Record<string, string>> = {
  main: {
    port: 'PORT',
    streamUri: 'STREAM_URI',
    baseUri: 'BASE_URI',
    initTimeout: 'INIT_TIMEOUT',
    ignoreConnectionErrors: 'IGNORE_CONNECTION_ERRORS',
    heartbeatInterval: 'HEARTBEAT_INTERVAL',
    disconnectedStatusTime: 'DISCONNECTED_STATUS_TIME',
  },
  events: { enabled: 'USE_EVENTS', eventsHost: 'EVENTS_HOST' },
  dynamoDB: { enabled: 'USE_DYNAMODB', tableName: 'DYNAMODB_TABLE', url: 'DYNAMODB_URL' },
  redis: { enabled: 'USE_REDIS', url: 'REDIS_URL' },
  prometheus: { enabled: 'USE_PROMETHEUS' },
};
const ENV_FILE_KEYS: Record<string, string> = {
  sdkKey: 'LD_ENV_',
  mobileKey: 'LD_MOBILE_KEY_',
  clientSideId: 'LD_CLIENT_SIDE_ID_',
  prefix: 'LD_PREFIX_',
  tableName: 'LD_TABLE_NAME_',
};
const DURATION_VARS = new Set([
  'INIT_TIMEOUT',
  'HEARTBEAT_INTERVAL',
  'DISCONNECTED_STATUS_TIME',
  'CACHE_TTL',
]);

function readConfigFile(path: string, settings: Map<string, Setting>, problems: string[]): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    problems.push(`${path}: cannot be read as JSON (${(err as Error).message})`);
    return;
  }
  if (!isRecord(parsed)) {
    problems.push(`${path}: must hold a JSON object`);
    return;
  }
  const put = (name: string, value: unknown, where: string) => {
    const source = `${path}: ${where}`;
    if (typeof value === 'number' && DURATION_VARS.has(name))
      settings.set(name, { value: `${value}ms`, source });
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      settings.set(name, { value: String(value), source });
    } else problems.push(`${source}: must be a string, number or boolean`);
  };
  for (const [section, value] of Object.entries(parsed)) {
    if (section === 'cacheTTL') {
      put('CACHE_TTL', value, section);
    } else if (section === 'environments') {
      if (!isRecord(value)) {
        problems.push(`${path}: environments must be an object of environment names`);
        continue;
      }
      for (const [name, envValue] of Object.entries(value)) {
        if (!/^\w+$/.test(name)) problems.push(`${path}: environments.${name}: names are letters, digits, _`);
        if (!isRecord(envValue)) {
          problems.push(`${path}: environments.${name} must be an object`);
          continue;
        }
        for (const [key, v] of Object.entries(envValue)) {
          const prefix = ENV_FILE_KEYS[key];
          if (prefix === undefined)
            problems.push(`${path}: environments.${name}.${key} is not a known setting`);
          else put(`${prefix}${name}`, v, `environments.${name}.${key}`);
        }
      }
    } else {
      const keys = FILE_KEYS[section];
      if (keys === undefined || !isRecord(value)) {
        problems.push(`${path}: ${section} is not a known section`);
        continue;
      }
      for (const [key, v] of Object.entries(value)) {
        const name = keys[key];
        if (name === undefined) problems.push(`${path}: ${section}.${key} is not a known setting`);
        else put(name, v, `${section}.${key}`);
      }
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The configuration as it may be logged: every credential masked. */
export function describeConfig(config: RelayConfig): Record<string, unknown> {
  return {
    ...config,
    environments: config.environments.map((e) => ({
      ...e,
      sdkKey: maskKey(e.sdkKey),
      ...(e.mobileKey !== undefined ? { mobileKey: maskKey(e.mobileKey) } : {}),
    })),
    ...(config.store?.kind === 'redis' ? { store: { ...config.store, url: maskUrl(config.store.url) } } : {}),
  };
}

/** A Redis URL without its password. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '****';
    return u.toString();
  } catch {
    return url;
  }
}
