// The relay and flag service images cannot be built here (no Docker engine), so what a build would
// trip over first is checked offline: `npm ci` needs every workspace's package.json, and the build
// context CDK stages (an allow-list of the repository) must hold everything the Dockerfile copies while
// leaving out dependencies, builds and local state.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { aws_ecs as ecs, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { relayImageFromRepository } from '../lib/relay.js';
import { REPOSITORY_ROOT, workspaces } from '../lib/repository.js';
import { serviceImageFromRepository } from '../lib/service.js';
import { ENV, testApp } from './support/cdk.js';

const DOCKERFILES = ['packages/relay/Dockerfile', 'packages/server/Dockerfile'];

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions per build stage, continuation lines joined and comments dropped. */
function stages(dockerfile: string): Instruction[][] {
  const text = readFileSync(join(REPOSITORY_ROOT, dockerfile), 'utf8').replace(/\\\n/g, ' ');
  const result: Instruction[][] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const [keyword = '', ...rest] = trimmed.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    if (instruction.keyword === 'FROM') result.push([]);
    result.at(-1)?.push(instruction);
  }
  return result;
}

/** What a COPY takes, as paths of the build context (or of another stage, with its name). */
function copySources(instruction: Instruction): { from?: string; sources: string[] } {
  const words = instruction.args.split(/\s+/);
  const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
  const paths = words.filter((word) => !word.startsWith('--'));
  return { from, sources: paths.slice(0, -1) };
}

describe.each(DOCKERFILES)('%s', (dockerfile) => {
  const all = stages(dockerfile);

  it('copies every workspace package.json into each stage that runs npm ci', () => {
    const expected = workspaces().map((workspace) => `${workspace}/package.json`);
    expect(expected.length).toBeGreaterThan(10);
    const installing = all.filter((stage) =>
      stage.some((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args)),
    );
    expect(installing.length).toBeGreaterThan(0);
    for (const stage of installing) {
      const copied = stage
        .filter((i) => i.keyword === 'COPY')
        .flatMap((i) => copySources(i).sources.map((source) => source.replace(/^\/app\//, '')));
      const missing = expected.filter((path) => !copied.includes(path));
      expect(missing, `${stage[0]!.args}: npm ci would fail without these`).toEqual([]);
    }
  });

  it('copies only paths that exist in the repository', () => {
    for (const instruction of all.flat().filter((i) => i.keyword === 'COPY')) {
      const { from, sources } = copySources(instruction);
      if (from) continue;
      for (const source of sources) expect(existsSync(join(REPOSITORY_ROOT, source)), source).toBe(true);
    }
  });
});

describe('the Docker build contexts CDK stages', () => {
  const app = testApp();
  const stack = new Stack(app, 'Images', { env: ENV });
  // Registering the images in task definitions is what stages them.
  for (const [id, image] of [
    ['Relay', relayImageFromRepository(ecs.CpuArchitecture.X86_64)],
    ['Service', serviceImageFromRepository(ecs.CpuArchitecture.X86_64)],
  ] as const) {
    const task = new ecs.FargateTaskDefinition(stack, id);
    task.addContainer('main', { image });
  }
  const assembly = app.synth();
  const manifest = JSON.parse(readFileSync(join(assembly.directory, 'Images.assets.json'), 'utf8')) as {
    dockerImages: Record<string, { source: { directory: string; dockerFile: string } }>;
  };
  const contexts = Object.values(manifest.dockerImages).map(({ source }) => ({
    dockerfile: source.dockerFile,
    dir: join(assembly.directory, source.directory),
  }));

  function filesUnder(dir: string): string[] {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
  }

  it('stages one context per Dockerfile', () => {
    expect(contexts.map((context) => context.dockerfile).sort()).toEqual(DOCKERFILES);
  });

  it.each(DOCKERFILES)('holds everything %s copies from the context', (dockerfile) => {
    const context = contexts.find((c) => c.dockerfile === dockerfile)!;
    for (const instruction of stages(dockerfile)
      .flat()
      .filter((i) => i.keyword === 'COPY')) {
      const { from, sources } = copySources(instruction);
      if (from) continue;
      for (const source of sources) {
        expect(existsSync(join(context.dir, source)), `${dockerfile}: ${source}`).toBe(true);
      }
    }
    expect(existsSync(join(context.dir, dockerfile))).toBe(true);
  });

  it('leaves out dependencies, build output, tests, local state and other packages', () => {
    for (const context of contexts) {
      const files = filesUnder(context.dir);
      const unwanted = files.filter((file) =>
        /(^|\/)(node_modules|dist|test|cdk\.out|\.git|\.flagstaff|coverage)(\/|$)|\.test\.ts$|(^|\/)\.env$/.test(
          file,
        ),
      );
      expect(unwanted, context.dockerfile).toEqual([]);
      const bytes = files.reduce((sum, file) => sum + statSync(join(context.dir, file)).size, 0);
      // The lockfile is most of it; gigabytes would mean node_modules slipped in.
      expect(bytes, `${context.dockerfile}: ${bytes} bytes`).toBeLessThan(16 * 1024 * 1024);
    }
    const relay = contexts.find((c) => c.dockerfile === 'packages/relay/Dockerfile')!;
    // The relay's context has the manifests of the other workspaces but none of their sources.
    const serverFiles = filesUnder(relay.dir).filter((file) => file.startsWith('packages/server/'));
    expect(serverFiles).toEqual(['packages/server/package.json']);
  });
});
