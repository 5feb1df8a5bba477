import type { FSWatcher } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parse as yamlParse } from 'yaml';
import type { DataSource, DataSourceFactory } from '../src/api/dataSource.js';
import { integrations } from '../src/index.js';
import { parseFile } from '../src/integrations/fileData.js';
import { FileDataSourceFactory, type FileDataSourceOptions } from '../src/integrations/index.js';
import { findYamlParser, YAML_UNAVAILABLE } from '../src/integrations/yamlLoader.js';
import { type Recorder, recordingContext } from './support/recordingDataSourceContext.js';

// Records the watchers the data source opens, to check they are non-persistent and get closed.
const watched = vi.hoisted(
  () => [] as { path: string; persistent: unknown; watcher: FSWatcher; closed: boolean }[],
);
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  const watch = (path: string, options: { persistent?: boolean }, listener: (...args: unknown[]) => void) => {
    const watcher = actual.watch(path, options, listener);
    const entry = { path, persistent: options.persistent, watcher, closed: false };
    const close = watcher.close.bind(watcher);
    watcher.close = () => {
      entry.closed = true;
      close();
    };
    watched.push(entry);
    return watcher;
  };
  return { ...actual, default: { ...actual, watch }, watch };
});

const FLAG = {
  key: 'full',
  version: 3,
  on: true,
  variations: ['a', 'b'],
  fallthrough: { variation: 1 },
  salt: 'x',
};
const SEGMENT = { key: 'seg', version: 2, included: ['u1'], rules: [] };
const RELOAD_TIMEOUT = { timeout: 10_000, interval: 20 };

let dir: string;
const sources: DataSource[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flagstaff-filedata-'));
  watched.length = 0;
});

