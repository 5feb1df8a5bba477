export { ContextRedactor, type RedactionOptions, redactContext } from './redact.js';
export {
  EventSummarizer,
  type FlagSummary,
  type SummarizableEvaluation,
  type SummaryCounter,
  type SummaryEvent,
} from './summarizer.js';
