import type { ServerResponse } from 'node:http';
import {
  type EnvironmentData,
  loadEnvironmentData,
  loadFlag,
  loadSegment,
  resolveCredential,
} from '../domain/environmentData.js';
import { environmentId } from '../domain/ids.js';
import type { Environment } from '../domain/types.js';
import type { ChangeNotice, Storage } from '../storage/types.js';
import { credentialExpiry, type SdkAuth } from './auth.js';
import { SseConnection } from './connection.js';
import {
  allPutFrame,
  flagsPutFrame,
  HEARTBEAT_FRAME,
  itemFrame,
  PING_FRAME,
  type StreamKind,
} from './sse.js';

export interface StreamHubOptions {
  /** Time between heartbeat comments on every stream; LaunchDarkly's Relay sends one every 3 minutes. */
  heartbeatIntervalMs?: number;
  /** A client whose unsent output grows beyond this is dropped (it reconnects and gets a fresh put). */
  maxBufferedBytes?: number;
  /** Clock for credential expiry (the server context's). */
  now?: () => number;
  logger?: { error(details: object, message: string): void };
}

/** An environment's full data set and its `put` frames, shared by streams connecting close together. */
interface Snapshot {
  data: EnvironmentData;
  /** performance.now() when the load started. */
  loadedAt: number;
  all?: Buffer;
  flags?: Buffer;
}

/** The streams of one environment, and the queue that keeps their updates in order. */
interface Channel {
  readonly projectKey: string;
  readonly envKey: string;
  readonly all: Set<SseConnection>;
  readonly flags: Set<SseConnection>;
  readonly ping: Set<SseConnection>;
  /** Server-side streams waiting for their first `put`. */
  readonly joining: Set<SseConnection>;
  /** Ids of tasks queued and not yet started: a second notice for the same item joins the first. */
  readonly queued: Set<string>;
  tail: Promise<void>;
  /** Grows with every notice for the environment: a load that spans one must not be reused. */
  generation: number;
  snapshot: Snapshot | undefined;
  expiryTimer: NodeJS.Timeout | undefined;
  expiryAt: number | undefined;
}

const DEFAULT_HEARTBEAT_MS = 180_000;
const DEFAULT_MAX_BUFFERED = 8 * 1024 * 1024;
// Notices invalidate a snapshot at once; the age limit only bounds the damage of a lost notice.
const SNAPSHOT_TTL_MS = 5_000;
// setTimeout's largest delay; a grace period ending later is simply re-armed when the timer fires.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Fans committed changes out to every open SSE stream. It subscribes once to the storage's change
 * notices (which cover writes on every replica) and, per environment, turns each notice into ONE
 * load of the changed item and ONE pre-serialised frame written to every client of that environment,
 * so the cost of a change grows with the number of environments, not of clients.
 *
 * Each environment has a task queue: a new stream's initial `put` and every change are handled one
 * after the other, and each task reads the store when it runs (not when the notice arrived). A stream
 * therefore gets its `put` before any `patch`, and never an item older than one it already has.
 */
export class StreamHub {
  private readonly channels = new Map<string, Channel>();
  private readonly unsubscribe: () => void;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly maxBufferedBytes: number;
  private readonly now: () => number;
  private readonly logger: NonNullable<StreamHubOptions['logger']>;
  private closed = false;

