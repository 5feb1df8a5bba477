// @flagstaff/eval: LaunchDarkly-compatible evaluation, pure and free of I/O.

export { AttributeReference } from './context/attributeReference.js';
export { Context, ContextError } from './context/context.js';
export type {
  ContextInput,
  ContextMember,
  ContextMeta,
  LegacyUser,
  MultiKindContext,
  SingleKindContext,
} from './context/types.js';
export {
  availableTo,
  type ClientAudience,
  type EvaluatedFlag,
  evaluateAll,
  evaluationData,
} from './evaluate/clientSide.js';
export { parseDate } from './evaluate/dates.js';
export { evaluateWithDefault, type VariationType } from './evaluate/evaluateWithDefault.js';
export { type EvaluateOptions, evaluate } from './evaluate/evaluator.js';
export { isExperiment } from './evaluate/experiment.js';
export { compareSemVer, parseSemVer, type SemVer } from './evaluate/semver.js';
export type {
  BigSegmentMembership,
  EvalResult,
  EvaluationData,
  PrerequisiteEvaluation,
} from './evaluate/types.js';
export {
  ContextRedactor,
  EventSummarizer,
  type FlagSummary,
  type RedactionOptions,
  redactContext,
  type SummarizableEvaluation,
  type SummaryCounter,
  type SummaryEvent,
} from './events/index.js';
export { type BucketHasher, sha1BucketHasher } from './hash/bucketHash.js';
export { sha1Hex, sha1Words } from './hash/sha1.js';
export type {
  Clause,
  ClientSideAvailability,
  Flag,
  FlagRule,
  Operator,
  Prerequisite,
  Rollout,
  RolloutKind,
  Target,
  VariationOrRollout,
  WeightedVariation,
} from './model/flag.js';
export { OPERATORS } from './model/flag.js';
export type { JsonObject, JsonValue } from './model/json.js';
export type {
  BigSegmentsStatus,
  ErrorKind,
  EvaluationDetail,
  Reason,
  ReasonKind,
} from './model/reason.js';
export type { Segment, SegmentRule, SegmentTarget } from './model/segment.js';
export {
  type ValidationError,
  type ValidationMode,
  type ValidationOptions,
  type ValidationResult,
  validateFlag,
  validateSegment,
} from './validate/index.js';
