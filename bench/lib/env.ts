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