afterEach(async () => {
  for (const source of sources.splice(0)) source.stop();
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

function start(factory: DataSourceFactory | FileDataSourceOptions): Recorder {
  const recorder = recordingContext();
  const make = typeof factory === 'function' ? factory : new FileDataSourceFactory(factory).getFactory();
  const source = make(recorder.context);
  sources.push(source);
  source.start();
  return recorder;
}

async function settled(recorder: Recorder): Promise<void> {
  await vi.waitFor(() => {
    expect(recorder.calls.some((c) => c.type === 'ready' || c.type === 'failed')).toBe(true);
  }, RELOAD_TIMEOUT);
}

async function failure(options: FileDataSourceOptions): Promise<{ message: string; recorder: Recorder }> {
  const recorder = start(options);
  await settled(recorder);
  expect(recorder.calls.map((c) => c.type)).toEqual(['failed']);
  const message = recorder.of('failed')[0]!.error.message;
  expect(recorder.logs.filter((l) => l.level === 'error').map((l) => l.text)).toEqual([
    `FileDataSource: could not load the flag data: ${message}`,
  ]);
  return { message, recorder };
}

describe('FileDataSourceFactory: loading', () => {
  it('loads flags, flagValues and segments from JSON, then reports ready', async () => {
    const path = await file('data.json', {
      flags: { full: FLAG },
      flagValues: { str: 'hello', obj: { a: [1, null] }, nothing: null },
      segments: { seg: SEGMENT },
    });
    const recorder = start({ paths: [path] });
    await settled(recorder);
    expect(recorder.calls.map((c) => c.type)).toEqual(['init', 'ready']);
    expect(recorder.of('init')[0]!.data).toEqual({
      flags: {
        full: FLAG,
        str: { key: 'str', version: 1, on: true, fallthrough: { variation: 0 }, variations: ['hello'] },
        obj: {
          key: 'obj',
          version: 1,
          on: true,
          fallthrough: { variation: 0 },
          variations: [{ a: [1, null] }],
        },
        nothing: { key: 'nothing', version: 1, on: true, fallthrough: { variation: 0 }, variations: [null] },
      },
      segments: { seg: SEGMENT },
    });
  });

  it('loads YAML with the given yamlParser', async () => {
    const path = await file(
      'data.yaml',
      'flagValues:\n  y: 3\nsegments:\n  seg:\n    key: seg\n    version: 2\n',
    );
    const yamlParser = vi.fn((text: string) => yamlParse(text));
    const recorder = start({ paths: [path], yamlParser });
    await settled(recorder);
    expect(yamlParser).toHaveBeenCalledTimes(1);
    expect(recorder.of('init')[0]!.data).toEqual({
      flags: { y: { key: 'y', version: 1, on: true, fallthrough: { variation: 0 }, variations: [3] } },
      segments: { seg: { key: 'seg', version: 2 } },
    });
  });

  it('loads YAML (.yml) with the optional "yaml" package when no parser is given', async () => {
    const path = await file(
      'data.yml',
      [
        'flags:',
        '  f:',
        '    key: f',
        '    version: 7',
        '    on: false',
        '    variations: [x]',
        '    fallthrough: {variation: 0}',
        '    offVariation: 0',
      ].join('\n'),
    );
    const recorder = start({ paths: [path] });
    await settled(recorder);
    expect(recorder.of('init')[0]!.data.flags.f).toEqual({
      key: 'f',
      version: 7,
      on: false,
      variations: ['x'],
      fallthrough: { variation: 0 },
      offVariation: 0,
    });
  });

  it('tries YAML for a file without the .json extension that is not JSON', async () => {
    const path = await file('flags.txt', 'flagValues:\n  t: true\n');
    const recorder = start({ paths: [path] });
    await settled(recorder);
    expect(Object.keys(recorder.of('init')[0]!.data.flags)).toEqual(['t']);
  });

  it('takes a missing key from the property name, a missing version as 1, and skips a BOM', async () => {
    const path = await file(
      'data.json',
      `\uFEFF${JSON.stringify({
        flags: { k: { on: true, variations: [1], fallthrough: { variation: 0 } } },
        segments: { s: {} },
      })}`,
    );
    const recorder = start({ paths: [path] });
    await settled(recorder);
    expect(recorder.of('init')[0]!.data).toEqual({
      flags: { k: { key: 'k', version: 1, on: true, variations: [1], fallthrough: { variation: 0 } } },
      segments: { s: { key: 's', version: 1 } },
    });
  });

  it('merges several files', async () => {
    const a = await file('a.json', { flags: { full: FLAG }, flagValues: { v1: 1 } });
    const b = await file(
      'b.yaml',
      'flagValues:\n  v2: two\nsegments:\n  seg:\n    key: seg\n    version: 2\n',
    );
    const c = await file('c.json', { segments: { other: { key: 'other', version: 1 } } });
    const recorder = start({ paths: [a, b, c], yamlParser: yamlParse });
    await settled(recorder);
    const data = recorder.of('init')[0]!.data;
    expect(Object.keys(data.flags).sort()).toEqual(['full', 'v1', 'v2']);
    expect(Object.keys(data.segments).sort()).toEqual(['other', 'seg']);
  });

  it('keeps keys such as "__proto__" as ordinary entries', async () => {
    const path = await file('data.json', '{"flagValues": {"__proto__": 1, "constructor": 2}}');
    const recorder = start({ paths: [path] });
    await settled(recorder);
    const flags = recorder.of('init')[0]!.data.flags;
    expect(Object.keys(flags)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(flags)).toBe(Object.prototype);
  });

  it('works as v9 `new FileDataSourceFactory(options).getFactory()` and as a plain call', async () => {
    const path = await file('data.json', { flagValues: { f: 1 } });
    const viaNew = new integrations.FileDataSourceFactory({ paths: [path] });
    expect(viaNew).toBeInstanceOf(integrations.FileDataSourceFactory);
    const viaCall = (
      integrations.FileDataSourceFactory as unknown as (o: FileDataSourceOptions) => DataSourceFactory
    )({
      paths: [path],
    });
    expect(typeof viaCall).toBe('function');
    for (const factory of [viaNew.getFactory(), viaCall]) {
      const recorder = start(factory);
      await settled(recorder);
      expect(Object.keys(recorder.of('init')[0]!.data.flags)).toEqual(['f']);
    }
    expect(() => new FileDataSourceFactory({ paths: 'data.json' } as never)).toThrow(TypeError);
  });

  it('fails initialization when the store rejects the data', async () => {
    const path = await file('data.json', { flagValues: { f: 1 } });
    const recorder = recordingContext({ failWrites: true });
    new FileDataSourceFactory({ paths: [path] }).getFactory()(recorder.context).start();
    await settled(recorder);
    expect(recorder.calls.map((c) => c.type)).toEqual(['failed']);
    expect(recorder.logs.map((l) => l.text)).toEqual([
      'FileDataSource: storing the flag data failed: store is broken',
    ]);
  });

  it('uses options.logger instead of the client logger when given', async () => {
    const logger = { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() };
    const recorder = start({ paths: [join(dir, 'missing.json')], logger });
    await settled(recorder);
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(recorder.logs).toEqual([]);
  });
});

describe('FileDataSourceFactory: bad files fail initialization', () => {
  it('a duplicate key across files, naming both places', async () => {
    const a = await file('a.json', { flagValues: { dup: 1 } });
    const b = await file('b.json', { flags: { dup: { ...FLAG, key: 'dup' } } });
    const { message } = await failure({ paths: [a, b] });
    expect(message).toBe(
      `invalid flag data file: ${b}#/flags/dup: flag key "dup" is already defined at ${a}#/flagValues/dup`,
    );
  });

  it('a flag in both flags and flagValues of one file, and a duplicate segment', async () => {
    const a = await file('a.json', {
      flags: { full: FLAG },
      flagValues: { full: true },
      segments: { seg: SEGMENT },
    });
    const b = await file('b.json', { segments: { seg: SEGMENT } });
    const { message } = await failure({ paths: [a, b] });
    expect(message).toContain(
      `${a}#/flagValues/full: flag key "full" is already defined at ${a}#/flags/full`,
    );
    expect(message).toContain(
      `${b}#/segments/seg: segment key "seg" is already defined at ${a}#/segments/seg`,
    );
  });

  it('invalid JSON', async () => {
    const path = await file('bad.json', '{"flags": {');
    const { message } = await failure({ paths: [path] });
    expect(message).toMatch(new RegExp(`^invalid flag data file: ${path}: not valid JSON \\(.+\\)$`));
  });

  it('invalid YAML', async () => {
    const path = await file('bad.yaml', 'flags: [unclosed\n');
    const { message } = await failure({ paths: [path] });
    expect(message).toMatch(`${path}: not valid YAML (`);
  });

  it('a missing file', async () => {
    const path = join(dir, 'missing.json');
    const { message } = await failure({ paths: [path] });
    expect(message).toMatch(`${path}: could not read the file (ENOENT`);
  });

  it('every schema problem, with file name and JSON pointer', async () => {
    const a = await file('a.json', {
      flags: {
        'bad/key': { on: 'yes', variations: [true], fallthrough: { variation: 0 } },
        other: { key: 'different', version: 1, on: true, variations: [], fallthrough: {} },
      },
      segments: { seg: { key: 'seg', version: 1, included: 'u1' } },
    });
    const b = await file('b.json', { flags: [FLAG], flagValues: 'nope' });
    const c = await file('c.json', '[1, 2]');
    const { message, recorder } = await failure({ paths: [a, b, c] });
    const error = recorder.of('failed')[0]!.error as Error & { problems: string[] };
    expect(error.problems).toEqual([
      expect.stringMatching(`^${a}#/flags/bad~1key/on: `),
      `${a}#/flags/other/key: the key "different" differs from the property name "other"`,
      expect.stringMatching(`^${a}#/segments/seg/included: `),
      `${b}#/flags: expected an object keyed by flag key, found an array`,
      `${b}#/flagValues: expected an object keyed by flag key, found a string`,
      `${c}: expected an object with "flags", "flagValues" and/or "segments", found an array`,
    ]);
    expect(message).toMatch(/^invalid flag data files \(6 problems\):\n {2}/);
    expect(error.name).toBe('FileDataError');
  });

  it('a .json file holding YAML stays a JSON error', async () => {
    const path = await file('yaml-inside.json', 'flagValues:\n  a: 1\n');
    const { message } = await failure({ paths: [path] });
    expect(message).toMatch(`${path}: not valid JSON`);
  });
});

describe('YAML without a parser', () => {
  const noYaml = () => findYamlParser(() => Promise.reject(new Error("Cannot find package 'yaml'")));

  it('says to install yaml or pass yamlParser', async () => {
    await expect(noYaml()).rejects.toThrow(YAML_UNAVAILABLE);
    await expect(noYaml()).rejects.toThrow(/npm install yaml.*yamlParser|yamlParser.*npm install yaml/);
    await expect(findYamlParser(() => Promise.resolve({}))).rejects.toThrow(YAML_UNAVAILABLE);
  });

  it('reports it for a YAML file, and for a non-JSON file of another extension', async () => {
    await expect(parseFile('f.yaml', 'a: 1', noYaml)).rejects.toThrow(YAML_UNAVAILABLE);
    await expect(parseFile('f.txt', 'a: 1', noYaml)).rejects.toThrow(
      /^f\.txt: not valid JSON \(.*\); YAML was not tried: parsing YAML needs the optional "yaml" package/,
    );
    await expect(parseFile('f.txt', '{"a": 1}', noYaml)).resolves.toEqual({ a: 1 });
  });

  it('finds parse on a CommonJS default export', async () => {
    const parser = await findYamlParser(() => Promise.resolve({ default: { parse: yamlParse } }));
    expect(parser('a: [1]')).toEqual({ a: [1] });
  });
});

describe('FileDataSourceFactory: autoUpdate', () => {
  it('reloads on change, bumping the version of changed flagValues only', async () => {
    const path = await file('data.json', { flagValues: { same: 1, changes: 'old' }, flags: { full: FLAG } });
    const recorder = start({ paths: [path], autoUpdate: true });
    await settled(recorder);
    expect(watched.map((w) => [w.path, w.persistent])).toEqual([[dir, false]]);
    await file('data.json', { flagValues: { same: 1, changes: 'new', added: true }, flags: { full: FLAG } });
    await vi.waitFor(() => expect(recorder.of('init')).toHaveLength(2), RELOAD_TIMEOUT);
    const flags = recorder.of('init')[1]!.data.flags;
    expect(flags.same?.version).toBe(1);
    expect(flags.changes).toMatchObject({ version: 2, variations: ['new'] });
    expect(flags.added?.version).toBe(1);
    expect(flags.full).toEqual(FLAG);
    expect(recorder.logs.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('keeps the previous data on a bad reload, reports an interruption, and recovers', async () => {
    const path = await file('data.json', { flagValues: { f: 1 } });
    const recorder = start({ paths: [path], autoUpdate: true });
    await settled(recorder);
    await file('data.json', '{ not json');
    await vi.waitFor(() => expect(recorder.of('interrupted')).toHaveLength(1), RELOAD_TIMEOUT);
    expect(recorder.of('init')).toHaveLength(1);
    expect(recorder.of('interrupted')[0]!.error.message).toMatch(`${path}: not valid JSON`);
    expect(recorder.logs.some((l) => l.level === 'error' && l.text.includes('reload failed'))).toBe(true);
    await file('data.json', { flagValues: { f: 2 } });
    await vi.waitFor(() => expect(recorder.of('init')).toHaveLength(2), RELOAD_TIMEOUT);
    expect(recorder.of('init')[1]!.data.flags.f).toMatchObject({ version: 2, variations: [2] });
    expect(recorder.calls.at(-1)?.type).toBe('ready');
  });

  it('sees a save that replaces the file by rename, and watches each directory once', async () => {
    const a = await file('a.json', { flagValues: { a: 1 } });
    const b = await file('b.yaml', 'flagValues:\n  b: 1\n');
    const recorder = start({ paths: [a, b], autoUpdate: true });
    await settled(recorder);
    expect(watched).toHaveLength(1);
    const temp = join(dir, '.b.yaml.tmp');
    await writeFile(temp, 'flagValues:\n  b: 2\n');
    await rename(temp, b);
    await vi.waitFor(() => expect(recorder.of('init')).toHaveLength(2), RELOAD_TIMEOUT);
    expect(recorder.of('init')[1]!.data.flags.b?.variations).toEqual([2]);
  });

  it('ignores other files in the directory and rewrites with the same content', async () => {
    const path = await file('data.json', { flagValues: { f: 1 } });
    const recorder = start({ paths: [path], autoUpdate: true });
    await settled(recorder);
    await file('unrelated.json', { flagValues: { x: 1 } });
    await file('data.json', { flagValues: { f: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(recorder.of('init')).toHaveLength(1);
  });

  it('stop() closes the watchers and later changes are not loaded', async () => {
    const path = await file('data.json', { flagValues: { f: 1 } });
    const recorder = start({ paths: [path], autoUpdate: true });
    await settled(recorder);
    expect(watched.map((w) => w.closed)).toEqual([false]);
    sources[0]!.stop();
    sources[0]!.stop();
    expect(watched.map((w) => w.closed)).toEqual([true]);
    await file('data.json', { flagValues: { f: 2 } });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(recorder.of('init')).toHaveLength(1);
  });

  it('closes the watchers when the first load fails', async () => {
    const path = await file('data.json', 'nope');
    const recorder = start({ paths: [path], autoUpdate: true });
    await settled(recorder);
    expect(recorder.of('failed')).toHaveLength(1);
    expect(watched.map((w) => w.closed)).toEqual([true]);
  });

  it('stop() before the first load completes stores nothing', async () => {
    const path = await file('data.json', { flagValues: { f: 1 } });
    const recorder = start({ paths: [path] });
    sources[0]!.stop();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(recorder.calls).toEqual([]);
  });

  it('does not watch without autoUpdate', async () => {
    const path = await file('data.json', { flagValues: { f: 1 } });
    const recorder = start({ paths: [path] });
    await settled(recorder);
    expect(watched).toEqual([]);
  });
});
