// How long the Shutdown phase may last and how it is split, from the registered extensions alone.
// Pure: no processes, no clocks.
//
// AWS, "Understanding the Lambda execution environment lifecycle", Shutdown phase
// (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-shutdown):
//   "0 ms – A function with no registered extensions
//    500 ms – A function with a registered internal extension
//    2,000 ms – A function with one or more registered external extensions"
//   "For a function with external extensions, Lambda reserves up to 300 ms (500 ms for a runtime with an
//    internal extension) for the runtime process to perform a graceful shutdown. Lambda allocates the
//    remainder of the 2,000 ms limit for external extensions to shut down."
//   "If the runtime or an extension does not respond to the Shutdown event within the limit, Lambda ends
//    the process using a SIGKILL signal."
// The SIGTERM itself: aws-samples/graceful-shutdown-with-aws-lambda (README): "When Lambda service is
// about to shut down the runtime, it sends a SIGTERM signal to the runtime and then a SHUTDOWN event to
// each registered external extension."; the Extensions API page, Failure handling
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html): "First, Lambda shuts down
// the runtime, then it sends a Shutdown event to each registered external extension."
//
// AWS's Runtime Interface Emulator (aws/aws-lambda-runtime-interface-emulator, lambda/rapid) does the
// same steps but gives the runtime 30% of the budget (600 ms of 2,000); we follow the documented 300 /
// 500 ms. With only internal extensions there is no external process to hand a remainder to, so the
// runtime has the whole 500 ms.

export const SHUTDOWN_BUDGET_INTERNAL_MS = 500;
export const SHUTDOWN_BUDGET_EXTERNAL_MS = 2000;
export const RUNTIME_SHARE_MS = 300;
export const RUNTIME_SHARE_WITH_INTERNAL_MS = 500;

export interface ShutdownPlan {
  /** The whole phase: 0, 500 or 2,000 ms. */
  budgetMs: number;
  /** Whether the runtime gets SIGTERM first; without extensions it is SIGKILLed at once. */
  sigterm: boolean;
  /** Time between the runtime's SIGTERM and its SIGKILL (if it is still alive then). */
  runtimeShareMs: number;
  /** Whether external extensions take part (SHUTDOWN events, the remainder of the budget). */
  shutdownEvents: boolean;
}

export function planShutdown(registered: { internal: number; external: number }): ShutdownPlan {
  if (registered.external > 0) {
    return {
      budgetMs: SHUTDOWN_BUDGET_EXTERNAL_MS,
      sigterm: true,
      runtimeShareMs: registered.internal > 0 ? RUNTIME_SHARE_WITH_INTERNAL_MS : RUNTIME_SHARE_MS,
      shutdownEvents: true,
    };
  }
  if (registered.internal > 0) {
    return {
      budgetMs: SHUTDOWN_BUDGET_INTERNAL_MS,
      sigterm: true,
      runtimeShareMs: SHUTDOWN_BUDGET_INTERNAL_MS,
      shutdownEvents: false,
    };
  }
  return { budgetMs: 0, sigterm: false, runtimeShareMs: 0, shutdownEvents: false };
}
