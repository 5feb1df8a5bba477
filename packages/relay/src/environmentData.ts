import type { Flag, Segment } from '@flagstaff/eval';
import type {
  EnvironmentRegistry,
  RelayChange,
  RelayEnvironment,
  RelayEnvironmentConfig,
  RelayEnvironmentStatus,
} from './environment.js';

type Item = Flag | Segment;
type Namespace = 'flags' | 'segments';

/**
 * The relay's in-memory copy of one environment: full replace on put, version-checked upserts on
 * patch and delete (spec §4.5), listeners told of every applied change in order. Maps are replaced
 * rather than mutated so a reader holding one never sees a half-applied put.
 */
export class EnvironmentData implements RelayEnvironment {
  private data: Record<Namespace, Record<string, Item>> = { flags: {}, segments: {} };
  // Versions of deleted items, so an old patch arriving after a delete cannot resurrect them.
  private tombstones: Record<Namespace, Map<string, number>> = { flags: new Map(), segments: new Map() };
  private readonly listeners = new Set<(change: RelayChange) => void>();
  private readonly state: RelayEnvironmentStatus = { connected: false, initialized: false, dataVersion: 0 };

  constructor(readonly config: RelayEnvironmentConfig) {}

  flags(): Readonly<Record<string, Flag>> {
    return this.data.flags as Record<string, Flag>;
  }

  segments(): Readonly<Record<string, Segment>> {
    return this.data.segments as Record<string, Segment>;
  }

  status(): RelayEnvironmentStatus {
    return { ...this.state };
  }

  onChange(listener: (change: RelayChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Replaces everything (an upstream put, or what the persistent store held at start). */
  applyPut(flags: Record<string, Flag>, segments: Record<string, Segment>, now = Date.now()): void {
    const live = <T extends Item>(items: Record<string, T>) => {
      const out: Record<string, T> = {};
      for (const [key, item] of Object.entries(items))
        if (!(item as { deleted?: boolean }).deleted) out[key] = item;
      return out;
    };
    this.data = { flags: live(flags), segments: live(segments) };
    this.tombstones = { flags: new Map(), segments: new Map() };
    this.changed({ kind: 'put' }, now);
  }

  /** Applies an upsert if it is newer than what is held; returns whether it was applied. */
  applyPatch(namespace: Namespace, item: Item, now = Date.now()): boolean {
    if (!this.isNewer(namespace, item.key, item.version)) return false;
    if ((item as { deleted?: boolean }).deleted)
      return this.applyDelete(namespace, item.key, item.version, now);
    this.tombstones[namespace].delete(item.key);
    this.data = { ...this.data, [namespace]: { ...this.data[namespace], [item.key]: item } };
    this.changed({ kind: 'patch', namespace, item }, now);
    return true;
  }

  applyDelete(namespace: Namespace, key: string, version: number, now = Date.now()): boolean {
    if (!this.isNewer(namespace, key, version)) return false;
    const { [key]: _removed, ...rest } = this.data[namespace];
    this.data = { ...this.data, [namespace]: rest };
    this.tombstones[namespace].set(key, version);
    this.changed({ kind: 'delete', namespace, key, version }, now);
    return true;
  }

  /** The upstream connection's state, shown in /status. */
  setConnected(connected: boolean, error?: string): void {
    this.state.connected = connected;
    if (error === undefined) delete this.state.lastError;
    else this.state.lastError = error;
  }

  private isNewer(namespace: Namespace, key: string, version: number): boolean {
    const current = this.data[namespace][key]?.version ?? this.tombstones[namespace].get(key);
    return current === undefined || current < version;
  }

  private changed(change: RelayChange, now: number): void {
    this.state.initialized = true;
    this.state.lastUpdate = now;
    this.state.dataVersion++;
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // A failing listener (a broken client stream) must not stop the others.
      }
    }
  }
}

/** Environments indexed by every credential they accept. */
export class Registry implements EnvironmentRegistry {
  private readonly sdk = new Map<string, RelayEnvironment>();
  private readonly mobile = new Map<string, RelayEnvironment>();
  private readonly clientSide = new Map<string, RelayEnvironment>();

  constructor(private readonly environments: readonly RelayEnvironment[]) {
    for (const env of environments) {
      this.sdk.set(env.config.sdkKey, env);
      if (env.config.mobileKey) this.mobile.set(env.config.mobileKey, env);
      if (env.config.clientSideId) this.clientSide.set(env.config.clientSideId, env);
    }
  }

  all(): readonly RelayEnvironment[] {
    return this.environments;
  }

  bySdkKey(key: string): RelayEnvironment | undefined {
    return this.sdk.get(key);
  }

  byMobileKey(key: string): RelayEnvironment | undefined {
    return this.mobile.get(key);
  }

  byClientSideId(id: string): RelayEnvironment | undefined {
    return this.clientSide.get(id);
  }
}
