// The local Lambda emulation (./emulator) itself: the real runtime client (aws-lambda-ric) and real
// extension processes against the emulated Runtime and Extensions APIs. No timing thresholds: the
// assertions are about outcomes and order (the machine is shared and slow).

import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  disposeAllLambdas,
  type InvokeAnswer,
  LambdaInitError,
  type LambdaOptions,
  planShutdown,
  processState,
  startLambda,
} from './emulator/index.js';

const FIXTURES = join(import.meta.dirname, 'emulator', 'fixtures');
const FUNCTIONS = join(FIXTURES, 'functions');

let tmp: string;

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'flagstaff-emulator-'));
});

afterEach(async () => {
  await disposeAllLambdas();
  rmSync(tmp, { recursive: true, force: true });
});

interface ProbeBehaviour {
  events?: ('INVOKE' | 'SHUTDOWN')[];
  onInvoke?: 'next' | 'wait-file' | 'crash';
  onShutdown?: 'exit' | 'next' | 'ignore';
}

/**
 * A stand-in for /opt: the probe extension under each given name in `extensions/`, and optionally the
 * `layer-greeting` package in `nodejs/node_modules`. Returns the directory and the probes' environment.
 */
function layer(
  probes: Record<string, ProbeBehaviour>,
  options: { greeting?: boolean } = {},
): { optDir: string; env: Record<string, string> } {
  const optDir = join(tmp, 'opt');
  const probeDir = join(tmp, 'probe');
  mkdirSync(join(optDir, 'extensions'), { recursive: true });
  mkdirSync(probeDir, { recursive: true });
  for (const name of Object.keys(probes)) {
    const file = join(optDir, 'extensions', name);
    copyFileSync(join(FIXTURES, 'extensions', 'probe-ext'), file);
    chmodSync(file, 0o755);
  }
  if (options.greeting) {
    cpSync(join(FIXTURES, 'layer-modules'), join(optDir, 'nodejs', 'node_modules'), { recursive: true });
  }
  return { optDir, env: { PROBE_DIR: probeDir, PROBE_CONFIG: JSON.stringify(probes) } };
}

interface ProbeEntry {
  kind: 'registered' | 'event' | 'released';
  status?: number;
  body?: Record<string, unknown>;
  env?: Record<string, string | null>;
  event?: Record<string, unknown> & { eventType: string };
  requestId?: string;
}

/** What the probe extension `name` recorded so far. */
function probeLog(name: string): ProbeEntry[] {
  const file = join(tmp, 'probe', `${name}.jsonl`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ProbeEntry);
}

function probeEvents(name: string): (Record<string, unknown> & { eventType: string })[] {
  return probeLog(name).flatMap((e) => (e.kind === 'event' && e.event !== undefined ? [e.event] : []));
}

function start(options: Omit<LambdaOptions, 'taskRoot'> & { taskRoot?: string }) {
  return startLambda({ taskRoot: FUNCTIONS, ...options });
}

/** True when the process no longer runs (gone, or a zombie waiting for a parent that is not us). */
function gone(pid: number): boolean {
  const state = processState(pid);
  return state === undefined || state === 'Z';
}

