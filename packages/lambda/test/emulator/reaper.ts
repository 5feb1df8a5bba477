// Last-resort cleanup of the environment's process groups. The emulator kills its processes itself on
// shutdown and dispose; this covers the cases where it never gets to: a test process that exits without
// cleaning up (an 'exit' hook, synchronous kills) and one that is killed outright (a small detached
// watchdog that holds a pipe to this process and kills every group still listed when the pipe closes).
// Frozen (SIGSTOPped) processes would otherwise live forever.

import { type ChildProcess, spawn } from 'node:child_process';
import type { Socket } from 'node:net';

const groups = new Set<number>();
let hooked = false;
let watchdog: ChildProcess | undefined;

// Runs in the watchdog: reads "+pgid" / "-pgid" lines; at end of input SIGKILLs what is left.
const WATCHDOG_SOURCE = `
const groups = new Set();
let pending = '';
const finish = () => {
  for (const g of groups) { try { process.kill(-g, 'SIGKILL'); } catch {} }
  process.exit(0);
};
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let i;
  while ((i = pending.indexOf('\\n')) >= 0) {
    const line = pending.slice(0, i);
    pending = pending.slice(i + 1);
    const pgid = Number(line.slice(1));
    if (line[0] === '+') groups.add(pgid); else groups.delete(pgid);
  }
});
process.stdin.on('end', finish);
process.stdin.on('error', finish);
`;

export function trackGroup(pgid: number): void {
  hook();
  groups.add(pgid);
  tell(`+${pgid}`);
}

export function untrackGroup(pgid: number): void {
  groups.delete(pgid);
  tell(`-${pgid}`);
}

function tell(line: string): void {
  if (watchdog?.stdin?.writable) watchdog.stdin.write(`${line}\n`);
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const pgid of groups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  try {
    watchdog = spawn(process.execPath, ['-e', WATCHDOG_SOURCE], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    watchdog.on('error', () => {
      watchdog = undefined;
    });
    watchdog.stdin?.on('error', () => {});
    // Neither the watchdog nor its pipe may keep this process alive.
    watchdog.unref();
    (watchdog.stdin as Socket | null)?.unref();
  } catch {
    watchdog = undefined;
  }
}
