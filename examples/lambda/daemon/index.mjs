// Daemon mode: flags are read from the DynamoDB table a relay (or the sync function) keeps current; the
// function never connects to the flag service for flags. Events still go to eventsUri, handed to the
// layer's extension after each invocation.
import { getClient, withFlags } from '@flagstaff/lambda';
import { DynamoDBFeatureStore } from '@flagstaff/store-dynamodb';

const store = DynamoDBFeatureStore(process.env.FLAGSTAFF_DYNAMODB_TABLE, {
  prefix: process.env.FLAGSTAFF_DYNAMODB_PREFIX,
  cacheTTL: 30,
  // Only for a local DynamoDB; in Lambda the region and credentials come from the environment.
  ...(process.env.FLAGSTAFF_DYNAMODB_ENDPOINT
    ? { clientOptions: { endpoint: process.env.FLAGSTAFF_DYNAMODB_ENDPOINT } }
    : {}),
});

export const handler = withFlags(
  async (event) => {
    const context = { kind: 'user', key: event.userKey ?? 'anonymous' };
    const showBanner = await getClient().boolVariation('show-banner', context, false);
    return { statusCode: 200, body: JSON.stringify({ showBanner }) };
  },
  {
    sdkKey: process.env.FLAGSTAFF_SDK_KEY,
    sdkOptions: {
      useLdd: true,
      featureStore: store,
      // Kept from the streaming set-up, and never used for flags in daemon mode.
      baseUri: process.env.FLAGSTAFF_BASE_URI,
      streamUri: process.env.FLAGSTAFF_BASE_URI,
      eventsUri: process.env.FLAGSTAFF_EVENTS_URI,
    },
  },
);
