// The Flagstaff Lambda extension: an external extension (its own process, started by Lambda from
// /opt/extensions/flagstaff before the runtime) that takes analytics events off the function's hands.
//
// Per invocation: the handler wrapper posts the SDK's payloads here over loopback and says "done";
// this process then delivers them to the events service while (or after) the function's response goes
// back, retrying transient failures, and only then asks Lambda for the next event, which is what lets
// Lambda freeze the environment. Payloads that could not be delivered stay in memory for the next
// invocation. On SHUTDOWN it delivers everything left within the shutdown deadline.
//
// Registering for SHUTDOWN has a second effect: Lambda sends the runtime SIGTERM only when an
// external extension is registered, so the `shutdown` flush policy works with this layer alone.

import { basename } from 'node:path';
import { ExtensionsApi } from './extensionsApi.js';
import { Handoffs } from './handoffs.js';
import { Outbox } from './outbox.js';
import {
  DEFAULT_PORT,
  EXTENSION_NAME,
  type ExtensionMarker,
  PORT_ENV,
  type RuntimeMarker,
  readMarker,
  stateDir,
  writeMarker,
} from './protocol.js';
import { startLoopbackServer } from './server.js';

const VERSION = '0.1.0';
/** Time given to delivery after each invocation (billed, but after the response). */
const DELIVERY_BUDGET_ENV = 'FLAGSTAFF_EXTENSION_DELIVERY_MS';
const DEFAULT_DELIVERY_BUDGET_MS = 2000;
/** `true`: one log line per invocation with the hand-off and delivery times. */
const DEBUG_ENV = 'FLAGSTAFF_EXTENSION_DEBUG';
/** Kept back from the SHUTDOWN deadline so the process exits before Lambda kills it. */
const SHUTDOWN_MARGIN_MS = 100;
/** How long SHUTDOWN waits for the runtime's last hand-off (its SIGTERM flush). */
const SHUTDOWN_HANDOFF_WAIT_MS = 300;

const log = {
  info: (message: string) => process.stdout.write(`[flagstaff-extension] ${message}\n`),
  warn: (message: string) => process.stdout.write(`[flagstaff-extension] WARN ${message}\n`),
};

export async function runExtension(): Promise<void> {
  const runtimeApi = process.env.AWS_LAMBDA_RUNTIME_API;
  if (!runtimeApi) {
    log.warn('AWS_LAMBDA_RUNTIME_API is not set: not running inside Lambda; exiting');
    process.exit(1);
  }
  const dir = stateDir();
  const outbox = new Outbox({ logger: log });
  const handoffs = new Handoffs();
  const port = Number(process.env[PORT_ENV] || DEFAULT_PORT);
  const api = new ExtensionsApi(runtimeApi);
  const { port: actualPort } = await startLoopbackServer({ port, outbox, handoffs });
  // The marker is written before registering: Lambda starts the runtime only after every extension
  // has registered, so the wrapper always finds it when the function module loads.
  writeMarker(dir, 'extension', {
    port: actualPort,
    pid: process.pid,
    version: VERSION,
  } satisfies ExtensionMarker);
  // Lambda requires the registered name to be the file name it started.
  const name = basename(process.argv[1] ?? EXTENSION_NAME);
  await api.register(name === 'main.js' ? EXTENSION_NAME : name, ['INVOKE', 'SHUTDOWN']);
  const budget = Number(process.env[DELIVERY_BUDGET_ENV]) || DEFAULT_DELIVERY_BUDGET_MS;
  const debug = process.env[DEBUG_ENV] === 'true';

  for (;;) {
    const event = await api.next();
    if (event.eventType === 'INVOKE') {
      const started = performance.now();
      // Without a wrapper announcing itself (a function using the layer's SDK directly), there is no
      // hand-off to wait for: waiting would bill every invocation up to its timeout.
      if (runtimeUsesHandoff(dir)) await handoffs.wait(event.requestId, event.deadlineMs);
      const handedOff = performance.now();
      if (outbox.size > 0) {
        const result = await outbox.drain(Date.now() + budget);
        if (result.remaining > 0) log.warn(`${result.remaining} payload(s) kept for a later attempt`);
      }
      if (debug) {
        const now = performance.now();
        log.info(
          `invocation ${event.requestId}: hand-off after ${(handedOff - started).toFixed(1)} ms, ` +
            `delivery ${(now - handedOff).toFixed(1)} ms`,
        );
      }
      continue;
    }
    const deadline = event.deadlineMs - SHUTDOWN_MARGIN_MS;
    // The runtime gets SIGTERM as this event is sent; a wrapper flushes on it, so its last payloads
    // may still be on their way over loopback.
    if (runtimeUsesHandoff(dir)) {
      await handoffs.wait('shutdown', Math.min(deadline, Date.now() + SHUTDOWN_HANDOFF_WAIT_MS));
    }
    const result = await outbox.drain(deadline);
    const stats = outbox.snapshot();
    log.info(
      `shutdown (${event.shutdownReason}): delivered ${stats.delivered} payload(s) in all, ` +
        `${result.remaining} undelivered, ${stats.rejected} refused, ${stats.dropped} dropped`,
    );
    process.exit(0);
  }
}

function runtimeUsesHandoff(dir: string): boolean {
  const marker = readMarker<RuntimeMarker>(dir, 'runtime');
  if (marker === undefined) return false;
  try {
    // Signal 0 only checks that the process exists (a marker left by a runtime that crashed says nothing).
    process.kill(marker.pid, 0);
    return true;
  } catch {
    return false;
  }
}
