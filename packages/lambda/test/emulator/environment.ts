// One execution environment: its processes (external extensions, then the runtime), the API calls they
// make, and the Init, Invoke and Shutdown phases. A reset (timeout, crash) ends the environment; the
// function starts a new one for the next invocation, as Lambda re-initialises in place.
//
// Lifecycle: "Understanding the Lambda execution environment lifecycle"
// (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html): "Each phase starts with
// an event that Lambda sends to the runtime and to all registered extensions. The runtime and each
// extension indicate completion by sending a Next API request. Lambda freezes the execution environment
// when the runtime and each extension have completed and there are no pending events."
// Extension start and registration before the runtime, the 10-extension limit, the file-name rule,
// internal extensions and SHUTDOWN, failures and resets: the Extensions API page
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html).

import { randomBytes, randomUUID } from 'node:crypto';
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type ApiHandlers, ApiServer, type ParkedCall, type Reply } from './api-server.js';
import { type EnvironmentConfig, extensionEnvironment, runtimeEnvironment } from './env-vars.js';
import { LambdaDisposedError, LambdaInitError } from './errors.js';
import type { LogBook } from './log-book.js';
import { ManagedProcess, type ProcessExit, waitStopped } from './processes.js';
import { planShutdown } from './shutdown-policy.js';
import type {
  ExtensionShutdown,
  FunctionError,
  InvokeAnswer,
  LambdaPids,
  RegisteredExtension,
  ShutdownReason,
  ShutdownTimeline,
} from './types.js';

export interface EnvironmentSettings {
  taskRoot: string;
  handler: string;
  optDir: string | undefined;
  functionName: string;
  functionArn: string;
  memoryMb: number;
  region: string;
  timeoutMs: number;
  initTimeoutMs: number;
  shutdownEventTiming: 'after-runtime' | 'with-sigterm';
  /** `node` and its arguments up to (excluding) the handler. */
  runtimeCommand: string;
  runtimeArgs: string[];
  runtimeDir: string;
  nodeDir: string;
  basePath: string;
  nodeMajor: number;
  logStreamName: string;
  userEnv: Record<string, string>;
}

type Phase = 'init' | 'ready' | 'invoking' | 'shutdown' | 'ended';
type LifecycleEvent = 'INVOKE' | 'SHUTDOWN';

/** At most 10 extensions per function (Extensions API, Register). */
const MAX_EXTENSIONS = 10;
/** How long a SIGKILLed process may take to be reaped before we stop waiting for it. */
const REAP_LIMIT_MS = 5000;

interface ExternalLaunch {
  name: string;
  process: ManagedProcess;
  record: ExtensionRecord | undefined;
}

interface ExtensionRecord {
  id: string;
  name: string;
  kind: 'internal' | 'external';
  events: Set<LifecycleEvent>;
  launch: ExternalLaunch | undefined;
  parked: ParkedCall | undefined;
  queued: { reply: Reply; delivered?: () => void } | undefined;
  errored: boolean;
  shutdownEventAt?: number;
  doneAt?: number;
  doneBy?: 'next' | 'exit';
  killed: boolean;
}

interface ActiveInvocation {
  requestId: string;
  startedAt: number;
  answer: InvokeAnswer | undefined;
  closed: boolean;
  onAnswer: (answer: InvokeAnswer) => void;
}

export interface InvokeOutcome {
  answer: InvokeAnswer;
  durationMs: number;
  timedOut: boolean;
  reset: ShutdownTimeline | undefined;
}

export class ExecutionEnvironment implements ApiHandlers {
  private phase: Phase = 'init';
  private readonly server = new ApiServer(this);
  private runtime: ManagedProcess | undefined;
  private runtimeParked: ParkedCall | undefined;
  private readonly launches = new Map<string, ExternalLaunch>();
  private readonly extensions = new Map<string, ExtensionRecord>();
  private current: ActiveInvocation | undefined;
  /** The first thing that went wrong in the current phase; it ends the phase. */
  private failure: FunctionError | undefined;
  private disposed = false;
  private timeline: ShutdownTimeline | undefined;
  private readonly watchers = new Set<() => void>();

