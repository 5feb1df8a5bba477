import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type DataSourceContext,
  init,
  integrations,
  type LDClient,
  type LDEvaluationDetailTyped,
  type LDLogger,
} from '@flagstaff/node-server-sdk';
import {
  type Client,
  ErrorCode,
  type EvaluationContext,
  OpenFeature,
  ProviderEvents,
  ProviderStatus,
  StandardResolutionReasons,
} from '@openfeature/server-sdk';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ERROR_CODES, FlagstaffProvider, PROVIDER_VERSION, REASONS, translateContext } from '../src/index.js';

interface RecordingLogger extends LDLogger {
  warnings: string[];
  errors: string[];
}

function recordingLogger(): RecordingLogger {
  const warnings: string[] = [];
  const errors: string[] = [];
  return {
    warnings,
    errors,
    debug() {},
    info() {},
    warn: (...args: unknown[]) => warnings.push(args.join(' ')),
    error: (...args: unknown[]) => errors.push(args.join(' ')),
  };
}

/** A data source that never delivers anything: a client without network, for timeout tests. */
const silentDataSource = () => ({ start() {}, stop() {} });

const user = { targetingKey: 'user-1' };

afterEach(async () => {
  // Closes every provider (and so its client) and forgets handlers, so no test sees another's state.
  await OpenFeature.clearProviders();
  OpenFeature.clearHandlers();
  vi.restoreAllMocks();
});

async function startProvider(
  td: integrations.TestData,
): Promise<{ provider: FlagstaffProvider; client: Client; logger: RecordingLogger }> {
  const logger = recordingLogger();
  const provider = new FlagstaffProvider('sdk-key', {
    updateProcessor: td.getFactory(),
    sendEvents: false,
    logger,
  });
  await OpenFeature.setProviderAndWait(provider);
  return { provider, client: OpenFeature.getClient(), logger };
}

const booleanFlag = { on: true, variations: [true, false], offVariation: 1, fallthrough: { variation: 0 } };

