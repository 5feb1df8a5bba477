// @flagstaff/openfeature: an OpenFeature server provider over the Flagstaff server SDK.
export { type TranslatedContext, translateContext } from './context.js';
export {
  type FlagstaffClientProviderOptions,
  FlagstaffProvider,
  type FlagstaffProviderOptions,
} from './provider.js';
export { ERROR_CODES, errorCodeFor, REASONS, toResolution } from './reasons.js';
export { PROVIDER_VERSION } from './version.js';
