// Local AWS Lambda emulation for tests: the Runtime and Extensions APIs, the real `aws-lambda-ric`
// runtime client, external extensions as processes, freezing, and the shutdown budget. See README.md.

export { LambdaDisposedError, LambdaInitError } from './errors.js';
export {
  disposeAllLambdas,
  /** The name some tests use for a started function. */
  LambdaFunction as EmulatedFunction,
  LambdaFunction,
  startLambda,
} from './lambda.js';
export { groupMembers, processState } from './processes.js';
export { planShutdown, type ShutdownPlan } from './shutdown-policy.js';
export type {
  ExtensionShutdown,
  FunctionError,
  Invocation,
  InvokeAnswer,
  InvokeOptions,
  InvokeResult,
  LambdaOptions,
  LambdaPids,
  RegisteredExtension,
  ShutdownReason,
  ShutdownTimeline,
} from './types.js';
