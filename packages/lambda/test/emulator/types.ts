// The emulator's public types: what a test passes in and what it gets back. All times in a result are
// milliseconds; `...At` fields are offsets from the start of the phase they belong to (the invocation or
// the shutdown), measured on the monotonic clock.

export interface LambdaOptions {
  /** The function's code directory: the runtime's working directory and `LAMBDA_TASK_ROOT`. */
  taskRoot: string;
  /** `_HANDLER`, e.g. `index.handler` (file `index.js`/`.mjs`/`.cjs` under `taskRoot`). */
  handler: string;
  /**
   * A layer root standing in for `/opt`. Every executable file in `<optDir>/extensions` is started as an
   * external extension before the runtime; `NODE_PATH` gets `<optDir>/nodejs/node<major>/node_modules`
   * and `<optDir>/nodejs/node_modules`, `PATH` gets `<optDir>/bin`, `LD_LIBRARY_PATH` `<optDir>/lib`.
   * Nothing is mounted at `/opt`: layer code must find its files relative to itself.
   */
  optDir?: string;
  /** Added to (and overriding) the environment of the runtime and of the extensions. */
  env?: Record<string, string>;
  /** The function timeout: deadline of every invocation (`Lambda-Runtime-Deadline-Ms`). Default 30000. */
  timeoutMs?: number;
  /** Default `emulated-function`. */
  functionName?: string;
  /** `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` only: no memory limit is applied. Default 128. */
  memoryMb?: number;
  /** Default `us-east-1`. */
  region?: string;
  /** Account in the function ARN. Default `123456789012`. */
  accountId?: string;
  /** Extra Node.js arguments for the runtime process (before the runtime client's script). */
  nodeArgs?: string[];
  /** Time allowed for the Init phase; Lambda's limit is 10 s. Default 10000. */
  initTimeoutMs?: number;
  /**
   * When external extensions get their SHUTDOWN event. `after-runtime` (default, AWS's documented order):
   * once the runtime has exited or used up its share of the budget. `with-sigterm`: at the same moment
   * the runtime gets SIGTERM, to test code that must not rely on the documented order.
   */
  shutdownEventTiming?: 'after-runtime' | 'with-sigterm';
}

export interface FunctionError {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

/** What the runtime answered, available as soon as it posts it. */
export interface InvokeAnswer {
  requestId: string;
  /** The handler's result (parsed JSON). */
  response?: unknown;
  /** The handler's error, or Lambda's (`Sandbox.Timedout`, `Runtime.ExitError`, `Extension.Crash`). */
  error?: FunctionError;
  /**
   * From the start of the invocation to the answer: the runtime's response or error, or the moment Lambda
   * made up its own error (the timeout, a crash) when the runtime never answered.
   */
  responseMs: number;
}

export interface InvokeResult extends InvokeAnswer {
  /** From the start of the invocation until the runtime and every extension were back in `next`. */
  durationMs: number;
  /** The invocation ran past the function timeout. */
  timedOut: boolean;
  /** An Init phase ran first (the environment had been reset by a previous failure). */
  coldStart: boolean;
  /**
   * Set when the invocation failed in a way that makes Lambda reset the environment (timeout, the runtime
   * or an extension exiting): the Shutdown phase that followed. The next `invoke` starts a new Init.
   */
  reset?: ShutdownTimeline;
}

export interface InvokeOptions {
  /** Called as soon as the runtime posts its response or error (extensions may still be working). */
  onResponse?: (answer: InvokeAnswer) => void;
}

/** `invoke()`'s result: a promise of the completed invocation, plus the runtime's answer as soon as it exists. */
export type Invocation = Promise<InvokeResult> & {
  readonly requestId: string;
  /** Resolves when the runtime posts its answer, before extensions finish; rejects if `invoke` rejects. */
  readonly responded: Promise<InvokeAnswer>;
};

export type ShutdownReason = 'spindown' | 'timeout' | 'failure';

export interface ExtensionShutdown {
  name: string;
  /** Whether it registered for SHUTDOWN; one that did not is SIGKILLed when the others get the event. */
  subscribed: boolean;
  /** When SHUTDOWN was handed to it (undefined if it never asked for it in time). */
  shutdownEventAt?: number;
  /** When it was done: asked for the next event again, or exited. */
  doneAt?: number;
  doneBy?: 'next' | 'exit';
  exitedAt?: number;
  /** SIGKILLed because it had not finished by the end of the budget (or was not subscribed). */
  killed: boolean;
}

export interface ShutdownTimeline {
  reason: ShutdownReason;
  /** 0 (no extensions), 500 (internal extensions only) or 2000 (external extensions). */
  budgetMs: number;
  /** How long the runtime had between SIGTERM and SIGKILL; 0 without SIGTERM. */
  runtimeShareMs: number;
  runtimeSigtermAt?: number;
  runtimeExitedAt?: number;
  /** The runtime was SIGKILLed (at once without extensions; at the end of its share otherwise). */
  runtimeKilled: boolean;
  internalExtensions: string[];
  extensions: ExtensionShutdown[];
  /** Every process of the environment is gone. */
  endedAt: number;
  /** For a reset or a failed Init: what went wrong. */
  cause?: FunctionError;
}

export interface RegisteredExtension {
  name: string;
  kind: 'internal' | 'external';
  events: string[];
}

export interface LambdaPids {
  runtime: number;
  extensions: Record<string, number>;
}