  constructor(
    private readonly s: EnvironmentSettings,
    private readonly log: LogBook,
  ) {}

  get port(): number {
    return this.server.port;
  }

  /** Ready for an invocation: initialised, frozen, nothing broken meanwhile. */
  get healthy(): boolean {
    return this.phase === 'ready' && this.failure === undefined;
  }

  get ended(): boolean {
    return this.phase === 'ended';
  }

  get pids(): LambdaPids {
    const extensions: Record<string, number> = {};
    for (const launch of this.launches.values()) extensions[launch.name] = launch.process.pid;
    return { runtime: this.runtime?.pid ?? -1, extensions };
  }

  get registered(): RegisteredExtension[] {
    return [...this.extensions.values()].map((e) => ({ name: e.name, kind: e.kind, events: [...e.events] }));
  }

  // ---- Init -------------------------------------------------------------------------------------

  /** Runs the Init phase; on failure runs a Shutdown (reason `failure`) and throws LambdaInitError. */
  async init(): Promise<void> {
    const port = await this.server.listen();
    const config: EnvironmentConfig = {
      taskRoot: this.s.taskRoot,
      handler: this.s.handler,
      optDir: this.s.optDir,
      functionName: this.s.functionName,
      memoryMb: this.s.memoryMb,
      region: this.s.region,
      runtimeApi: `127.0.0.1:${port}`,
      runtimeDir: this.s.runtimeDir,
      nodeDir: this.s.nodeDir,
      basePath: this.s.basePath,
      nodeMajor: this.s.nodeMajor,
      logStreamName: this.s.logStreamName,
      user: this.s.userEnv,
    };
    const runtimeEnv = runtimeEnvironment(config);
    const deadline = performance.now() + this.s.initTimeoutMs;
    const remaining = () => deadline - performance.now();
    this.log.note(`INIT on 127.0.0.1:${port}`);

    // Extension init: every extension is started and has registered before the runtime starts.
    for (const file of listExtensionFiles(this.s.optDir)) this.launchExtension(file, runtimeEnv);
    await this.until(
      () => this.failure !== undefined || [...this.launches.values()].every((l) => l.record !== undefined),
      remaining(),
    );
    this.throwIfDisposed();
    if (this.failure === undefined && [...this.launches.values()].some((l) => l.record === undefined)) {
      const missing = [...this.launches.values()].filter((l) => l.record === undefined).map((l) => l.name);
      this.failure = {
        errorType: 'Sandbox.Timedout',
        errorMessage: `extensions did not register within ${this.s.initTimeoutMs} ms: ${missing.join(', ')}`,
      };
    }

    // Runtime init and function init: done when the runtime and every extension wait in next.
    if (this.failure === undefined) {
      this.startRuntime(runtimeEnv);
      const done = await this.until(() => this.failure !== undefined || this.everyoneWaiting(), remaining());
      this.throwIfDisposed();
      if (!done && this.failure === undefined) {
        this.failure = {
          errorType: 'Sandbox.Timedout',
          errorMessage: `Init phase did not complete within ${this.s.initTimeoutMs} ms`,
        };
      }
    }

    if (this.failure !== undefined) {
      const failure = this.failure;
      this.log.note(`INIT failed: ${failure.errorType}: ${failure.errorMessage}`);
      const timeline = await this.shutdown('failure', failure);
      throw new LambdaInitError(failure, timeline, this.log.text());
    }
    this.phase = 'ready';
    await this.freeze();
  }

  private launchExtension(file: string, runtimeEnv: Record<string, string>): void {
    const name = basename(file);
    const launch: ExternalLaunch = {
      name,
      record: undefined,
      process: new ManagedProcess(
        {
          label: name,
          command: file,
          args: [],
          // AWS does not document an extension's working directory; layer code must not rely on it.
          cwd: this.s.optDir ?? this.s.taskRoot,
          env: extensionEnvironment(runtimeEnv),
        },
        this.log,
        (exit) => this.onExtensionExit(launch, exit),
      ),
    };
    this.launches.set(name, launch);
    this.log.note(`started extension ${name} (pid ${launch.process.pid})`);
  }

