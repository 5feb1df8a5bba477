import type { JsonValue, Reason } from '@flagstaff/eval';

export interface LDFlagsStateOptions {
  /** Only flags available to client-side SDKs (`clientSideAvailability.usingEnvironmentId`). */
  clientSideOnly?: boolean;
  /** Include each flag's reason. */
  withReasons?: boolean;
  /** Leave version and reason out for flags that are not tracked (smaller bootstrap payloads). */
  detailsOnlyForTrackedFlags?: boolean;
}

/** Per-flag metadata in `$flagsState` (spec §5.2). */
export interface FlagStateMetadata {
  variation?: number;
  version?: number;
  reason?: Reason;
  trackEvents?: boolean;
  trackReason?: boolean;
  debugEventsUntilDate?: number;
  prerequisites?: string[];
}

/** A snapshot of every flag's value for one context, as used to bootstrap client-side SDKs. */
export interface LDFlagsState {
  valid: boolean;
  getFlagValue(key: string): JsonValue | undefined;
  getFlagReason(key: string): Reason | null;
  allValues(): Record<string, JsonValue>;
  toJSON(): Record<string, unknown>;
}

export class FlagsState implements LDFlagsState {
  private readonly values: Record<string, JsonValue> = {};
  private readonly metadata: Record<string, FlagStateMetadata> = {};

  constructor(readonly valid: boolean) {}

  add(key: string, value: JsonValue, metadata: FlagStateMetadata): void {
    this.values[key] = value;
    this.metadata[key] = metadata;
  }

  getFlagValue(key: string): JsonValue | undefined {
    return this.values[key];
  }

  getFlagReason(key: string): Reason | null {
    return this.metadata[key]?.reason ?? null;
  }

  allValues(): Record<string, JsonValue> {
    return { ...this.values };
  }

  toJSON(): Record<string, unknown> {
    return { ...this.values, $flagsState: this.metadata, $valid: this.valid };
  }
}
