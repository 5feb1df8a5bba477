// `flagstaff layer build`: the CLI front of @flagstaff/lambda's layer builder.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function cli(args: string[]): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  const child = spawn(
    process.execPath,
    ['--conditions=flagstaff-source', '--import', 'tsx', 'packages/cli/src/run.ts', ...args],
    { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

describe('flagstaff layer build', () => {
  it('writes the zip and prints its path, its size and each entry', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'flagstaff-cli-layer-'));
    try {
      const out = join(tmp, 'l.zip');
      const { code, output } = await cli(['layer', 'build', '--with', 'dynamodb', '--out', out]);
      expect(code, output).toBe(0);
      expect(existsSync(out)).toBe(true);
      const size = statSync(out).size;
      expect(output).toContain(`${out} (${(size / 1024).toFixed(1)} KiB)`);
      expect(output).toMatch(/nodejs\/node_modules\/@flagstaff\/node-server-sdk\/index\.js +[\d.]+ KiB/);
      expect(output).toContain('nodejs/node_modules/@flagstaff/store-dynamodb/index.js');
      expect(output).not.toContain('store-redis');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 60_000);

  it('rejects an unknown store with exit code 2', async () => {
    const { code, output } = await cli(['layer', 'build', '--with', 'mongodb']);
    expect(code, output).toBe(2);
    expect(output).toContain('--with must be dynamodb or redis');
  }, 60_000);
});