  private startRuntime(runtimeEnv: Record<string, string>): void {
    this.runtime = new ManagedProcess(
      {
        label: 'runtime',
        command: this.s.runtimeCommand,
        args: [...this.s.runtimeArgs, this.s.handler],
        cwd: this.s.taskRoot,
        env: runtimeEnv,
      },
      this.log,
      (exit) => this.onRuntimeExit(exit),
    );
    this.log.note(`started runtime (pid ${this.runtime.pid})`);
  }

  // ---- Invoke -----------------------------------------------------------------------------------

  async invoke(
    requestId: string,
    payload: unknown,
    onAnswer: (answer: InvokeAnswer) => void,
  ): Promise<InvokeOutcome> {
    if (!this.healthy || this.runtimeParked === undefined) {
      throw new Error(`the environment cannot take an invocation (phase ${this.phase})`);
    }
    this.phase = 'invoking';
    this.thaw();
    const startedAt = performance.now();
    const deadlineMs = Date.now() + this.s.timeoutMs;
    const traceId = newTraceId();
    const invocation: ActiveInvocation = { requestId, startedAt, answer: undefined, closed: false, onAnswer };
    this.current = invocation;
    this.log.note(`INVOKE ${requestId}`);

    // Next Invocation (Runtime API): the event as body, the invocation's metadata as headers.
    const runtimeCall = this.runtimeParked;
    this.runtimeParked = undefined;
    runtimeCall.answer({
      status: 200,
      body: JSON.stringify(payload === undefined ? {} : payload),
      headers: {
        'Lambda-Runtime-Aws-Request-Id': requestId,
        'Lambda-Runtime-Deadline-Ms': String(deadlineMs),
        'Lambda-Runtime-Invoked-Function-Arn': this.s.functionArn,
        'Lambda-Runtime-Trace-Id': traceId,
      },
    });
    // The Invoke event (Extensions API, Invoke phase) to each extension registered for it.
    for (const extension of this.extensions.values()) {
      if (!extension.events.has('INVOKE')) continue;
      this.deliver(extension, {
        status: 200,
        body: {
          eventType: 'INVOKE',
          deadlineMs,
          requestId,
          invokedFunctionArn: this.s.functionArn,
          tracing: { type: 'X-Amzn-Trace-Id', value: traceId },
        },
        headers: { 'Lambda-Extension-Event-Identifier': randomUUID() },
      });
    }

    // "The function's timeout setting limits the duration of the entire Invoke phase" (runtime and
    // extensions alike).
    let completedAt: number | undefined;
    await this.until(() => {
      if (this.failure !== undefined) return true;
      if (!this.everyoneWaiting()) return false;
      completedAt ??= performance.now();
      return true;
    }, this.s.timeoutMs);
    this.throwIfDisposed();
    invocation.closed = true;
    const endedAt = completedAt ?? performance.now();
    const durationMs = endedAt - startedAt;

    if (completedAt !== undefined && this.failure === undefined) {
      this.current = undefined;
      this.phase = 'ready';
      const answer = invocation.answer ?? this.settle(invocation, noAnswer(requestId, durationMs));
      this.log.note(`END ${requestId} (${durationMs.toFixed(1)} ms)`);
      await this.freeze();
      return { answer, durationMs, timedOut: false, reset: undefined };
    }

    // A failed invocation: Lambda resets the environment ("The reset behaves like a Shutdown event").
    const timedOut = this.failure === undefined;
    const failure = this.failure ?? {
      errorType: 'Sandbox.Timedout',
      errorMessage: `${new Date().toISOString()} ${requestId} Task timed out after ${(this.s.timeoutMs / 1000).toFixed(2)} seconds`,
    };
    const answer =
      invocation.answer ?? this.settle(invocation, { requestId, error: failure, responseMs: durationMs });
    this.log.note(`END ${requestId}: ${failure.errorType}: ${failure.errorMessage}`);
    const reset = await this.shutdown(timedOut ? 'timeout' : 'failure', failure);
    this.current = undefined;
    return { answer, durationMs, timedOut, reset };
  }