describe('reasons, through the OpenFeature client', () => {
  it('maps every non-error reason kind, with the variant and flag metadata', async () => {
    const td = new integrations.TestData();
    await td.update(td.flag('off').on(false));
    await td.update(td.flag('targeted').variationForUser('user-1', false));
    await td.update(td.flag('ruled').ifMatch('user', 'plan', 'gold').thenReturn(false));
    await td.update(td.flag('fallthrough'));
    await td.usePreconfiguredFlag({ ...booleanFlag, key: 'prereq', on: false });
    await td.usePreconfiguredFlag({
      ...booleanFlag,
      key: 'dependent',
      prerequisites: [{ key: 'prereq', variation: 0 }],
    });
    await td.usePreconfiguredFlag({
      ...booleanFlag,
      key: 'experiment',
      fallthrough: {
        rollout: { kind: 'experiment', seed: 1, variations: [{ variation: 0, weight: 100000 }] },
      },
    });
    await td.usePreconfiguredFlag({
      ...booleanFlag,
      key: 'off-without-variation',
      on: false,
      offVariation: undefined,
    });
    const { client } = await startProvider(td);

    const off = await client.getBooleanDetails('off', true, user);
    expect(off).toMatchObject({ value: false, reason: StandardResolutionReasons.DISABLED, variant: '1' });
    expect(off.flagMetadata).toEqual({ reasonKind: 'OFF' });
    expect(off.errorCode).toBeUndefined();

    const targeted = await client.getBooleanDetails('targeted', true, user);
    expect(targeted).toMatchObject({ value: false, reason: 'TARGETING_MATCH', variant: '1' });
    expect(targeted.flagMetadata).toEqual({ reasonKind: 'TARGET_MATCH' });

    const ruled = await client.getBooleanDetails('ruled', true, { ...user, plan: 'gold' });
    expect(ruled).toMatchObject({ value: false, reason: 'TARGETING_MATCH', variant: '1' });
    expect(ruled.flagMetadata).toEqual({ reasonKind: 'RULE_MATCH', ruleIndex: 0, ruleId: 'rule0' });

    const fallthrough = await client.getBooleanDetails('fallthrough', false, user);
    expect(fallthrough).toMatchObject({
      value: true,
      reason: StandardResolutionReasons.DEFAULT,
      variant: '0',
    });
    expect(fallthrough.flagMetadata).toEqual({ reasonKind: 'FALLTHROUGH' });

    const dependent = await client.getBooleanDetails('dependent', true, user);
    expect(dependent).toMatchObject({
      value: false,
      reason: StandardResolutionReasons.DEFAULT,
      variant: '1',
    });
    expect(dependent.flagMetadata).toEqual({ reasonKind: 'PREREQUISITE_FAILED', prerequisiteKey: 'prereq' });

    const experiment = await client.getBooleanDetails('experiment', false, user);
    expect(experiment).toMatchObject({
      value: true,
      reason: StandardResolutionReasons.DEFAULT,
      variant: '0',
    });
    expect(experiment.flagMetadata).toEqual({ reasonKind: 'FALLTHROUGH', inExperiment: true });

    // No variation chosen: the default value, no variant, and no error.
    const offNoVariation = await client.getBooleanDetails('off-without-variation', true, user);
    expect(offNoVariation).toMatchObject({ value: true, reason: StandardResolutionReasons.DISABLED });
    expect(offNoVariation.variant).toBeUndefined();
    expect(offNoVariation.errorCode).toBeUndefined();
  });

  it('reports a malformed flag as PARSE_ERROR with the default value', async () => {
    const td = new integrations.TestData();
    await td.usePreconfiguredFlag({ ...booleanFlag, key: 'malformed', fallthrough: { variation: 7 } });
    const { client } = await startProvider(td);
    const details = await client.getBooleanDetails('malformed', true, user);
    expect(details).toMatchObject({
      value: true,
      reason: StandardResolutionReasons.ERROR,
      errorCode: ErrorCode.PARSE_ERROR,
    });
    expect(details.flagMetadata).toEqual({ reasonKind: 'ERROR', errorKind: 'MALFORMED_FLAG' });
  });

  // Errors the test data cannot provoke (EXCEPTION, CLIENT_NOT_READY on a ready client) come from a stubbed
  // client method, still read through OpenFeature.
  it.each([
    ['CLIENT_NOT_READY', ErrorCode.PROVIDER_NOT_READY],
    ['FLAG_NOT_FOUND', ErrorCode.FLAG_NOT_FOUND],
    ['MALFORMED_FLAG', ErrorCode.PARSE_ERROR],
    ['USER_NOT_SPECIFIED', ErrorCode.INVALID_CONTEXT],
    ['WRONG_TYPE', ErrorCode.TYPE_MISMATCH],
    ['EXCEPTION', ErrorCode.GENERAL],
  ] as const)('maps error kind %s to %s', async (errorKind, errorCode) => {
    const { provider, client } = await startProvider(new integrations.TestData());
    const detail: LDEvaluationDetailTyped<boolean> = {
      value: true,
      variationIndex: null,
      reason: { kind: 'ERROR', errorKind },
    };
    vi.spyOn(provider.getClient(), 'boolVariationDetail').mockResolvedValue(detail);
    const details = await client.getBooleanDetails('any', false, user);
    expect(details).toMatchObject({ value: false, reason: 'ERROR', errorCode });
    expect(details.errorMessage).toEqual(expect.any(String));
    expect(ERROR_CODES[errorKind]).toBe(errorCode);
  });

  it('turns a rejected client call into GENERAL with the default value, not an exception', async () => {
    const { provider, client, logger } = await startProvider(new integrations.TestData());
    vi.spyOn(provider.getClient(), 'stringVariationDetail').mockRejectedValue(new Error('store is down'));
    const details = await client.getStringDetails('any', 'fallback', user);
    expect(details).toMatchObject({ value: 'fallback', reason: 'ERROR', errorCode: ErrorCode.GENERAL });
    expect(details.errorMessage).toContain('store is down');
    expect(logger.errors.join('\n')).toContain('store is down');
  });

  it('has a table entry for every reason kind', () => {
    expect(REASONS).toEqual({
      OFF: 'DISABLED',
      TARGET_MATCH: 'TARGETING_MATCH',
      RULE_MATCH: 'TARGETING_MATCH',
      FALLTHROUGH: 'DEFAULT',
      PREREQUISITE_FAILED: 'DEFAULT',
    });
  });
});

