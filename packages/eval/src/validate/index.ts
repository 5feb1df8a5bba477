export { validateFlag } from './flag.js';
export type { ValidationError, ValidationMode, ValidationOptions, ValidationResult } from './result.js';
export { validateSegment } from './segment.js';
