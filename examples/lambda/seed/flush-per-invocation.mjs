// The seed's handler pattern (LaunchDarkly's Lambda guide): client outside the handler, flush before
// returning. Moved to Flagstaff by changing the import line only.
import * as LaunchDarkly from '@flagstaff/node-server-sdk';

const client = LaunchDarkly.init(process.env.LAUNCHDARKLY_SDK_KEY, {
  baseUri: process.env.LAUNCHDARKLY_BASE_URI,
  streamUri: process.env.LAUNCHDARKLY_STREAM_URI,
  eventsUri: process.env.LAUNCHDARKLY_EVENTS_URI,
});

export const handler = async (event) => {
  try {
    await client.waitForInitialization({ timeout: 10 });
  } catch (err) {
    console.error('flags not loaded, serving defaults:', err.message);
  }
  const context = { kind: 'user', key: event.userKey ?? 'anonymous' };
  const showBanner = await client.variation('show-banner', context, false);
  client.track('page-view', context);
  await client.flush();
  return { statusCode: 200, body: JSON.stringify({ showBanner }) };
};