describe('types', () => {
  it('evaluates string, number and object flags', async () => {
    const td = new integrations.TestData();
    await td.update(td.flag('colour').variations('red', 'green').variationForAll(1));
    await td.update(td.flag('limit').variations(10, 20).variationForAll(0));
    await td.update(td.flag('config').valueForAll({ retries: 3, hosts: ['a', 'b'] }));
    await td.update(td.flag('list').valueForAll([1, 2]));
    const { client } = await startProvider(td);

    expect(await client.getStringDetails('colour', 'none', user)).toMatchObject({
      value: 'green',
      variant: '1',
    });
    expect(await client.getNumberDetails('limit', 0, user)).toMatchObject({ value: 10, variant: '0' });
    expect(await client.getObjectDetails('config', {}, user)).toMatchObject({
      value: { retries: 3, hosts: ['a', 'b'] },
      reason: 'DEFAULT',
      variant: '0',
    });
    expect(await client.getObjectValue('list', [], user)).toEqual([1, 2]);
  });

  it('reports TYPE_MISMATCH with the default value for every typed method', async () => {
    const td = new integrations.TestData();
    await td.update(td.flag('bool'));
    await td.update(td.flag('config').valueForAll({ a: 1 }));
    await td.update(td.flag('null-value').valueForAll(null));
    const { client } = await startProvider(td);

    const mismatch = { reason: 'ERROR', errorCode: ErrorCode.TYPE_MISMATCH };
    expect(await client.getStringDetails('bool', 'x', user)).toMatchObject({ ...mismatch, value: 'x' });
    expect(await client.getNumberDetails('bool', 7, user)).toMatchObject({ ...mismatch, value: 7 });
    expect(await client.getBooleanDetails('config', true, user)).toMatchObject({ ...mismatch, value: true });
    expect(await client.getObjectDetails('bool', { d: 1 }, user)).toMatchObject({
      ...mismatch,
      value: { d: 1 },
    });
    const nullValue = await client.getObjectDetails('null-value', { d: 2 }, user);
    expect(nullValue).toMatchObject({ ...mismatch, value: { d: 2 } });
    expect(nullValue.errorMessage).toContain('null value');
  });

  it('reports an unknown flag as FLAG_NOT_FOUND with the default value', async () => {
    const { client } = await startProvider(new integrations.TestData());
    const details = await client.getBooleanDetails('no-such-flag', true, user);
    expect(details).toMatchObject({ value: true, reason: 'ERROR', errorCode: ErrorCode.FLAG_NOT_FOUND });
    expect(details.errorMessage).toContain('no-such-flag');
  });
});

