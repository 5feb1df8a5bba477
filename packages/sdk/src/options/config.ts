import type { LDLogger } from '../api/logger.js';
import type { LDOptions } from '../api/options.js';
import { basicLogger } from '../logging/basicLogger.js';

/** Validated options with defaults applied; durations in milliseconds. */
export interface Config {
  sdkKey: string;
  baseUri: string;
  streamUri: string;
  eventsUri: string;
  stream: boolean;
  streamInitialReconnectDelayMs: number;
  pollIntervalMs: number;
  timeoutMs: number;
  offline: boolean;
  sendEvents: boolean;
  capacity: number;
  flushIntervalMs: number;
  allAttributesPrivate: boolean;
  privateAttributes: string[];
  contextKeysCapacity: number;
  contextKeysFlushIntervalMs: number;
  featureStore: LDOptions['featureStore'];
  useLdd: boolean;
  updateProcessor: LDOptions['updateProcessor'];
  logger: LDLogger;
  application: LDOptions['application'];
  wrapperName: string | undefined;
  wrapperVersion: string | undefined;
  diagnosticOptOut: boolean;
  diagnosticRecordingIntervalMs: number;
  payloadFilterKey: string | undefined;
  enableEventCompression: boolean;
  /** Which of the three URIs the caller set (diagnostics report custom URIs). */
  customUris: { base: boolean; stream: boolean; events: boolean };
}

export const DEFAULT_BASE_URI = 'https://sdk.launchdarkly.com';
export const DEFAULT_STREAM_URI = 'https://stream.launchdarkly.com';
export const DEFAULT_EVENTS_URI = 'https://events.launchdarkly.com';

type Check = 'string' | 'boolean' | 'number' | 'stringArray' | 'function' | 'object' | 'storeOrFactory';

// Every option the SDK knows, its type and its default (seconds where LaunchDarkly uses seconds).
const SPEC: Record<string, { check: Check; min?: number; fallback?: unknown }> = {
  baseUri: { check: 'string', fallback: DEFAULT_BASE_URI },
  streamUri: { check: 'string', fallback: DEFAULT_STREAM_URI },
  eventsUri: { check: 'string', fallback: DEFAULT_EVENTS_URI },
  stream: { check: 'boolean', fallback: true },
  streamInitialReconnectDelay: { check: 'number', min: 0, fallback: 1 },
  pollInterval: { check: 'number', min: 30, fallback: 30 },
  timeout: { check: 'number', min: 1, fallback: 10 },
  offline: { check: 'boolean', fallback: false },
  sendEvents: { check: 'boolean', fallback: true },
  capacity: { check: 'number', min: 1, fallback: 10_000 },
  flushInterval: { check: 'number', min: 0, fallback: 5 },
  allAttributesPrivate: { check: 'boolean', fallback: false },
  privateAttributes: { check: 'stringArray', fallback: [] },
  contextKeysCapacity: { check: 'number', min: 1, fallback: 1000 },
  contextKeysFlushInterval: { check: 'number', min: 0, fallback: 300 },
  featureStore: { check: 'storeOrFactory' },
  useLdd: { check: 'boolean', fallback: false },
  updateProcessor: { check: 'function' },
  logger: { check: 'object' },
  application: { check: 'object' },
  wrapperName: { check: 'string' },
  wrapperVersion: { check: 'string' },
  diagnosticOptOut: { check: 'boolean', fallback: false },
  diagnosticRecordingInterval: { check: 'number', min: 60, fallback: 900 },
  payloadFilterKey: { check: 'string' },
  enableEventCompression: { check: 'boolean', fallback: false },
};

// Names LaunchDarkly's older SDK used, still accepted.
const ALIASES: Record<string, string> = {
  userKeysCapacity: 'contextKeysCapacity',
  userKeysFlushInterval: 'contextKeysFlushInterval',
};

const PAYLOAD_FILTER = /^[a-zA-Z0-9](\w|\.|-)*$/;

