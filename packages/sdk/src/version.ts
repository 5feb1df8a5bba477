/** Reported in User-Agent and diagnostics; kept in step with package.json by a test. */
export const SDK_NAME = 'FlagstaffNodeSDK';
export const SDK_VERSION = '0.1.0';
