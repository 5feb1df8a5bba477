import type { EventEmitter } from 'node:events';
import type { EvaluationDetail, JsonValue } from '@flagstaff/eval';
import type { LDFlagsState, LDFlagsStateOptions } from '../client/flagsState.js';
import type { FlushResult } from '../events/index.js';

/** A context, a multi-kind context or a legacy user object. */
export type LDContext = Record<string, unknown>;

export type LDEvaluationDetail = EvaluationDetail;
export type LDEvaluationDetailTyped<T> = EvaluationDetail<T>;

/** The client API of LaunchDarkly's Node server SDK, plus richer results for `flush` and `close`. */
export interface LDClient extends EventEmitter {
  initialized(): boolean;
  waitForInitialization(options?: { timeout?: number }): Promise<LDClient>;
  variation(
    key: string,
    context: LDContext,
    defaultValue: unknown,
    callback?: (err: Error | null, value: unknown) => void,
  ): Promise<unknown>;
  variationDetail(
    key: string,
    context: LDContext,
    defaultValue: unknown,
    callback?: (err: Error | null, detail: LDEvaluationDetail) => void,
  ): Promise<LDEvaluationDetail>;
  boolVariation(key: string, context: LDContext, defaultValue: boolean): Promise<boolean>;
  numberVariation(key: string, context: LDContext, defaultValue: number): Promise<number>;
  stringVariation(key: string, context: LDContext, defaultValue: string): Promise<string>;
  jsonVariation(key: string, context: LDContext, defaultValue: unknown): Promise<unknown>;
  boolVariationDetail(
    key: string,
    context: LDContext,
    defaultValue: boolean,
  ): Promise<LDEvaluationDetailTyped<boolean>>;
  numberVariationDetail(
    key: string,
    context: LDContext,
    defaultValue: number,
  ): Promise<LDEvaluationDetailTyped<number>>;
  stringVariationDetail(
    key: string,
    context: LDContext,
    defaultValue: string,
  ): Promise<LDEvaluationDetailTyped<string>>;
  jsonVariationDetail(
    key: string,
    context: LDContext,
    defaultValue: unknown,
  ): Promise<LDEvaluationDetailTyped<unknown>>;
  allFlagsState(
    context: LDContext,
    options?: LDFlagsStateOptions,
    callback?: (err: Error | null, state: LDFlagsState) => void,
  ): Promise<LDFlagsState>;
  secureModeHash(context: LDContext): string;
  track(key: string, context: LDContext, data?: unknown, metricValue?: number): void;
  identify(context: LDContext): void;
  /** Delivers buffered events; resolves once they are delivered or have definitely failed, and says which. */
  flush(callback?: (err: Error | null, result: FlushResult) => void): Promise<FlushResult>;
  /** Flushes, then stops the data source, timers and store. */
  close(): Promise<FlushResult>;
  isOffline(): boolean;
}

export type { JsonValue };
