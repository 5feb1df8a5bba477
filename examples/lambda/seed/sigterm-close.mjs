// The seed's "flush at shutdown" workaround: no flush per invocation, close the client on SIGTERM.
// Moved to Flagstaff by changing the import line only. With the official SDKs this delivers nothing
// (their close() clears timers without flushing); Flagstaff's close() flushes, and the Flagstaff
// layer's extension is what makes Lambda send SIGTERM at all.
import * as LaunchDarkly from '@flagstaff/node-server-sdk';

const client = LaunchDarkly.init(process.env.LAUNCHDARKLY_SDK_KEY, {
  baseUri: process.env.LAUNCHDARKLY_BASE_URI,
  streamUri: process.env.LAUNCHDARKLY_STREAM_URI,
  eventsUri: process.env.LAUNCHDARKLY_EVENTS_URI,
});

process.on('SIGTERM', async () => {
  await client.close();
  process.exit(0);
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
  return { statusCode: 200, body: JSON.stringify({ showBanner }) };
};
