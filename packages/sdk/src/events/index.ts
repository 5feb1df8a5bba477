export type { DiagnosticInitEvent, DiagnosticStatsEvent } from './diagnostics.js';
export { createEventProcessor } from './eventProcessor.js';
export type {
  ContextEventOutput,
  CustomEventOutput,
  EvaluationEvent,
  EventProcessor,
  EventProcessorOptions,
  FeatureEventOutput,
  FlushResult,
  StreamInitInfo,
} from './types.js';
