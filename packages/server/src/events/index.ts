// Analytics event ingestion (SDK-facing) and the insights API built on its counters.
export { type Aggregate, aggregateEvents, type IngestStats, type SeenContext } from './aggregate.js';
export { type ContextRecord, ContextTracker, contextTrackerFor } from './contexts.js';
export { type EventIngestionOptions, eventIngestion } from './ingestion.js';
export { insightsApi } from './insights.js';
