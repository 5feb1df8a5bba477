// One process of the execution environment (the runtime or an external extension): spawned in its own
// process group so that freezing and killing reach its children too, with its output captured line by
// line into the environment's log.

import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { LogBook } from './log-book.js';
import { trackGroup, untrackGroup } from './reaper.js';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** `performance.now()` when the exit was observed. */
  at: number;
  /** Set when the process could not be started at all (ENOENT, EACCES). */
  spawnError?: Error;
}

export interface SpawnSpec {
  label: string;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

export class ManagedProcess {
  readonly label: string;
  readonly pid: number;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ProcessExit>;
  private exitInfo: ProcessExit | undefined;
  private readonly child: ChildProcess;

  constructor(spec: SpawnSpec, log: LogBook, onExit: (exit: ProcessExit) => void) {
    this.label = spec.label;
    // `detached` makes the child a session and process-group leader (setsid), so a signal sent to
    // -pid reaches everything it starts, the way Lambda freezes and kills the whole environment.
    this.child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.pid = this.child.pid ?? -1;
    if (this.pid > 0) trackGroup(this.pid);
    log.capture(spec.label, 'stdout', this.child.stdout);
    log.capture(spec.label, 'stderr', this.child.stderr);
    this.exited = new Promise<ProcessExit>((resolve) => {
      const finish = (exit: ProcessExit) => {
        if (this.exitInfo !== undefined) return;
        this.exitInfo = exit;
        if (this.pid > 0) {
          // The group may still hold children of the leader: they go with it.
          signalGroup(this.pid, 'SIGKILL');
          untrackGroup(this.pid);
        }
        resolve(exit);
        onExit(exit);
      };
      this.child.once('exit', (code, signal) => finish({ code, signal, at: performance.now() }));
      this.child.once('error', (error) => {
        // 'error' without a pid means the process never started; with a pid it is a signalling
        // problem that 'exit' will follow.
        if (this.child.pid === undefined) {
          finish({ code: null, signal: null, at: performance.now(), spawnError: error });
        }
      });
    });
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  get exit(): ProcessExit | undefined {
    return this.exitInfo;
  }

  /** Sends a signal to the process itself (not its group), as Lambda does with SIGTERM. */
  signal(signal: NodeJS.Signals): void {
    if (this.alive && this.pid > 0) signalPid(this.pid, signal);
  }

  /** Sends a signal to the whole process group. */
  signalGroup(signal: NodeJS.Signals): void {
    if (this.pid > 0 && (this.alive || signal === 'SIGKILL')) signalGroup(this.pid, signal);
  }

  /** Every live process of this process group (the leader and whatever it started). */
  members(): number[] {
    return this.pid > 0 ? groupMembers(this.pid) : [];
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is empty.
  }
}

export interface ProcStat {
  /** One letter: R running, S sleeping, D disk sleep, T stopped, t traced, Z zombie, ... */
  state: string;
  ppid: number;
  pgrp: number;
}

/** Reads `/proc/<pid>/stat` (Linux); undefined when the process does not exist. */
export function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the
  // last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '?', ppid: Number(fields[1]), pgrp: Number(fields[2]) };
}

/** The scheduler state letter of a process, or undefined when it does not exist. */
export function processState(pid: number): string | undefined {
  return procStat(pid)?.state;
}

/** Pids of the processes in process group `pgid`, zombies excluded. */
export function groupMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = procStat(pid);
    if (stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') pids.push(pid);
  }
  return pids;
}

/**
 * Waits until every process of the given groups is stopped (state T). SIGSTOP is asynchronous:
 * `kill()` returns before the target has stopped, so "frozen" is only true once /proc says so.
 * Returns false if some process did not stop within `limitMs` (a process in uninterruptible sleep).
 */
export async function waitStopped(groups: ManagedProcess[], limitMs = 5000): Promise<boolean> {
  const until = performance.now() + limitMs;
  for (;;) {
    const running = groups
      .filter((p) => p.alive)
      .flatMap((p) => p.members())
      .filter((pid) => {
        const state = processState(pid);
        return state !== undefined && state !== 'T' && state !== 't' && state !== 'Z';
      });
    if (running.length === 0) return true;
    if (performance.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