function typeOk(check: Check, value: unknown): boolean {
  switch (check) {
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'stringArray':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'function':
      return typeof value === 'function';
    case 'object':
      return value !== null && typeof value === 'object';
    case 'storeOrFactory':
      return typeof value === 'function' || (value !== null && typeof value === 'object');
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/**
 * Applies defaults and checks every option. A wrong type or unknown name is reported once through the
 * logger and the default is used, as LaunchDarkly's SDKs do; nothing here throws.
 */
export function buildConfig(sdkKey: string, options: LDOptions = {}): Config {
  const raw: Record<string, unknown> = { ...(options as Record<string, unknown>) };
  const logger: LDLogger = isLogger(raw.logger) ? raw.logger : basicLogger();
  const warnings: string[] = [];
  if (raw.logger !== undefined && !isLogger(raw.logger)) {
    warnings.push(
      'Config option "logger" should be an object with error, warn, info and debug; using the default',
    );
  }
  for (const [alias, name] of Object.entries(ALIASES)) {
    if (raw[alias] !== undefined && raw[name] === undefined) raw[name] = raw[alias];
    delete raw[alias];
  }
  const values: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    const spec = SPEC[name];
    if (spec === undefined) {
      warnings.push(`Ignoring unknown config option "${name}"`);
      continue;
    }
    if (value === undefined || value === null || name === 'logger') continue;
    if (!typeOk(spec.check, value)) {
      warnings.push(
        `Config option "${name}" should be of type ${spec.check === 'stringArray' ? 'string[]' : spec.check}, got ${describe(value)}; using the default`,
      );
      continue;
    }
    if (spec.min !== undefined && (value as number) < spec.min) {
      warnings.push(`Config option "${name}" must be at least ${spec.min}, got ${value}; using ${spec.min}`);
      values[name] = spec.min;
      continue;
    }
    values[name] = value;
  }
  const get = <T>(name: string): T => (values[name] ?? SPEC[name]!.fallback) as T;

  const customUris = {
    base: values.baseUri !== undefined,
    stream: values.streamUri !== undefined,
    events: values.eventsUri !== undefined,
  };
  const setCount = Number(customUris.base) + Number(customUris.stream) + Number(customUris.events);
  if (setCount > 0 && setCount < 3 && !get<boolean>('offline') && !get<boolean>('useLdd')) {
    warnings.push(
      'Only some of baseUri, streamUri and eventsUri are set; the others still point at LaunchDarkly. Set all three to use your own service.',
    );
  }
  let payloadFilterKey = get<string | undefined>('payloadFilterKey');
  if (payloadFilterKey !== undefined && !PAYLOAD_FILTER.test(payloadFilterKey)) {
    warnings.push(
      `Config option "payloadFilterKey" is not a valid filter key ("${payloadFilterKey}"); ignoring it`,
    );
    payloadFilterKey = undefined;
  }
  for (const w of warnings) logger.warn(w);

  return {
    sdkKey,
    baseUri: trimSlashes(get('baseUri')),
    streamUri: trimSlashes(get('streamUri')),
    eventsUri: trimSlashes(get('eventsUri')),
    stream: get('stream'),
    streamInitialReconnectDelayMs: get<number>('streamInitialReconnectDelay') * 1000,
    pollIntervalMs: get<number>('pollInterval') * 1000,
    timeoutMs: get<number>('timeout') * 1000,
    offline: get('offline'),
    sendEvents: get('sendEvents'),
    capacity: Math.floor(get<number>('capacity')),
    flushIntervalMs: get<number>('flushInterval') * 1000,
    allAttributesPrivate: get('allAttributesPrivate'),
    privateAttributes: get('privateAttributes'),
    contextKeysCapacity: Math.floor(get<number>('contextKeysCapacity')),
    contextKeysFlushIntervalMs: get<number>('contextKeysFlushInterval') * 1000,
    featureStore: values.featureStore as LDOptions['featureStore'],
    useLdd: get('useLdd'),
    updateProcessor: values.updateProcessor as LDOptions['updateProcessor'],
    logger,
    application: values.application as LDOptions['application'],
    wrapperName: get('wrapperName'),
    wrapperVersion: get('wrapperVersion'),
    diagnosticOptOut: get('diagnosticOptOut'),
    diagnosticRecordingIntervalMs: get<number>('diagnosticRecordingInterval') * 1000,
    payloadFilterKey,
    enableEventCompression: get('enableEventCompression'),
    customUris,
  };
}

function isLogger(value: unknown): value is LDLogger {
  if (value === null || typeof value !== 'object') return false;
  const l = value as Record<string, unknown>;
  return ['error', 'warn', 'info', 'debug'].every((m) => typeof l[m] === 'function');
}

function trimSlashes(uri: string): string {
  return uri.replace(/\/+$/, '');
}