describe('invocations through the real runtime client', () => {
  it("returns the handler's result with the invocation metadata, and stays warm", async () => {
    const fn = await start({
      handler: 'basic.handler',
      functionName: 'flags-fn',
      memoryMb: 256,
      timeoutMs: 20_000,
      env: { CUSTOM: 'yes' },
    });
    const first = await fn.invoke({ hello: 'world' });
    expect(first.error, fn.logs()).toBeUndefined();
    const body = first.response as Record<string, unknown>;
    expect(body).toMatchObject({
      event: { hello: 'world' },
      requestId: first.requestId,
      functionName: 'flags-fn',
      memoryLimitInMB: '256',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:flags-fn',
      env: {
        AWS_LAMBDA_FUNCTION_NAME: 'flags-fn',
        AWS_REGION: 'us-east-1',
        LAMBDA_TASK_ROOT: FUNCTIONS,
        _HANDLER: 'basic.handler',
        CUSTOM: 'yes',
      },
      pid: fn.pids.runtime,
    });
    expect(body.remainingMs).toBeGreaterThan(0);
    expect(body.remainingMs).toBeLessThanOrEqual(20_000);
    expect(body.traceId).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
    expect(first.timedOut).toBe(false);
    expect(first.coldStart).toBe(false);
    expect(first.reset).toBeUndefined();
    expect(first.durationMs).toBeGreaterThanOrEqual(first.responseMs);

    // A warm environment: the same runtime process answers the next invocation.
    const second = await fn.invoke({ n: 2 });
    expect((second.response as { pid: number }).pid).toBe(fn.pids.runtime);
    expect(second.requestId).not.toBe(first.requestId);
    expect(fn.inits).toBe(1);
    expect(fn.logs()).toContain('[runtime]');
  });

  it("a handler's error is the invocation's error; the environment stays", async () => {
    const fn = await start({ handler: 'failing.handler' });
    const pid = fn.pids.runtime;
    const result = await fn.invoke({ flag: 'checkout' });
    expect(result.response).toBeUndefined();
    expect(result.error).toMatchObject({
      errorType: 'FlagLookupError',
      errorMessage: 'no flag named checkout',
    });
    expect(result.reset).toBeUndefined();
    const again = await fn.invoke({ flag: 'banner' });
    expect(again.error?.errorMessage).toBe('no flag named banner');
    expect(fn.pids.runtime).toBe(pid);
  });

  it('runs an ES module handler', async () => {
    const fn = await start({ handler: 'esm.handler' });
    const result = await fn.invoke({ x: 1 });
    expect(result.response).toEqual({
      module: 'esm',
      initialised: 'at import',
      event: { x: 1 },
      requestId: result.requestId,
    });
  });

  it('a CommonJS handler finds a package of <optDir>/nodejs/node_modules through NODE_PATH', async () => {
    const { optDir } = layer({}, { greeting: true });
    const fn = await start({ handler: 'layer-user.handler', optDir });
    const result = await fn.invoke({ name: 'ada' });
    expect(result.error, fn.logs()).toBeUndefined();
    expect(result.response).toEqual({
      greeting: 'hello ada, from the layer',
      resolvedFrom: join(optDir, 'nodejs', 'node_modules', 'layer-greeting', 'index.js'),
    });
  });

  it('a handler module that cannot be loaded fails Init: startLambda rejects, nothing is left running', async () => {
    const error = await start({ handler: 'missing-module.handler' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LambdaInitError);
    const init = error as LambdaInitError;
    expect(init.errorType).toBe('Runtime.ImportModuleError');
    expect(init.shutdown.reason).toBe('failure');
    expect(init.logs).toContain('INIT failed');
  });
});

describe('failed invocations reset the environment', () => {
  it('past the timeout: Sandbox.Timedout, SHUTDOWN with reason timeout, a new Init for the next invocation', async () => {
    const probes = layer({ 'probe-ext': {} });
    const fn = await start({
      handler: 'misbehave.handler',
      optDir: probes.optDir,
      env: probes.env,
      timeoutMs: 1500,
    });
    const firstRuntime = fn.pids.runtime;
    const result = await fn.invoke({ action: 'hang' });
    expect(result.timedOut).toBe(true);
    expect(result.response).toBeUndefined();
    expect(result.error?.errorType).toBe('Sandbox.Timedout');
    expect(result.error?.errorMessage).toMatch(
      new RegExp(`${result.requestId} Task timed out after 1\\.50 seconds$`),
    );
    expect(result.reset?.reason).toBe('timeout');
    expect(result.reset?.cause?.errorType).toBe('Sandbox.Timedout');
    expect(probeEvents('probe-ext').at(-1)).toMatchObject({
      eventType: 'SHUTDOWN',
      shutdownReason: 'timeout',
    });
    expect(gone(firstRuntime)).toBe(true);

    const next = await fn.invoke({ action: 'none' });
    expect(next.coldStart).toBe(true);
    expect(next.response).toBe('fine');
    expect(fn.inits).toBe(2);
    expect(fn.pids.runtime).not.toBe(firstRuntime);
  });

  it('a runtime that exits mid-invocation: Runtime.ExitError and a reset', async () => {
    const fn = await start({ handler: 'misbehave.handler' });
    const result = await fn.invoke({ action: 'exit' });
    expect(result.error?.errorType).toBe('Runtime.ExitError');
    expect(result.error?.errorMessage).toContain(
      `RequestId: ${result.requestId} Error: Runtime exited with error: exit status 3`,
    );
    expect(result.reset?.reason).toBe('failure');
    const next = await fn.invoke({});
    expect(next).toMatchObject({ coldStart: true, response: 'fine' });
  });

  it('an extension that crashes during an invocation: Extension.Crash resets the environment', async () => {
    const probes = layer({ 'probe-ext': { onInvoke: 'crash' } });
    const fn = await start({ handler: 'basic.handler', optDir: probes.optDir, env: probes.env });
    const firstRuntime = fn.pids.runtime;
    const result = await fn.invoke({});
    expect(result.reset?.reason).toBe('failure');
    expect(result.reset?.cause).toMatchObject({
      errorType: 'Extension.Crash',
      errorMessage: 'extension probe-ext exited: exit status 2',
    });
    // The crashed extension had exited already; the runtime still had its SIGTERM.
    expect(result.reset?.extensions[0]).toMatchObject({ name: 'probe-ext', killed: false });
    expect(result.reset?.runtimeSigtermAt).toBeDefined();
    expect(gone(firstRuntime)).toBe(true);
    // Re-initialised for the next invocation (where the probe crashes again).
    const next = await fn.invoke({});
    expect(next.coldStart).toBe(true);
    expect(fn.pids.runtime).not.toBe(firstRuntime);
  });

  it('an exception outside the handler is posted as the error, then the runtime exits and is replaced', async () => {
    const fn = await start({ handler: 'misbehave.handler' });
    const result = await fn.invoke({ action: 'uncaught' });
    expect(result.error).toMatchObject({ errorType: 'Error', errorMessage: 'thrown outside the handler' });
    expect(result.reset?.reason).toBe('failure');
    expect((await fn.invoke({})).response).toBe('fine');
  });
});

describe('extensions', () => {
  it('an external extension registers under its file name, gets INVOKE for each invocation and SHUTDOWN at the end', async () => {
    const probes = layer({ 'probe-ext': {} });
    const fn = await start({
      handler: 'basic.handler',
      functionName: 'probed',
      optDir: probes.optDir,
      env: probes.env,
    });
    expect(fn.extensions).toEqual([{ name: 'probe-ext', kind: 'external', events: ['INVOKE', 'SHUTDOWN'] }]);
    const registered = probeLog('probe-ext')[0];
    expect(registered).toMatchObject({
      kind: 'registered',
      status: 200,
      body: { functionName: 'probed', functionVersion: '$LATEST', handler: 'basic.handler' },
      // The function's variables minus the runtime's own.
      env: { handler: null, taskRoot: null, functionName: 'probed' },
    });
    expect(registered?.env?.nodePath).toContain(join(probes.optDir, 'nodejs', 'node_modules'));

    const first = await fn.invoke({ n: 1 });
    const second = await fn.invoke({ n: 2 });
    const invokes = probeEvents('probe-ext');
    expect(invokes.map((e) => [e.eventType, e.requestId])).toEqual([
      ['INVOKE', first.requestId],
      ['INVOKE', second.requestId],
    ]);
    expect(invokes[0]).toMatchObject({
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:probed',
      tracing: { type: 'X-Amzn-Trace-Id' },
    });
    expect(typeof invokes[0]?.deadlineMs).toBe('number');

    const before = Date.now();
    const shutdown = await fn.shutdown();
    const last = probeEvents('probe-ext').at(-1);
    expect(last).toMatchObject({ eventType: 'SHUTDOWN', shutdownReason: 'spindown' });
    // deadlineMs is the end of the 2,000 ms budget, in Unix milliseconds.
    expect(last?.deadlineMs as number).toBeGreaterThan(before);
    expect(shutdown).toMatchObject({
      reason: 'spindown',
      budgetMs: 2000,
      runtimeShareMs: 300,
      runtimeKilled: false,
    });
    expect(shutdown.extensions).toEqual([
      expect.objectContaining({ name: 'probe-ext', subscribed: true, doneBy: 'exit', killed: false }),
    ]);
    await expect(fn.invoke({})).rejects.toThrow(/shut-down/);
  });

  it("the runtime's answer is available while an extension still works on the invocation", async () => {
    const probes = layer({ 'probe-ext': { onInvoke: 'wait-file' } });
    const fn = await start({ handler: 'basic.handler', optDir: probes.optDir, env: probes.env });
    const seen: InvokeAnswer[] = [];
    const call = fn.invoke({ early: true }, { onResponse: (answer) => seen.push(answer) });
    let completed = false;
    void call.then(() => {
      completed = true;
    });
    const answer = await call.responded;
    expect(answer.requestId).toBe(call.requestId);
    expect((answer.response as { event: unknown }).event).toEqual({ early: true });
    expect(seen).toEqual([answer]);
    // The extension holds the invocation open until it is released.
    expect(completed).toBe(false);
    expect(probeLog('probe-ext').some((e) => e.kind === 'released')).toBe(false);

    writeFileSync(join(tmp, 'probe', 'probe-ext.release'), '');
    const result = await call;
    expect(result.response).toEqual(answer.response);
    expect(result.durationMs).toBeGreaterThanOrEqual(result.responseMs);
    // Complete means the extension was back in next: its work was done before the freeze.
    expect(probeLog('probe-ext').filter((e) => e.kind === 'released')).toEqual([
      { kind: 'released', requestId: call.requestId },
    ]);
  });

  it('an internal extension registers from inside the runtime, gets INVOKE, and makes the budget 500 ms', async () => {
    const mark = join(tmp, 'mark');
    const fn = await start({ handler: 'internal.handler', env: { MARK_FILE: mark } });
    expect(fn.extensions).toEqual([{ name: 'internal-probe', kind: 'internal', events: ['INVOKE'] }]);
    const first = await fn.invoke({});
    const second = await fn.invoke({});
    expect((second.response as { invokes: string[] }).invokes).toContain(first.requestId);
    expect((first.response as { registration: { status: number } }).registration.status).toBe(200);

    const shutdown = await fn.shutdown();
    expect(shutdown).toMatchObject({
      budgetMs: 500,
      runtimeShareMs: 500,
      runtimeKilled: false,
      internalExtensions: ['internal-probe'],
      extensions: [],
    });
    expect(shutdown.runtimeSigtermAt).toBeDefined();
    expect(readFileSync(mark, 'utf8')).toBe('sigterm\n');
  });

  it('an internal extension cannot register for SHUTDOWN', async () => {
    const fn = await start({ handler: 'internal.handler', env: { INTERNAL_EVENTS: 'INVOKE,SHUTDOWN' } });
    const result = await fn.invoke({});
    expect((result.response as { registration: unknown }).registration).toEqual({
      status: 403,
      body: expect.objectContaining({ errorType: 'ShutdownEventNotSupportedForInternalExtension' }),
    });
    expect(fn.extensions).toEqual([]);
    expect((await fn.shutdown()).budgetMs).toBe(0);
  });
});

describe('freezing between invocations', () => {
  it('stops every process (children too) once all are back in next; timers make no progress while frozen', async () => {
    const tickFile = join(tmp, 'ticks');
    const probes = layer({ 'probe-ext': {} });
    const fn = await start({
      handler: 'ticker.handler',
      optDir: probes.optDir,
      env: { ...probes.env, TICK_FILE: tickFile },
    });
    const { runtime } = fn.pids;
    const extension = fn.pids.extensions['probe-ext']!;
    // Frozen right after Init.
    expect(processState(runtime)).toBe('T');
    expect(processState(extension)).toBe('T');

    const first = await fn.invoke({});
    const { ticks, grandchildPid } = first.response as { ticks: number; grandchildPid: number };
    expect(processState(runtime)).toBe('T');
    expect(processState(extension)).toBe('T');
    expect(processState(grandchildPid)).toBe('T');

    // Let a timer of the same period as the handler's fire 50 times here: the frozen one must not fire.
    const frozenAt = Number(readFileSync(tickFile, 'utf8'));
    expect(frozenAt).toBeGreaterThanOrEqual(ticks);
    await new Promise<void>((resolve) => {
      let count = 0;
      const timer = setInterval(() => {
        count += 1;
        if (count === 50) {
          clearInterval(timer);
          resolve();
        }
      }, 2);
    });
    expect(Number(readFileSync(tickFile, 'utf8'))).toBe(frozenAt);

    // Thawed for the next invocation, it moves again.
    const second = await fn.invoke({});
    expect((second.response as { ticks: number }).ticks).toBeGreaterThan(frozenAt);

    await fn.shutdown();
    await vi.waitFor(() => expect(gone(grandchildPid)).toBe(true));
  });
});

describe("AWS's shutdown budget", () => {
  it('no extensions: the runtime is SIGKILLed at once, without SIGTERM', async () => {
    const mark = join(tmp, 'mark');
    const fn = await start({ handler: 'sigterm.handler', env: { MARK_FILE: mark } });
    await fn.invoke({});
    const shutdown = await fn.shutdown();
    expect(shutdown).toMatchObject({ budgetMs: 0, runtimeShareMs: 0, runtimeKilled: true, extensions: [] });
    expect(shutdown.runtimeSigtermAt).toBeUndefined();
    expect(existsSync(mark)).toBe(false);
  });

  it('internal extension only: a runtime that ignores SIGTERM is killed at the end of the 500 ms', async () => {
    const mark = join(tmp, 'mark');
    const fn = await start({ handler: 'internal.handler', env: { MARK_FILE: mark, SIGTERM_MODE: 'ignore' } });
    const shutdown = await fn.shutdown();
    expect(shutdown).toMatchObject({ budgetMs: 500, runtimeKilled: true });
    expect(shutdown.runtimeExitedAt!).toBeGreaterThan(shutdown.runtimeSigtermAt!);
    expect(readFileSync(mark, 'utf8')).toBe('sigterm-ignored\n');
  });

  it('external extension: SIGTERM to the runtime first; SHUTDOWN once it has exited; nobody killed', async () => {
    const mark = join(tmp, 'mark');
    const probes = layer({ 'probe-ext': {} });
    const fn = await start({
      handler: 'sigterm.handler',
      optDir: probes.optDir,
      env: { ...probes.env, MARK_FILE: mark },
    });
    await fn.invoke({});
    const shutdown = await fn.shutdown();
    expect(shutdown).toMatchObject({ budgetMs: 2000, runtimeShareMs: 300, runtimeKilled: false });
    expect(readFileSync(mark, 'utf8')).toBe('sigterm\n');
    const [extension] = shutdown.extensions;
    expect(extension).toMatchObject({ name: 'probe-ext', doneBy: 'exit', killed: false });
    expect(shutdown.runtimeSigtermAt!).toBeLessThanOrEqual(shutdown.runtimeExitedAt!);
    expect(shutdown.runtimeExitedAt!).toBeLessThanOrEqual(extension!.shutdownEventAt!);
    expect(extension!.shutdownEventAt!).toBeLessThanOrEqual(extension!.exitedAt!);
  });

  it('external extensions: what does not finish in time is killed, what asks for next is done', async () => {
    const mark = join(tmp, 'mark');
    const probes = layer({
      'ext-ignores': { onShutdown: 'ignore' },
      'ext-nexts': { onShutdown: 'next' },
      'ext-unsubscribed': { events: ['INVOKE'] },
    });
    const fn = await start({
      handler: 'sigterm.handler',
      optDir: probes.optDir,
      env: { ...probes.env, MARK_FILE: mark, SIGTERM_MODE: 'ignore' },
    });
    await fn.invoke({});
    const pids = Object.values(fn.pids.extensions);
    const shutdown = await fn.shutdown();
    // The runtime ignored SIGTERM: killed at the end of its share, and only then the extensions' turn.
    expect(shutdown.runtimeKilled).toBe(true);
    expect(readFileSync(mark, 'utf8')).toBe('sigterm-ignored\n');
    const byName = Object.fromEntries(shutdown.extensions.map((e) => [e.name, e]));
    expect(byName['ext-ignores']).toMatchObject({ subscribed: true, killed: true });
    expect(byName['ext-ignores']?.doneAt).toBeUndefined();
    expect(byName['ext-nexts']).toMatchObject({ subscribed: true, doneBy: 'next', killed: false });
    expect(byName['ext-unsubscribed']).toMatchObject({ subscribed: false, killed: true });
    expect(byName['ext-unsubscribed']?.shutdownEventAt).toBeUndefined();
    for (const name of ['ext-ignores', 'ext-nexts']) {
      expect(byName[name]!.shutdownEventAt!).toBeGreaterThanOrEqual(shutdown.runtimeExitedAt!);
      expect(probeEvents(name).at(-1)).toMatchObject({ eventType: 'SHUTDOWN', shutdownReason: 'spindown' });
    }
    expect(probeEvents('ext-unsubscribed').map((e) => e.eventType)).toEqual(['INVOKE']);
    for (const pid of pids) expect(gone(pid)).toBe(true);
  });

  it("shutdownEventTiming 'with-sigterm': extensions get SHUTDOWN while the runtime is still running", async () => {
    const probes = layer({ 'probe-ext': {} });
    const fn = await start({
      handler: 'sigterm.handler',
      optDir: probes.optDir,
      env: { ...probes.env, SIGTERM_MODE: 'ignore' },
      shutdownEventTiming: 'with-sigterm',
    });
    const shutdown = await fn.shutdown();
    expect(shutdown.runtimeKilled).toBe(true);
    expect(shutdown.extensions[0]!.shutdownEventAt!).toBeLessThan(shutdown.runtimeExitedAt!);
  });

  it('planShutdown: the documented budgets and runtime shares', () => {
    expect(planShutdown({ internal: 0, external: 0 })).toEqual({
      budgetMs: 0,
      sigterm: false,
      runtimeShareMs: 0,
      shutdownEvents: false,
    });
    expect(planShutdown({ internal: 2, external: 0 })).toEqual({
      budgetMs: 500,
      sigterm: true,
      runtimeShareMs: 500,
      shutdownEvents: false,
    });
    expect(planShutdown({ internal: 0, external: 1 })).toMatchObject({ budgetMs: 2000, runtimeShareMs: 300 });
    expect(planShutdown({ internal: 1, external: 3 })).toMatchObject({ budgetMs: 2000, runtimeShareMs: 500 });
  });
});

describe('cleanup', () => {
  it('dispose kills every process, frozen or not, children included; it is idempotent', async () => {
    const probes = layer({ 'probe-ext': {} });
    const fn = await start({ handler: 'ticker.handler', optDir: probes.optDir, env: probes.env });
    const result = await fn.invoke({});
    const pids = [
      fn.pids.runtime,
      ...Object.values(fn.pids.extensions),
      (result.response as { grandchildPid: number }).grandchildPid,
    ];
    expect(pids.map((pid) => processState(pid))).toEqual(['T', 'T', 'T']);
    await fn.dispose();
    await fn.dispose();
    await vi.waitFor(() => expect(pids.filter((pid) => !gone(pid))).toEqual([]));
    await expect(fn.invoke({})).rejects.toThrow(/disposed/);
  });

  it('one invocation at a time', async () => {
    const fn = await start({ handler: 'basic.handler' });
    const first = fn.invoke({});
    await expect(fn.invoke({})).rejects.toThrow(/in progress/);
    expect((await first).error).toBeUndefined();
  });

  it('the environment log names each process', async () => {
    const probes = layer({ 'probe-ext': {} });
    const fn = await start({ handler: 'basic.handler', optDir: probes.optDir, env: probes.env });
    await fn.invoke({});
    await fn.shutdown();
    const logs = fn.logs();
    expect(logs).toContain("[runtime] Executing 'basic.handler'");
    expect(logs).toMatch(/\[lambda\] registered external extension probe-ext for \[INVOKE, SHUTDOWN\]/);
    expect(logs.indexOf('[lambda] SHUTDOWN spindown')).toBeGreaterThan(logs.indexOf('[lambda] INVOKE'));
  });
});