describe('contexts', () => {
  it('reports a missing targeting key as TARGETING_KEY_MISSING and logs a warning', async () => {
    const td = new integrations.TestData();
    await td.update(td.flag('flag'));
    const { client, logger } = await startProvider(td);

    const details = await client.getBooleanDetails('flag', false, { plan: 'gold' });
    expect(details).toMatchObject({
      value: false,
      reason: 'ERROR',
      errorCode: ErrorCode.TARGETING_KEY_MISSING,
    });
    expect(logger.warnings.some((w) => w.includes('no targeting key'))).toBe(true);

    const emptyKey = await client.getBooleanDetails('flag', false, { targetingKey: '' });
    expect(emptyKey.errorCode).toBe(ErrorCode.TARGETING_KEY_MISSING);
  });

  it('accepts `key` in place of `targetingKey`, and prefers targetingKey when both are set', async () => {
    const td = new integrations.TestData();
    await td.update(
      td.flag('flag').variationForUser('by-key', false).variationForUser('by-targeting-key', false),
    );
    const { client, logger } = await startProvider(td);
    expect(await client.getBooleanDetails('flag', true, { key: 'by-key' })).toMatchObject({
      value: false,
      reason: 'TARGETING_MATCH',
    });
    const both = await client.getBooleanDetails('flag', true, { targetingKey: 'by-targeting-key', key: 'x' });
    expect(both).toMatchObject({ value: false, reason: 'TARGETING_MATCH' });
    expect(logger.warnings.some((w) => w.includes('both "targetingKey" and "key"'))).toBe(true);
  });

  it('reports an invalid context that has a key as INVALID_CONTEXT', async () => {
    const td = new integrations.TestData();
    await td.update(td.flag('flag'));
    const { client } = await startProvider(td);
    const details = await client.getBooleanDetails('flag', false, { targetingKey: 'k', kind: 'no spaces!' });
    expect(details).toMatchObject({ value: false, reason: 'ERROR', errorCode: ErrorCode.INVALID_CONTEXT });
  });

  it('evaluates single contexts of other kinds and multi-kind contexts', async () => {
    const td = new integrations.TestData();
    await td.update(td.flag('org-flag').variationForContext('org', 'org-1', false));
    await td.update(td.flag('rule-flag').ifMatch('org', 'tier', 'enterprise').thenReturn(false));
    const { client } = await startProvider(td);

    const org = { kind: 'org', targetingKey: 'org-1' };
    expect(await client.getBooleanValue('org-flag', true, org)).toBe(false);
    // The same key of another kind does not match the org target.
    expect(await client.getBooleanValue('org-flag', true, { targetingKey: 'org-1' })).toBe(true);

    const multi: EvaluationContext = {
      kind: 'multi',
      user: { targetingKey: 'user-1', name: 'Ada' },
      org: { targetingKey: 'org-1', tier: 'enterprise' },
    };
    expect(await client.getBooleanDetails('org-flag', true, multi)).toMatchObject({
      value: false,
      reason: 'TARGETING_MATCH',
      flagMetadata: { reasonKind: 'TARGET_MATCH' },
    });
    expect(
      await client.getBooleanDetails('rule-flag', true, {
        ...multi,
        org: { targetingKey: 'o2', tier: 'enterprise' },
      }),
    ).toMatchObject({ value: false, flagMetadata: { reasonKind: 'RULE_MATCH' } });

    const memberWithoutKey = await client.getBooleanDetails('org-flag', true, {
      kind: 'multi',
      user: { targetingKey: 'user-1' },
      org: { tier: 'enterprise' },
    });
    expect(memberWithoutKey).toMatchObject({ value: true, errorCode: ErrorCode.TARGETING_KEY_MISSING });
  });

  it('translates attributes as LaunchDarkly documents for its provider', () => {
    const logger = recordingLogger();
    const when = new Date('2024-05-06T07:08:09.000Z');
    expect(
      translateContext(
        {
          targetingKey: 'u1',
          name: 'Ada',
          anonymous: true,
          signedUp: when,
          nested: { at: when, list: [when, 1] },
          privateAttributes: ['email', '/nested/at'],
          email: 'ada@example.com',
        },
        logger,
      ),
    ).toEqual({
      keyMissing: false,
      context: {
        kind: 'user',
        key: 'u1',
        name: 'Ada',
        anonymous: true,
        signedUp: '2024-05-06T07:08:09.000Z',
        nested: { at: '2024-05-06T07:08:09.000Z', list: ['2024-05-06T07:08:09.000Z', 1] },
        email: 'ada@example.com',
        _meta: { privateAttributes: ['email', '/nested/at'] },
      },
    });
    expect(logger.warnings).toEqual([]);

    expect(
      translateContext(
        {
          kind: 'multi',
          user: { targetingKey: 'u1', privateAttributes: ['plan'], plan: 'gold' },
          org: { key: 'o1', anonymous: false },
        },
        logger,
      ),
    ).toEqual({
      keyMissing: false,
      context: {
        kind: 'multi',
        user: { key: 'u1', plan: 'gold', _meta: { privateAttributes: ['plan'] } },
        org: { key: 'o1', anonymous: false },
      },
    });
  });

  it('drops attributes of the wrong type with a warning', () => {
    const logger = recordingLogger();
    const { context, keyMissing } = translateContext(
      { targetingKey: 'u1', kind: 5, name: 7, anonymous: 'yes', privateAttributes: 'email' },
      logger,
    );
    expect(keyMissing).toBe(false);
    expect(context).toEqual({ kind: 'user', key: 'u1', _meta: { privateAttributes: [] } });
    expect(logger.warnings).toHaveLength(4);

    const multi = translateContext(
      { kind: 'multi', targetingKey: 'top', user: { targetingKey: 'u1' } },
      logger,
    );
    expect(multi.context).toEqual({ kind: 'multi', user: { key: 'u1' } });
    expect(logger.warnings.at(-1)).toContain('"targetingKey" is ignored');
  });
});

