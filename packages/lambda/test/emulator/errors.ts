import type { FunctionError, ShutdownTimeline } from './types.js';

/** The Init phase failed: `startLambda` (or the re-initialisation before an invoke) rejects with this. */
export class LambdaInitError extends Error {
  readonly errorType: string;
  readonly errorMessage: string;
  constructor(
    error: FunctionError,
    /** The Shutdown phase (reason `failure`) that followed. */
    readonly shutdown: ShutdownTimeline,
    /** The environment's log up to the failure. */
    readonly logs: string,
  ) {
    super(`Lambda init failed: ${error.errorType}: ${error.errorMessage}`);
    this.name = 'LambdaInitError';
    this.errorType = error.errorType;
    this.errorMessage = error.errorMessage;
  }
}

/** The emulator was disposed while a call was waiting on the environment. */
export class LambdaDisposedError extends Error {
  constructor() {
    super('the emulated Lambda environment was disposed');
    this.name = 'LambdaDisposedError';
  }
}