  private settle(invocation: ActiveInvocation, answer: InvokeAnswer): InvokeAnswer {
    invocation.answer = answer;
    invocation.onAnswer(answer);
    return answer;
  }

  // ---- Shutdown ---------------------------------------------------------------------------------

  /** The Shutdown phase, under the budget rules of shutdown-policy.ts. Ends the environment. */
  async shutdown(reason: ShutdownReason, cause?: FunctionError): Promise<ShutdownTimeline> {
    if (this.timeline !== undefined) return this.timeline;
    if (this.phase === 'shutdown') throw new Error('shutdown already in progress');
    this.phase = 'shutdown';
    this.thaw();
    const start = performance.now();
    const startEpochMs = Date.now();
    const at = (t: number) => t - start;
    const records = [...this.extensions.values()];
    const internal = records.filter((e) => e.kind === 'internal');
    const external = records.filter((e) => e.kind === 'external');
    const plan = planShutdown({ internal: internal.length, external: external.length });
    this.log.note(
      `SHUTDOWN ${reason}: budget ${plan.budgetMs} ms, ${internal.length} internal and ` +
        `${external.length} external extensions`,
    );
    let runtimeSigtermAt: number | undefined;
    let runtimeExitedAt: number | undefined;
    let runtimeKilled = false;

    let eventsSent = false;
    /** The extensions given (or queued) a SHUTDOWN event: the ones the rest of the budget waits for. */
    const awaited: ExtensionRecord[] = [];
    const sendShutdownEvents = () => {
      eventsSent = true;
      for (const extension of external) {
        const process = extension.launch?.process;
        if (process === undefined || !process.alive || extension.doneAt !== undefined) continue;
        if (!extension.events.has('SHUTDOWN')) {
          // Not subscribed: nothing to wait for (AWS's emulator SIGKILLs these at this point).
          extension.killed = true;
          process.signalGroup('SIGKILL');
          continue;
        }
        awaited.push(extension);
        this.deliver(
          extension,
          {
            status: 200,
            body: { eventType: 'SHUTDOWN', shutdownReason: reason, deadlineMs: startEpochMs + plan.budgetMs },
            headers: { 'Lambda-Extension-Event-Identifier': randomUUID() },
          },
          () => {
            extension.shutdownEventAt = performance.now();
            this.log.note(`SHUTDOWN event to ${extension.name}`);
          },
        );
      }
    };

    const runtime = this.runtime;
    if (runtime?.alive) {
      if (!plan.sigterm) {
        // "0 ms – A function with no registered extensions": no SIGTERM, straight to SIGKILL.
        runtimeKilled = true;
        runtime.signalGroup('SIGKILL');
        this.log.note('SIGKILL runtime (no extensions registered)');
      } else {
        runtimeSigtermAt = at(performance.now());
        runtime.signal('SIGTERM');
        this.log.note(`SIGTERM runtime (share ${plan.runtimeShareMs} ms)`);
        if (plan.shutdownEvents && this.s.shutdownEventTiming === 'with-sigterm') sendShutdownEvents();
        await this.until(() => !runtime.alive, plan.runtimeShareMs, true);
        if (runtime.alive) {
          runtimeKilled = true;
          runtime.signalGroup('SIGKILL');
          this.log.note('SIGKILL runtime (its share of the budget is over)');
        }
      }
      const exit = await withLimit(runtime.exited, REAP_LIMIT_MS);
      if (exit !== undefined) runtimeExitedAt = at(exit.at);
    }

    if (plan.shutdownEvents) {
      if (!eventsSent) sendShutdownEvents();
      // An extension that already exited (one that crashed and caused this reset) is not waited for.
      await this.until(
        () => awaited.every((e) => e.doneAt !== undefined || e.launch?.process.alive !== true),
        start + plan.budgetMs - performance.now(),
        true,
      );
      for (const extension of awaited) {
        if (extension.doneAt === undefined && extension.launch?.process.alive) {
          extension.killed = true;
          this.log.note(`SIGKILL ${extension.name} (not done at the end of the budget)`);
        }
      }
    }

    // The environment goes away: whatever is left (extensions parked in next after finishing, children
    // of any process) is killed.
    const processes = this.allProcesses();
    for (const process of processes) process.signalGroup('SIGKILL');
    const exits = await Promise.all(processes.map((p) => withLimit(p.exited, REAP_LIMIT_MS)));
    if (exits.some((e) => e === undefined)) this.log.note('warning: a process was not reaped after SIGKILL');

    const extensions: ExtensionShutdown[] = external.map((e) => {
      const exit = e.launch?.process.exit;
      return {
        name: e.name,
        subscribed: e.events.has('SHUTDOWN'),
        shutdownEventAt: e.shutdownEventAt === undefined ? undefined : at(e.shutdownEventAt),
        doneAt: e.doneAt === undefined ? undefined : at(e.doneAt),
        doneBy: e.doneBy,
        exitedAt: exit === undefined ? undefined : at(exit.at),
        killed: e.killed,
      };
    });
    this.timeline = {
      reason,
      budgetMs: plan.budgetMs,
      runtimeShareMs: plan.sigterm ? plan.runtimeShareMs : 0,
      runtimeSigtermAt,
      runtimeExitedAt,
      runtimeKilled,
      internalExtensions: internal.map((e) => e.name),
      extensions,
      endedAt: at(performance.now()),
      ...(cause === undefined ? {} : { cause }),
    };
    this.phase = 'ended';
    this.log.note('environment ended');
    await this.server.close();
    this.changed();
    return this.timeline;
  }

