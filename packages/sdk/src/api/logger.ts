/** The logger interface of LaunchDarkly's SDKs: any object with these four methods works. */
export interface LDLogger {
  error(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  info(...args: unknown[]): void;
  debug(...args: unknown[]): void;
}

export type LDLogLevel = 'debug' | 'info' | 'warn' | 'error' | 'none';

export interface BasicLoggerOptions {
  /** Lowest level written; default `info`. */
  level?: LDLogLevel;
  /** Where lines go; default `console.error`. */
  destination?: (line: string) => void;
  /** Prefix of every line; default `[Flagstaff]`. */
  name?: string;
}
