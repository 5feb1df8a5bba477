/** Sent as the client's wrapper version; kept in step with package.json by a test. */
export const PROVIDER_NAME = 'flagstaff';
export const WRAPPER_NAME = 'flagstaff-openfeature';
export const PROVIDER_VERSION = '0.1.0';