  /** Kills everything at once (no budget, no events) and closes the API. Idempotent. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.changed();
    const processes = this.allProcesses();
    for (const process of processes) process.signalGroup('SIGKILL');
    await Promise.all(processes.map((p) => withLimit(p.exited, REAP_LIMIT_MS)));
    this.phase = 'ended';
    await this.server.close();
  }

  // ---- Freezing ---------------------------------------------------------------------------------

  private async freeze(): Promise<void> {
    const processes = this.allProcesses().filter((p) => p.alive);
    for (const process of processes) process.signalGroup('SIGSTOP');
    if (!(await waitStopped(processes))) this.log.note('warning: not every process stopped after SIGSTOP');
    this.log.note('frozen');
  }

  private thaw(): void {
    for (const process of this.allProcesses()) process.signalGroup('SIGCONT');
  }

  private allProcesses(): ManagedProcess[] {
    const processes = [...this.launches.values()].map((l) => l.process);
    if (this.runtime !== undefined) processes.push(this.runtime);
    return processes;
  }

  // ---- Process exits ----------------------------------------------------------------------------

  private onRuntimeExit(exit: ProcessExit): void {
    this.log.note(`runtime exited (${describeExit(exit)})`);
    this.runtimeParked = undefined;
    if (this.phase !== 'shutdown' && this.phase !== 'ended') {
      const prefix = this.current === undefined ? '' : `RequestId: ${this.current.requestId} `;
      this.failure ??= {
        errorType: 'Runtime.ExitError',
        errorMessage: `${prefix}Error: Runtime exited with error: ${describeExit(exit)}`,
      };
    }
    this.changed();
  }

  private onExtensionExit(launch: ExternalLaunch, exit: ProcessExit): void {
    this.log.note(`extension ${launch.name} exited (${describeExit(exit)})`);
    const record = launch.record;
    if (record !== undefined) {
      record.parked = undefined;
      if (this.phase === 'shutdown' && record.doneAt === undefined && !record.killed) {
        record.doneAt = exit.at;
        record.doneBy = 'exit';
      }
    }
    if (this.phase !== 'shutdown' && this.phase !== 'ended') {
      this.failure ??= {
        errorType: exit.spawnError === undefined ? 'Extension.Crash' : 'Extension.LaunchError',
        errorMessage: `extension ${launch.name} exited: ${describeExit(exit)}`,
      };
    }
    this.changed();
  }

  // ---- Runtime API ------------------------------------------------------------------------------

  runtimeNext(call: ParkedCall): void {
    this.runtimeParked = call;
    call.onGone(() => {
      if (this.runtimeParked === call) this.runtimeParked = undefined;
      this.changed();
    });
    this.changed();
  }

  runtimeResponse(requestId: string, body: string): Reply {
    const refused = this.checkAnswer(requestId);
    if (refused !== undefined) return refused;
    const invocation = this.current!;
    this.settle(invocation, {
      requestId,
      response: parseJson(body),
      responseMs: performance.now() - invocation.startedAt,
    });
    this.log.note(`response for ${requestId}`);
    this.changed();
    return accepted();
  }

  runtimeError(requestId: string, body: string, errorType: string | undefined): Reply {
    const refused = this.checkAnswer(requestId);
    if (refused !== undefined) return refused;
    const invocation = this.current!;
    const error = parseError(body, errorType);
    this.settle(invocation, { requestId, error, responseMs: performance.now() - invocation.startedAt });
    this.log.note(`error for ${requestId}: ${error.errorType}`);
    this.changed();
    return accepted();
  }

  runtimeInitError(body: string, errorType: string | undefined): Reply {
    if (this.phase !== 'init') return stateError('init/error outside the Init phase');
    this.failure ??= parseError(body, errorType);
    this.changed();
    return accepted();
  }

  private checkAnswer(requestId: string): Reply | undefined {
    const invocation = this.current;
    if (invocation === undefined || invocation.requestId !== requestId) {
      return { status: 400, body: { errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' } };
    }
    if (invocation.answer !== undefined || invocation.closed) {
      return stateError(`invocation ${requestId} already has an answer`);
    }
    return undefined;
  }

  // ---- Extensions API ---------------------------------------------------------------------------

  extensionRegister(name: string | undefined, body: string): Reply {
    if (this.phase !== 'init')
      return forbidden('Extension.InvalidRegistration', 'registration is only open during Init');
    if (name === undefined || name === '') {
      return forbidden('Extension.MissingExtensionName', 'the Lambda-Extension-Name header is required');
    }
    let events: LifecycleEvent[];
    try {
      const parsed = body === '' ? {} : (JSON.parse(body) as { events?: unknown });
      const list = parsed.events ?? [];
      if (!Array.isArray(list)) throw new Error('events is not an array');
      events = list.map((e) => {
        if (e !== 'INVOKE' && e !== 'SHUTDOWN') throw new Error(`invalid event ${String(e)}`);
        return e;
      });
    } catch (e) {
      return forbidden('Extension.InvalidEventType', e instanceof Error ? e.message : String(e));
    }
    if ([...this.extensions.values()].some((e) => e.name === name)) {
      return forbidden('Extension.AlreadyRegistered', `${name} is already registered`);
    }
    if (this.extensions.size >= MAX_EXTENSIONS) {
      return forbidden('Extension.TooManyExtensions', `at most ${MAX_EXTENSIONS} extensions`);
    }
    // External extensions register under their file name before the runtime starts; a registration
    // made once the runtime runs comes from inside it (an internal extension).
    const launch = this.launches.get(name);
    let kind: 'internal' | 'external';
    if (launch !== undefined && launch.record === undefined) kind = 'external';
    else if (this.runtime !== undefined) kind = 'internal';
    else {
      return forbidden(
        'Extension.UnknownExtension',
        `no extension file named ${name} in <optDir>/extensions`,
      );
    }
    if (kind === 'internal' && events.includes('SHUTDOWN')) {
      return forbidden(
        'ShutdownEventNotSupportedForInternalExtension',
        `${name}: internal extensions cannot register for SHUTDOWN`,
      );
    }
    const record: ExtensionRecord = {
      id: randomUUID(),
      name,
      kind,
      events: new Set(events),
      launch: kind === 'external' ? launch : undefined,
      parked: undefined,
      queued: undefined,
      errored: false,
      killed: false,
    };
    if (launch !== undefined && kind === 'external') launch.record = record;
    this.extensions.set(record.id, record);
    this.log.note(`registered ${kind} extension ${name} for [${events.join(', ')}]`);
    this.changed();
    return {
      status: 200,
      headers: { 'Lambda-Extension-Identifier': record.id },
      body: { functionName: this.s.functionName, functionVersion: '$LATEST', handler: this.s.handler },
    };
  }

  extensionNext(id: string | undefined, call: ParkedCall): Reply | undefined {
    const found = this.findExtension(id);
    if ('status' in found) return found;
    const extension = found;
    if (extension.shutdownEventAt !== undefined) {
      // Asking for the next event after SHUTDOWN is the extension's "done"; it is never answered.
      if (extension.doneAt === undefined) {
        extension.doneAt = performance.now();
        extension.doneBy = 'next';
        this.log.note(`${extension.name} done after SHUTDOWN`);
      }
      this.changed();
      return undefined;
    }
    const queued = extension.queued;
    if (queued !== undefined) {
      extension.queued = undefined;
      call.answer(queued.reply);
      queued.delivered?.();
      this.changed();
      return undefined;
    }
    extension.parked = call;
    call.onGone(() => {
      if (extension.parked === call) extension.parked = undefined;
      this.changed();
    });
    this.changed();
    return undefined;
  }

  extensionError(
    kind: 'init' | 'exit',
    id: string | undefined,
    errorType: string | undefined,
    body: string,
  ): Reply {
    const found = this.findExtension(id);
    if ('status' in found) return found;
    if (errorType === undefined || errorType === '') {
      return {
        status: 400,
        body: {
          errorType: 'InvalidRequest',
          errorMessage: 'Lambda-Extension-Function-Error-Type is required',
        },
      };
    }
    const extension = found;
    // "After Lambda receives the error, no further API calls succeed. The extension should exit."
    extension.errored = true;
    const detail = parseError(body, errorType);
    this.log.note(`${kind} error from ${extension.name}: ${errorType}`);
    if (this.phase !== 'shutdown' && this.phase !== 'ended') {
      this.failure ??= { errorType, errorMessage: `extension ${extension.name}: ${detail.errorMessage}` };
    }
    this.changed();
    return { status: 202, body: { status: 'OK' }, headers: { 'Lambda-Extension-Identifier': extension.id } };
  }

  private findExtension(id: string | undefined): ExtensionRecord | Reply {
    if (id === undefined || id === '') {
      return forbidden(
        'Extension.MissingExtensionIdentifier',
        'the Lambda-Extension-Identifier header is required',
      );
    }
    const extension = this.extensions.get(id);
    if (extension === undefined)
      return forbidden('Extension.UnknownExtensionIdentifier', `unknown extension ${id}`);
    if (extension.errored)
      return forbidden('Extension.InvalidExtensionState', `${extension.name} reported an error`);
    return extension;
  }

  /** Hands an event to an extension now if it waits in next, else at its next call. */
  private deliver(extension: ExtensionRecord, reply: Reply, delivered?: () => void): void {
    const call = extension.parked;
    if (call !== undefined && !call.gone) {
      extension.parked = undefined;
      call.answer(reply);
      delivered?.();
    } else {
      extension.queued = { reply, delivered };
    }
  }