describe('events', () => {
  it('emits ConfigurationChanged with the changed flag key after a TestData update', async () => {
    const td = new integrations.TestData();
    await td.update(td.flag('flag'));
    const { client } = await startProvider(td);
    const changed = new Promise<string[] | undefined>((resolve) => {
      client.addHandler(ProviderEvents.ConfigurationChanged, (details) => resolve(details?.flagsChanged));
    });

    await td.update(td.flag('flag').variationForAll(false));
    expect(await changed).toEqual(['flag']);
    expect(await client.getBooleanValue('flag', true, user)).toBe(false);
  });

  it('becomes READY through setProviderAndWait and emits PROVIDER_READY', async () => {
    const ready = vi.fn();
    OpenFeature.addHandler(ProviderEvents.Ready, ready);
    await startProvider(new integrations.TestData());
    expect(OpenFeature.getClient().providerStatus).toBe(ProviderStatus.READY);
    expect(ready).toHaveBeenCalledTimes(1);
  });
});

describe('initialization timeout', () => {
  it('rejects setProviderAndWait instead of hanging when the data source never becomes ready', async () => {
    const logger = recordingLogger();
    const provider = new FlagstaffProvider('sdk-key', {
      updateProcessor: silentDataSource,
      sendEvents: false,
      logger,
      initializationTimeout: 0.2,
    });
    const errorEvent = vi.fn();
    OpenFeature.addHandler(ProviderEvents.Error, errorEvent);

    const started = Date.now();
    const outcome = await OpenFeature.setProviderAndWait(provider).then(
      () => undefined,
      (e: unknown) => e,
    );
    // Rejected by the 0.2 s timeout rather than hanging (a generous bound, not a speed test).
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toContain('initialization timeout of 0.2 seconds');
    expect((outcome as { code?: string }).code).toBe(ErrorCode.PROVIDER_NOT_READY);
    expect(OpenFeature.getClient().providerStatus).toBe(ProviderStatus.ERROR);
    expect(errorEvent).toHaveBeenCalledTimes(1);

    const client = OpenFeature.getClient();
    expect(await client.getBooleanDetails('flag', true, user)).toMatchObject({
      value: true,
      reason: 'ERROR',
      errorCode: ErrorCode.PROVIDER_NOT_READY,
    });
    expect(await client.getObjectDetails('flag', { a: 1 }, user)).toMatchObject({
      value: { a: 1 },
      errorCode: ErrorCode.PROVIDER_NOT_READY,
    });
  });

  it('becomes READY when the client connects after the timeout', async () => {
    let source: DataSourceContext | undefined;
    const provider = new FlagstaffProvider('sdk-key', {
      updateProcessor: (context) => {
        source = context;
        return { start() {}, stop() {} };
      },
      sendEvents: false,
      logger: recordingLogger(),
      initializationTimeout: 0.1,
    });
    await expect(OpenFeature.setProviderAndWait(provider)).rejects.toThrow(/initialization timeout/);
    const client = OpenFeature.getClient();
    const ready = new Promise<void>((resolve) => client.addHandler(ProviderEvents.Ready, () => resolve()));

    await source!.updates.init({
      flags: { flag: { key: 'flag', version: 1, ...booleanFlag } },
      segments: {},
    });
    source!.status.ready();
    await ready;
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    expect(await client.getBooleanDetails('flag', false, user)).toMatchObject({
      value: true,
      reason: 'DEFAULT',
    });
  });

  it('goes FATAL when the client fails for good, during or after initialization', async () => {
    const failing = new FlagstaffProvider('sdk-key', {
      updateProcessor: (context) => ({
        start: () => setImmediate(() => context.status.failed(new Error('HTTP 401: invalid SDK key'))),
        stop() {},
      }),
      sendEvents: false,
      logger: recordingLogger(),
    });
    await expect(OpenFeature.setProviderAndWait(failing)).rejects.toThrow(/invalid SDK key/);
    expect(OpenFeature.getClient().providerStatus).toBe(ProviderStatus.FATAL);
    expect(await OpenFeature.getClient().getBooleanDetails('flag', true, user)).toMatchObject({
      value: true,
      errorCode: ErrorCode.PROVIDER_FATAL,
    });

    let source: DataSourceContext | undefined;
    const late = new FlagstaffProvider('sdk-key', {
      updateProcessor: (context) => {
        source = context;
        return { start() {}, stop() {} };
      },
      sendEvents: false,
      logger: recordingLogger(),
      initializationTimeout: 0.1,
    });
    await expect(OpenFeature.setProviderAndWait('late', late)).rejects.toThrow(/initialization timeout/);
    const client = OpenFeature.getClient('late');
    expect(client.providerStatus).toBe(ProviderStatus.ERROR);
    // A handler added while the status is ERROR runs at once for that status; wait for the new event.
    const error = new Promise<string>((resolve) =>
      client.addHandler(ProviderEvents.Error, (details) => {
        if (details?.message?.includes('HTTP 403')) resolve(details.message);
      }),
    );
    source!.status.failed(new Error('HTTP 403'));
    expect(await error).toContain('the client failed');
    expect(client.providerStatus).toBe(ProviderStatus.FATAL);
  });

  it('reports a missing SDK key through the provider status instead of throwing', async () => {
    const provider = new FlagstaffProvider('', { logger: recordingLogger() });
    await expect(OpenFeature.setProviderAndWait(provider)).rejects.toThrow(/SDK key is required/);
    // The stand-in offline client becoming ready must not lift the FATAL status.
    await new Promise((resolve) => setImmediate(resolve));
    expect(OpenFeature.getClient().providerStatus).toBe(ProviderStatus.FATAL);
  });

  it('uses the default timeout, with a warning, for an unusable value', async () => {
    const logger = recordingLogger();
    const provider = new FlagstaffProvider('sdk-key', {
      updateProcessor: new integrations.TestData().getFactory(),
      sendEvents: false,
      logger,
      initializationTimeout: Number.POSITIVE_INFINITY,
    });
    expect(logger.warnings.join('\n')).toContain('initializationTimeout');
    await provider.onClose();
  });
});

