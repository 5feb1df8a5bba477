// `flagstaff relay`: the relay's own entry point behind the CLI, configured from the environment.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('flagstaff relay', () => {
  it('with no environment configured exits 1 listing the configuration problems', async () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    // Only what node needs to run; no LD_ENV_* or other relay settings may leak in from the caller.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
    const child = spawn(
      process.execPath,
      ['--conditions=flagstaff-source', '--import', 'tsx', 'packages/cli/src/run.ts', 'relay'],
      { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code, output).toBe(1);
    expect(output).toContain('Invalid relay configuration');
    expect(output).toContain('LD_ENV_<NAME>: no environment configured');
  }, 60_000);

  it('rejects an unreadable config file with the same exit code', async () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
    const child = spawn(
      process.execPath,
      [
        '--conditions=flagstaff-source',
        '--import',
        'tsx',
        'packages/cli/src/run.ts',
        'relay',
        '--config',
        '/nonexistent/relay.json',
      ],
      { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code, output).toBe(1);
    expect(output).toContain('/nonexistent/relay.json: cannot be read as JSON');
  }, 60_000);
});
