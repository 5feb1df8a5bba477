// A function that takes Flagstaff from the layer: `@flagstaff/lambda` and the SDK come from
// /opt/nodejs/node_modules, and the layer's extension delivers the events after each response.
import { getClient, getDataAge, withFlags } from '@flagstaff/lambda';

export const handler = withFlags(
  async (event) => {
    const context = { kind: 'user', key: event.userKey ?? 'anonymous' };
    const showBanner = await getClient().boolVariation('show-banner', context, false);
    getClient().track('page-view', context);
    return { statusCode: 200, body: JSON.stringify({ showBanner, flagDataAgeMs: getDataAge() }) };
  },
  {
    // FLAGSTAFF_SDK_KEY is read from the environment. With the key in the environment the client is
    // created at import, during Lambda's init phase, so its download overlaps the cold start.
    sdkKey: process.env.FLAGSTAFF_SDK_KEY,
    sdkOptions: {
      baseUri: process.env.FLAGSTAFF_BASE_URI,
      streamUri: process.env.FLAGSTAFF_STREAM_URI ?? process.env.FLAGSTAFF_BASE_URI,
      eventsUri: process.env.FLAGSTAFF_EVENTS_URI ?? process.env.FLAGSTAFF_BASE_URI,
    },
    // flush is left to its default: 'extension' when the layer's extension runs, else 'invocation'.
  },
);
