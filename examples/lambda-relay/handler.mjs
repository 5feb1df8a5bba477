// A Lambda handler as LaunchDarkly's guides write it; only the import names Flagstaff.
import * as LaunchDarkly from '@flagstaff/node-server-sdk';

// Created once per execution environment, outside the handler, so warm invocations reuse it.
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
  const context = { kind: 'user', key: event.userKey ?? 'anonymous', country: event.country };
  const showBanner = await client.variation('show-banner', context, false);
  const detail = await client.variationDetail('checkout-flow', context, 'classic');
  client.track('page-view', context, { path: event.path });
  // Lambda freezes the environment after the response: deliver this invocation's events first.
  await client.flush();
  return {
    statusCode: 200,
    body: JSON.stringify({ showBanner, checkoutFlow: detail.value, reason: detail.reason }),
  };
};

export const close = () => client.close();
