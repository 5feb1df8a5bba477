import type { Config } from '../options/config.js';
import { SDK_NAME, SDK_VERSION } from '../version.js';

const TAG_VALUE = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Headers every request to the flag service or relay carries (spec §4.2): the raw SDK key, the user
 * agent, the wrapper, and application tags.
 */
export function defaultHeaders(config: Config): Record<string, string> {
  const headers: Record<string, string> = {
    authorization: config.sdkKey,
    'user-agent': `${SDK_NAME}/${SDK_VERSION}`,
  };
  if (config.wrapperName) {
    headers['x-launchdarkly-wrapper'] = config.wrapperVersion
      ? `${config.wrapperName}/${config.wrapperVersion}`
      : config.wrapperName;
  }
  const tags = applicationTags(config);
  if (tags) headers['x-launchdarkly-tags'] = tags;
  return headers;
}

/** `application-id/x application-version/y`, keys sorted; invalid values are left out with a warning. */
export function applicationTags(config: Config): string | undefined {
  const app = config.application;
  if (!app) return undefined;
  const pairs: [string, unknown][] = [
    ['application-id', app.id],
    ['application-name', app.name],
    ['application-version', app.version],
    ['application-version-name', app.versionName],
  ];
  const parts: string[] = [];
  for (const [tag, value] of pairs) {
    if (value === undefined) continue;
    if (typeof value !== 'string' || !TAG_VALUE.test(value)) {
      config.logger.warn(`Config option "application" has an invalid ${tag}; it is left out of requests`);
      continue;
    }
    parts.push(`${tag}/${value}`);
  }
  return parts.length > 0 ? parts.sort().join(' ') : undefined;
}