  /** The runtime and every registered extension are waiting in next, with nothing left to hand out. */
  private everyoneWaiting(): boolean {
    if (this.runtimeParked === undefined || this.runtimeParked.gone) return false;
    for (const extension of this.extensions.values()) {
      if (extension.parked === undefined || extension.parked.gone || extension.queued !== undefined)
        return false;
    }
    return true;
  }

  // ---- Waiting ----------------------------------------------------------------------------------

  private changed(): void {
    for (const watcher of [...this.watchers]) watcher();
  }

  /**
   * Resolves true as soon as `predicate` holds (checked on every state change), false when `timeoutMs`
   * runs out first or the environment is disposed (unless `ignoreDispose`).
   */
  private until(predicate: () => boolean, timeoutMs: number, ignoreDispose = false): Promise<boolean> {
    const stop = () => !ignoreDispose && this.disposed;
    if (stop()) return Promise.resolve(false);
    if (predicate()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (value: boolean) => {
        this.watchers.delete(check);
        clearTimeout(timer);
        resolve(value);
      };
      const check = () => {
        if (stop()) finish(false);
        else if (predicate()) finish(true);
      };
      const timer = setTimeout(() => finish(!stop() && predicate()), Math.max(0, timeoutMs));
      this.watchers.add(check);
    });
  }

  private throwIfDisposed(): void {
    if (this.disposed) throw new LambdaDisposedError();
  }
}

