import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';

/** Where and how the numbers were taken, printed above every run so tables are never read out of context. */
export function describeEnvironment(argv: readonly string[]): string {
  return [
    `date: ${new Date().toISOString()}`,
    `node: ${process.version} (V8 ${process.versions.v8}), ${process.platform}/${process.arch}`,
    `cpu: ${cpuModel()}, ${availableParallelism()} cores available`,
    `memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `arguments: ${argv.length > 0 ? argv.join(' ') : '(none: all benchmarks)'}`,
  ].join('\n');
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1]) return match[1].trim();
  } catch {
    // Not Linux: fall through to what Node reports.
  }
  return cpus()[0]?.model ?? 'unknown CPU model';
}

/**
 * Fails early, and says how to fix it, when a process may not open `needed` files (one socket per
 * client); `why` says what the benchmark holds open and `suggested` is a limit that works.
 */
export function checkFileLimit(needed: number, benchmark: string, why: string, suggested: number): void {
  let limit: string;
  try {
    limit = execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  } catch {
    return; // no POSIX shell: let the sockets tell
  }
  if (limit === 'unlimited') return;
  const value = Number(limit);
  if (Number.isFinite(value) && value < needed) {
    throw new Error(
      `ulimit -n is ${value}, but ${why} (at least ${needed} open files per process). Raise the limit ` +
        `(for example \`ulimit -n ${suggested}\`) in the shell that runs \`npm run bench -- ${benchmark}\`.`,
    );
  }
}