  constructor(
    private readonly storage: Storage,
    options: StreamHubOptions = {},
  ) {
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED;
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? { error: (details, message) => console.error(message, details) };
    this.unsubscribe = storage.subscribe((notice) => this.onChange(notice));
    // One timer for all streams rather than one per stream: a thousand timers cost more than a loop.
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Open streams over all environments (including those still waiting for their first put). */
  get connectionCount(): number {
    let count = 0;
    for (const c of this.channels.values()) count += c.all.size + c.flags.size + c.ping.size + c.joining.size;
    return count;
  }

  /**
   * Takes over an SSE response whose headers are written. Server-side streams get their `put` from
   * the environment's queue; ping streams get one `ping` at once, as Relay sends on connect.
   */
  open(res: ServerResponse, kind: StreamKind, auth: SdkAuth): SseConnection {
    const channel = this.channelFor(auth.env);
    const connection = new SseConnection(
      res,
      kind,
      auth.credential,
      auth.expiresAt,
      this.maxBufferedBytes,
      (c) => this.remove(channel, c),
    );
    if (this.closed || connection.isClosed) {
      connection.end();
      this.remove(channel, connection); // drops the channel if it was made for this connection alone
      return connection;
    }
    if (kind === 'ping') {
      channel.ping.add(connection);
      connection.write(PING_FRAME);
    } else {
      channel.joining.add(connection);
      this.enqueue(channel, 'join', () => this.join(channel));
    }
    if (auth.expiresAt !== undefined) this.armExpiry(channel, auth.expiresAt);
    return connection;
  }

  /**
   * Brings every stream up to date without knowing what changed: a full put to server-side streams,
   * a ping to the others, and a check of their keys. For when change notices may have been lost
   * (the storage's `onListenerRestored`).
   */
  resyncAll(): void {
    if (this.closed) return;
    for (const channel of this.channels.values()) {
      channel.generation++;
      channel.snapshot = undefined;
      this.enqueue(channel, 'resync', async () => {
        await this.resync(channel);
        broadcast(channel.ping, PING_FRAME);
      });
      this.enqueue(channel, 'credentials', () => this.revalidate(channel));
    }
  }

  /** Ends every stream and stops listening; used when the server shuts down. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    clearInterval(this.heartbeat);
    for (const channel of [...this.channels.values()]) {
      clearTimeout(channel.expiryTimer);
      for (const connection of connectionsOf(channel)) connection.end();
    }
    this.channels.clear();
  }

  private channelFor(env: Environment): Channel {
    const id = environmentId(env.projectKey, env.key);
    let channel = this.channels.get(id);
    if (!channel) {
      channel = {
        projectKey: env.projectKey,
        envKey: env.key,
        all: new Set(),
        flags: new Set(),
        ping: new Set(),
        joining: new Set(),
        queued: new Set(),
        tail: Promise.resolve(),
        generation: 0,
        snapshot: undefined,
        expiryTimer: undefined,
        expiryAt: undefined,
      };
      this.channels.set(id, channel);
    }
    return channel;
  }

  private remove(channel: Channel, connection: SseConnection): void {
    channel[connection.kind].delete(connection);
    channel.joining.delete(connection);
    if (channel.all.size + channel.flags.size + channel.ping.size + channel.joining.size > 0) return;
    // Queued tasks may still run; they find no one to write to. A new stream gets a new channel.
    clearTimeout(channel.expiryTimer);
    const id = environmentId(channel.projectKey, channel.envKey);
    if (this.channels.get(id) === channel) this.channels.delete(id);
  }

  private onChange(notice: ChangeNotice): void {
    if (this.closed) return;
    for (const channel of this.affected(notice)) {
      channel.generation++;
      channel.snapshot = undefined;
      const key = notice.key;
      switch (notice.kind) {
        case 'flag':
          this.enqueue(channel, `flag:${key}`, () => this.sendFlag(channel, key));
          break;
        case 'segment':
          this.enqueue(channel, `segment:${key}`, () => this.sendSegment(channel, key));
          break;
        default:
          // Environment or project changes: keys rotated or revoked, environment archived.
          this.enqueue(channel, 'credentials', () => this.revalidate(channel));
      }
    }
  }

  /** The channels a notice concerns: its environment, or every environment of the project. */
  private affected(notice: ChangeNotice): Channel[] {
    if (notice.envKey !== undefined) {
      const channel = this.channels.get(environmentId(notice.projectKey, notice.envKey));
      return channel ? [channel] : [];
    }
    return [...this.channels.values()].filter((c) => c.projectKey === notice.projectKey);
  }

  private enqueue(channel: Channel, id: string, task: () => Promise<void>): void {
    // Tasks read the store when they run, so one queued run covers any number of notices for an item.
    if (channel.queued.has(id)) return;
    channel.queued.add(id);
    channel.tail = channel.tail.then(async () => {
      channel.queued.delete(id);
      if (this.closed) return;
      try {
        await task();
      } catch (err) {
        // The streams may now have missed a change; dropping them makes the SDKs reconnect and
        // receive a complete put, which is better than silently serving stale flags.
        this.logger.error(
          { err, projectKey: channel.projectKey, envKey: channel.envKey, task: id },
          'SDK stream update failed; disconnecting the environment’s streams',
        );
        for (const connection of connectionsOf(channel)) connection.destroy();
      }
    });
  }

  private async join(channel: Channel): Promise<void> {
    const batch = [...channel.joining];
    if (batch.length === 0) return;
    // Streams connecting together (a fleet restarting) share one load and one serialisation.
    const snapshot = await this.snapshot(channel);
    for (const connection of batch) {
      channel.joining.delete(connection);
      if (connection.isClosed) continue;
      const kind = connection.kind === 'all' ? 'all' : 'flags';
      connection.write(putFrame(snapshot, kind));
      channel[kind].add(connection);
    }
  }

  /**
   * The environment's data as of now: reused while no notice has arrived since it was loaded (every
   * notice for the environment clears it), loaded otherwise.
   */
  private async snapshot(channel: Channel): Promise<Snapshot> {
    const cached = channel.snapshot;
    if (cached && performance.now() - cached.loadedAt < SNAPSHOT_TTL_MS) return cached;
    const generation = channel.generation;
    const loadedAt = performance.now();
    const data = await loadEnvironmentData(this.storage, channel.projectKey, channel.envKey);
    const snapshot: Snapshot = { data, loadedAt };
    if (channel.generation === generation) channel.snapshot = snapshot;
    return snapshot;
  }

  private async sendFlag(channel: Channel, key: string): Promise<void> {
    if (channel.all.size + channel.flags.size > 0) {
      const flag = await loadFlag(this.storage, channel.projectKey, channel.envKey, key);
      if (!flag) {
        // Gone without a tombstone (no version to delete with): only a full put can say so.
        await this.resync(channel);
      } else {
        const json = JSON.stringify(flag);
        if (channel.all.size > 0) broadcast(channel.all, itemFrame(`/flags/${key}`, flag, json));
        if (channel.flags.size > 0) broadcast(channel.flags, itemFrame(`/${key}`, flag, json));
      }
    }
    broadcast(channel.ping, PING_FRAME);
  }

  private async sendSegment(channel: Channel, key: string): Promise<void> {
    if (channel.all.size > 0) {
      const segment = await loadSegment(this.storage, channel.projectKey, channel.envKey, key);
      if (!segment) await this.resync(channel);
      else broadcast(channel.all, itemFrame(`/segments/${key}`, segment, JSON.stringify(segment)));
    }
    broadcast(channel.ping, PING_FRAME);
  }

  private async resync(channel: Channel): Promise<void> {
    const snapshot = await this.snapshot(channel);
    if (channel.all.size > 0) broadcast(channel.all, putFrame(snapshot, 'all'));
    if (channel.flags.size > 0) broadcast(channel.flags, putFrame(snapshot, 'flags'));
  }

  /** Ends the streams whose key no longer opens this environment; re-arms the expiry timer. */
  private async revalidate(channel: Channel): Promise<void> {
    const byCredential = new Map<string, SseConnection[]>();
    for (const connection of connectionsOf(channel)) {
      const id = `${connection.credential.kind}:${connection.credential.key}`;
      const group = byCredential.get(id);
      if (group) group.push(connection);
      else byCredential.set(id, [connection]);
    }
    const now = this.now();
    for (const group of byCredential.values()) {
      const credential = group[0]!.credential;
      const env = await resolveCredential(this.storage, credential.key, credential.kind, now);
      const valid = env !== undefined && env.projectKey === channel.projectKey && env.key === channel.envKey;
      const expiresAt = valid ? credentialExpiry(env, credential) : undefined;
      for (const connection of group) {
        if (valid) connection.expiresAt = expiresAt;
        else connection.end();
      }
    }
    clearTimeout(channel.expiryTimer);
    channel.expiryTimer = undefined;
    channel.expiryAt = undefined;
    for (const connection of connectionsOf(channel)) {
      if (connection.expiresAt !== undefined) this.armExpiry(channel, connection.expiresAt);
    }
  }

  /** Makes sure the channel re-checks its keys when the earliest grace period ends. */
  private armExpiry(channel: Channel, at: number): void {
    if (channel.expiryAt !== undefined && channel.expiryAt <= at) return;
    clearTimeout(channel.expiryTimer);
    channel.expiryAt = at;
    const delay = Math.min(Math.max(at - this.now(), 0), MAX_TIMER_MS);
    channel.expiryTimer = setTimeout(() => {
      channel.expiryTimer = undefined;
      channel.expiryAt = undefined;
      this.enqueue(channel, 'credentials', () => this.revalidate(channel));
    }, delay);
    channel.expiryTimer.unref();
  }

  private beat(): void {
    for (const channel of this.channels.values()) {
      broadcast(channel.all, HEARTBEAT_FRAME);
      broadcast(channel.flags, HEARTBEAT_FRAME);
      broadcast(channel.ping, HEARTBEAT_FRAME);
    }
  }
}

/** A snapshot's `put` frame for one stream kind, serialised on first use. */
function putFrame(snapshot: Snapshot, kind: 'all' | 'flags'): Buffer {
  if (kind === 'all') {
    snapshot.all ??= allPutFrame(snapshot.data);
    return snapshot.all;
  }
  snapshot.flags ??= flagsPutFrame(snapshot.data);
  return snapshot.flags;
}

function broadcast(connections: Set<SseConnection>, frame: Buffer): void {
  for (const connection of connections) connection.write(frame);
}

function connectionsOf(channel: Channel): SseConnection[] {
  return [...channel.all, ...channel.flags, ...channel.ping, ...channel.joining];
}
