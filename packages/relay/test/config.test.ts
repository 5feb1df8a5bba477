import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig, maskKey, parseDuration, RelayConfigError } from '../src/config.js';

function problemsOf(env: Record<string, string>, argv: string[] = []): string[] {
  try {
    loadConfig({ env, argv });
  } catch (err) {
    if (err instanceof RelayConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('reads LaunchDarkly Relay variables with their defaults', () => {
    const config = loadConfig({
      env: {
        LD_ENV_Prod: 'sdk-11111111-2222-3333-4444-555555555555',
        LD_CLIENT_SIDE_ID_Prod: 'abc123',
        LD_MOBILE_KEY_Prod: 'mob-xyz-12345678',
        USE_DYNAMODB: 'true',
        DYNAMODB_TABLE: 'flags',
        DYNAMODB_URL: 'http://localhost:8000',
        INIT_TIMEOUT: '1m30s',
        STREAM_URI: 'http://flags.internal/',
      },
    });
    expect(config).toMatchObject({
      port: 8030,
      streamUri: 'http://flags.internal',
      baseUri: 'https://sdk.launchdarkly.com',
      initTimeoutMs: 90_000,
      heartbeatIntervalMs: 180_000,
      ignoreConnectionErrors: false,
      events: { enabled: false, eventsHost: 'https://events.launchdarkly.com' },
      store: { kind: 'dynamodb', tableName: 'flags', endpoint: 'http://localhost:8000', cacheTtlMs: 30_000 },
      environments: [
        {
          name: 'Prod',
          sdkKey: 'sdk-11111111-2222-3333-4444-555555555555',
          clientSideId: 'abc123',
          mobileKey: 'mob-xyz-12345678',
        },
      ],
    });
  });

  it('collects every problem, each naming its variable', () => {
    const problems = problemsOf({
      PORT: 'abc',
      LD_CLIENT_SIDE_ID_Prod: 'abc123',
      LD_ENV_Test: 'sdk-test-key-00001',
      USE_DYNAMODB: 'true',
      USE_REDIS: 'yes',
      INIT_TIMEOUT: '10',
      BASE_URI: 'ftp://x',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'PORT: "abc" is not a port number',
        "LD_ENV_Prod: must be set to the environment's SDK key",
        'USE_REDIS: "yes" is not a boolean (use true, false, 1 or 0)',
        'INIT_TIMEOUT: "10" is not a duration (use units, e.g. 10s, 1m30s, 500ms)',
        'BASE_URI: "ftp://x" is not an http(s) URL',
        expect.stringMatching(/^DYNAMODB_TABLE: must be set when USE_DYNAMODB is on/),
      ]),
    );
    expect(problems).toHaveLength(6);
  });

  it('refuses both stores, a missing table, and no environment', () => {
    expect(problemsOf({ LD_ENV_A: 'sdk-aaaaaaaaaa', USE_DYNAMODB: '1', USE_REDIS: '1' })).toEqual([
      'USE_DYNAMODB, USE_REDIS: only one persistent store may be enabled',
    ]);
    expect(problemsOf({ LD_ENV_A: 'sdk-aaaaaaaaaa', USE_DYNAMODB: '1' })[0]).toMatch(
      /^DYNAMODB_TABLE: must be set/,
    );
    expect(problemsOf({})).toEqual([
      'LD_ENV_<NAME>: no environment configured (set e.g. LD_ENV_Production to an SDK key)',
    ]);
  });

  it('refuses environments sharing a store data set or a credential, without printing the key', () => {
    const problems = problemsOf({
      LD_ENV_A: 'sdk-secret-000012345',
      LD_ENV_B: 'sdk-secret-000012345',
      USE_REDIS: 'true',
    });
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).not.toContain('secret');
    expect(problems[0]).toBe('LD_ENV_B: same value as LD_ENV_A (sdk-******-****12345)');
  });

  it('reads a JSON file (--config or FLAGSTAFF_RELAY_CONFIG), environment variables winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-config-'));
    const file = join(dir, 'relay.json');
    writeFileSync(
      file,
      JSON.stringify({
        main: { port: 9000, initTimeout: '2s', ignoreConnectionErrors: true },
        events: { enabled: true, eventsHost: 'http://events.internal' },
        redis: { enabled: true, url: 'redis://:pw@redis:6379' },
        cacheTTL: 5000,
        environments: { Prod: { sdkKey: 'sdk-from-file-1234', prefix: 'prod' } },
      }),
    );
    const config = loadConfig({ env: { PORT: '9100' }, argv: ['--config', file] });
    expect(config).toMatchObject({
      port: 9100,
      initTimeoutMs: 2000,
      ignoreConnectionErrors: true,
      events: { enabled: true, eventsHost: 'http://events.internal' },
      store: { kind: 'redis', url: 'redis://:pw@redis:6379', cacheTtlMs: 5000 },
      environments: [{ name: 'Prod', sdkKey: 'sdk-from-file-1234', prefix: 'prod' }],
    });
    expect(JSON.stringify(describeConfig(config))).not.toMatch(/from-file|:pw@/);
    expect(loadConfig({ env: { FLAGSTAFF_RELAY_CONFIG: file } }).port).toBe(9000);

    writeFileSync(file, JSON.stringify({ main: { port: 'x', colour: 1 }, environments: { P: { key: 1 } } }));
    expect(problemsOf({}, [`--config=${file}`])).toEqual([
      `${file}: main.colour is not a known setting`,
      `${file}: environments.P.key is not a known setting`,
      `${file}: main.port: "x" is not a port number`,
      'LD_ENV_<NAME>: no environment configured (set e.g. LD_ENV_Production to an SDK key)',
    ]);
  });
});

describe('helpers', () => {
  it('masks keys keeping the prefix and the last 5 characters', () => {
    expect(maskKey('sdk-11111111-2222-3333-4444-555555555555')).toBe(
      'sdk-********-****-****-****-*******55555',
    );
    expect(maskKey('short')).toBe('*****');
  });

  it('parses Go durations', () => {
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('10')).toBeUndefined();
    expect(parseDuration('1x')).toBeUndefined();
  });
});