describe('wrapping an existing client', () => {
  it('evaluates through the given client and closes it on OpenFeature.close()', async () => {
    const td = new integrations.TestData();
    await td.update(td.flag('flag').variationForAll(false));
    const ldClient: LDClient = init('sdk-key', {
      updateProcessor: td.getFactory(),
      sendEvents: false,
      logger: recordingLogger(),
    });
    const provider = new FlagstaffProvider(ldClient, { initializationTimeout: 1 });
    expect(provider.getClient()).toBe(ldClient);
    await OpenFeature.setProviderAndWait(provider);
    expect(await OpenFeature.getClient().getBooleanValue('flag', true, user)).toBe(false);

    const close = vi.spyOn(ldClient, 'close');
    await OpenFeature.close();
    expect(close).toHaveBeenCalledTimes(1);
    expect(ldClient.listenerCount('update')).toBe(0);
  });
});

describe('tracking and close', () => {
  it('maps track() to a custom event', async () => {
    const { provider, client } = await startProvider(new integrations.TestData());
    const track = vi.spyOn(provider.getClient(), 'track');
    const at = new Date('2024-01-02T03:04:05.000Z');

    client.track('purchase', { targetingKey: 'user-1', plan: 'gold' }, { value: 9.5, currency: 'EUR', at });
    expect(track).toHaveBeenLastCalledWith(
      'purchase',
      { kind: 'user', key: 'user-1', plan: 'gold' },
      { currency: 'EUR', at: '2024-01-02T03:04:05.000Z' },
      9.5,
    );

    client.track('visit', user);
    expect(track).toHaveBeenLastCalledWith('visit', { kind: 'user', key: 'user-1' }, undefined, undefined);
  });

  it('delivers tracked events, private attributes redacted, when OpenFeature closes the provider', async () => {
    const bodies: unknown[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.url === '/bulk') bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const td = new integrations.TestData();
      const provider = new FlagstaffProvider('sdk-key', {
        updateProcessor: td.getFactory(),
        eventsUri: url,
        diagnosticOptOut: true,
        flushInterval: 3600,
        logger: recordingLogger(),
      });
      await OpenFeature.setProviderAndWait(provider);
      OpenFeature.getClient().track(
        'purchase',
        { targetingKey: 'user-1', email: 'ada@example.com', privateAttributes: ['email'] },
        { value: 42, sku: 'A-1' },
      );
      await OpenFeature.close();

      const events = bodies.flat() as Record<string, unknown>[];
      const custom = events.find((e) => e.kind === 'custom');
      expect(custom).toMatchObject({
        key: 'purchase',
        metricValue: 42,
        data: { sku: 'A-1' },
        context: { kind: 'user', key: 'user-1', _meta: { redactedAttributes: ['email'] } },
      });
      expect(custom?.context).not.toHaveProperty('email');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

it('keeps PROVIDER_VERSION in step with package.json', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  expect(PROVIDER_VERSION).toBe(pkg.version);
});
