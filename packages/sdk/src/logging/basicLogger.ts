import type { BasicLoggerOptions, LDLogger, LDLogLevel } from '../api/logger.js';

const LEVELS: LDLogLevel[] = ['debug', 'info', 'warn', 'error', 'none'];

/** A logger that writes `[Flagstaff] level: message` lines at or above a level (default `info`). */
export function basicLogger(options: BasicLoggerOptions = {}): LDLogger {
  const min = LEVELS.indexOf(options.level ?? 'info');
  const write = options.destination ?? ((line: string) => console.error(line));
  const name = options.name ?? '[Flagstaff]';
  const at = (level: Exclude<LDLogLevel, 'none'>) => {
    if (LEVELS.indexOf(level) < min) return () => {};
    return (...args: unknown[]) => {
      write(`${name} ${level}: ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')}`);
    };
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
