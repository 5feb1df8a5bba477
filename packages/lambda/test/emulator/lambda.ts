// The function as a test sees it: start (Init), invoke, shut down, read the logs. Behind it one
// execution environment at a time; after a reset (timeout, crash) the next invoke initialises a new
// one, as Lambda does.

import { randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { type EnvironmentSettings, ExecutionEnvironment } from './environment.js';
import { LambdaDisposedError } from './errors.js';
import { LogBook } from './log-book.js';
import type {
  Invocation,
  InvokeAnswer,
  InvokeOptions,
  InvokeResult,
  LambdaOptions,
  LambdaPids,
  RegisteredExtension,
  ShutdownTimeline,
} from './types.js';

const live = new Set<LambdaFunction>();

/**
 * Starts a function: runs the Init phase (extensions, their registration, the runtime, the handler's
 * module) and resolves once the runtime and every extension wait for the next event, frozen.
 * Rejects with LambdaInitError if Init fails (after killing everything).
 */
export async function startLambda(options: LambdaOptions): Promise<LambdaFunction> {
  const fn = new LambdaFunction(options);
  await fn.start();
  return fn;
}

/** Kills every function still running in this process (for `afterEach`). */
export async function disposeAllLambdas(): Promise<void> {
  await Promise.all([...live].map((fn) => fn.dispose()));
}

export class LambdaFunction {
  private readonly settings: EnvironmentSettings;
  private readonly logBook = new LogBook();
  private env: ExecutionEnvironment | undefined;
  private state: 'live' | 'shut-down' | 'disposed' = 'live';
  private busy = false;
  private initCount = 0;
  private lastPids: LambdaPids = { runtime: -1, extensions: {} };

  constructor(options: LambdaOptions) {
    this.settings = resolveSettings(options);
  }

  /** Runs the first Init phase. `startLambda` calls it. */
  async start(): Promise<void> {
    live.add(this);
    try {
      await this.initEnvironment();
    } catch (e) {
      await this.dispose();
      throw e;
    }
  }

  /**
   * Invokes the function once. The returned promise resolves when the invocation is complete (the
   * runtime and every extension are back in next, and frozen); `responded` resolves as soon as the
   * runtime posts its answer.
   */
  invoke(payload?: unknown, options: InvokeOptions = {}): Invocation {
    const requestId = randomUUID();
    let answered: (answer: InvokeAnswer) => void = () => {};
    let failed: (reason: unknown) => void = () => {};
    const responded = new Promise<InvokeAnswer>((resolve, reject) => {
      answered = resolve;
      failed = reject;
    });
    // `responded` may be ignored by the caller; its rejection mirrors the invocation's own.
    responded.catch(() => {});
    const onAnswer = (answer: InvokeAnswer) => {
      answered(answer);
      options.onResponse?.(answer);
    };

    const run = async (): Promise<InvokeResult> => {
      if (this.state !== 'live') throw new Error(`cannot invoke: the function is ${this.state}`);
      if (this.busy) throw new Error('cannot invoke: another invocation or a shutdown is in progress');
      this.busy = true;
      try {
        let coldStart = false;
        if (this.env !== undefined && !this.env.ended && !this.env.healthy) {
          // Something died while the environment was frozen: reset it like a failed invocation would.
          await this.env.shutdown('failure', {
            errorType: 'Sandbox.Failure',
            errorMessage: 'a process died while frozen',
          });
        }
        if (this.env === undefined || this.env.ended) {
          coldStart = true;
          await this.initEnvironment();
        }
        const env = this.env!;
        const outcome = await env.invoke(requestId, payload, onAnswer);
        this.lastPids = env.pids;
        return {
          ...outcome.answer,
          durationMs: outcome.durationMs,
          timedOut: outcome.timedOut,
          coldStart,
          ...(outcome.reset === undefined ? {} : { reset: outcome.reset }),
        };
      } finally {
        this.busy = false;
      }
    };
    const promise = run();
    promise.catch((e: unknown) => failed(e));
    return Object.assign(promise, { requestId, responded });
  }

  /**
   * The Shutdown phase with reason `spindown`, under AWS's budget rules; then the function is gone
   * (further invocations reject). After a reset that no invocation followed, there is nothing left to
   * shut down and the timeline is empty.
   */
  async shutdown(): Promise<ShutdownTimeline> {
    if (this.state === 'disposed') throw new LambdaDisposedError();
    if (this.state === 'shut-down') throw new Error('the function is already shut down');
    if (this.busy) throw new Error('cannot shut down: an invocation is in progress');
    this.busy = true;
    try {
      const env = this.env;
      let timeline: ShutdownTimeline;
      if (env === undefined || env.ended) {
        timeline = {
          reason: 'spindown',
          budgetMs: 0,
          runtimeShareMs: 0,
          runtimeKilled: false,
          internalExtensions: [],
          extensions: [],
          endedAt: 0,
        };
      } else {
        timeline = await env.shutdown('spindown');
      }
      this.state = 'shut-down';
      live.delete(this);
      return timeline;
    } finally {
      this.busy = false;
    }
  }

  /** Kills every process at once and closes the API; safe to call at any time, more than once. */
  async dispose(): Promise<void> {
    if (this.state === 'disposed') return;
    this.state = 'disposed';
    live.delete(this);
    await this.env?.dispose();
  }

  /** Same as `dispose()`. */
  kill(): Promise<void> {
    return this.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  /** Everything the runtime and the extensions wrote, one line each, prefixed `[runtime]`, `[<extension>]`
   * (`... stderr]` for standard error), with the emulator's own `[lambda]` lifecycle notes. */
  logs(): string {
    return this.logBook.text();
  }

  /** Process ids of the current (or last) environment. */
  get pids(): LambdaPids {
    return this.env?.pids ?? this.lastPids;
  }

  /** Extensions registered in the current environment. */
  get extensions(): RegisteredExtension[] {
    return this.env?.registered ?? [];
  }

  /** How many Init phases have run (1 after `startLambda`, +1 per re-initialisation after a reset). */
  get inits(): number {
    return this.initCount;
  }

  /** Port of the current environment's Runtime/Extensions API on 127.0.0.1. */
  get port(): number {
    return this.env?.port ?? 0;
  }

  private async initEnvironment(): Promise<void> {
    const env = new ExecutionEnvironment(this.settings, this.logBook);
    this.env = env;
    this.initCount += 1;
    await env.init();
    this.lastPids = env.pids;
  }
}

function resolveSettings(options: LambdaOptions): EnvironmentSettings {
  const require = createRequire(import.meta.url);
  const ricDir = dirname(require.resolve('aws-lambda-ric/package.json'));
  const functionName = options.functionName ?? 'emulated-function';
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  const now = new Date();
  const day = `${now.getUTCFullYear()}/${String(now.getUTCMonth() + 1).padStart(2, '0')}/${String(now.getUTCDate()).padStart(2, '0')}`;
  return {
    taskRoot: resolve(options.taskRoot),
    handler: options.handler,
    optDir: options.optDir === undefined ? undefined : resolve(options.optDir),
    functionName,
    functionArn: `arn:aws:lambda:${region}:${accountId}:function:${functionName}`,
    memoryMb: options.memoryMb ?? 128,
    region,
    timeoutMs: options.timeoutMs ?? 30_000,
    initTimeoutMs: options.initTimeoutMs ?? 10_000,
    shutdownEventTiming: options.shutdownEventTiming ?? 'after-runtime',
    runtimeCommand: process.execPath,
    // Lambda runs its own bootstrap; the npm runtime client's entry point stands in for it.
    runtimeArgs: [...(options.nodeArgs ?? []), join(ricDir, 'bin', 'index.mjs')],
    runtimeDir: ricDir,
    nodeDir: dirname(process.execPath),
    basePath: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    nodeMajor,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    userEnv: options.env ?? {},
  };
}