/** Executable files directly in `<optDir>/extensions`, by name (the order Lambda starts them in is not documented). */
function listExtensionFiles(optDir: string | undefined): string[] {
  if (optDir === undefined) return [];
  const dir = join(optDir, 'extensions');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((name) => join(dir, name))
    .filter((file) => {
      try {
        if (!statSync(file).isFile()) return false;
        accessSync(file, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

function newTraceId(): string {
  const seconds = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0');
  return `Root=1-${seconds}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
}

/** Like Go's exec error strings, which Lambda's messages use ("exit status 1", "signal: killed"). */
function describeExit(exit: ProcessExit): string {
  if (exit.spawnError !== undefined) return `could not start: ${exit.spawnError.message}`;
  if (exit.code !== null) return `exit status ${exit.code}`;
  const names: Record<string, string> = {
    SIGKILL: 'killed',
    SIGTERM: 'terminated',
    SIGSEGV: 'segmentation fault',
    SIGABRT: 'aborted',
    SIGINT: 'interrupt',
    SIGHUP: 'hangup',
  };
  const signal = exit.signal ?? 'unknown';
  return `signal: ${names[signal] ?? signal.toLowerCase()}`;
}

function parseJson(body: string): unknown {
  if (body === '') return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

function parseError(body: string, headerType: string | undefined): FunctionError {
  const parsed = parseJson(body);
  if (parsed !== null && typeof parsed === 'object') {
    const o = parsed as {
      errorType?: unknown;
      errorMessage?: unknown;
      trace?: unknown;
      stackTrace?: unknown;
    };
    const trace = Array.isArray(o.trace) ? o.trace : Array.isArray(o.stackTrace) ? o.stackTrace : undefined;
    return {
      errorType: typeof o.errorType === 'string' ? o.errorType : (headerType ?? 'Unknown'),
      errorMessage: typeof o.errorMessage === 'string' ? o.errorMessage : '',
      ...(trace === undefined ? {} : { trace: trace.map(String) }),
    };
  }
  return { errorType: headerType ?? 'Unknown', errorMessage: typeof parsed === 'string' ? parsed : '' };
}

function noAnswer(requestId: string, responseMs: number): InvokeAnswer {
  return {
    requestId,
    responseMs,
    error: {
      errorType: 'Runtime.NoAnswer',
      errorMessage: 'the runtime asked for the next invocation without answering this one',
    },
  };
}

function accepted(): Reply {
  return { status: 202, body: { status: 'OK' } };
}

function forbidden(errorType: string, errorMessage: string): Reply {
  return { status: 403, body: { errorType, errorMessage } };
}

function stateError(errorMessage: string): Reply {
  return forbidden('InvalidStateTransition', errorMessage);
}

async function withLimit<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}
