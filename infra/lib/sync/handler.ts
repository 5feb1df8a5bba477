// Entry of the sync function that FlagstaffSyncFunction bundles: `createSyncHandler` of
// @flagstaff/lambda, with its SDK key and webhook secret read from Secrets Manager. They are fetched
// during the function's init phase (cold start) and kept for the life of the execution environment, so
// neither ever sits in the function's configuration, where anyone allowed to read it would see them.
import {
  createSyncHandler,
  type SyncEvent,
  type SyncHandler,
  type SyncResponse,
} from '@flagstaff/lambda/sync';
import { SYNC_ENV } from './environment.js';
import { readSecret } from './secrets.js';

async function start(env: NodeJS.ProcessEnv): Promise<SyncHandler> {
  const sdkKeySecret = env[SYNC_ENV.sdkKeySecret];
  const webhookSecretArn = env[SYNC_ENV.webhookSecret];
  if (!sdkKeySecret) throw new Error(`${SYNC_ENV.sdkKeySecret} is not set`);
  const [sdkKey, webhookSecret] = await Promise.all([
    readSecret(sdkKeySecret, env[SYNC_ENV.sdkKeyField] || undefined),
    // Without a webhook secret the handler refuses every HTTP call and only the schedule syncs.
    webhookSecretArn ? readSecret(webhookSecretArn, undefined) : Promise.resolve(undefined),
  ]);
  return createSyncHandler({
    tableName: env[SYNC_ENV.table],
    prefix: env[SYNC_ENV.prefix] || undefined,
    baseUri: env[SYNC_ENV.baseUri],
    sdkKey,
    webhookSecret,
    // An endpoint given as a plain URL keeps the store on its own signed HTTP client, as on Lambda.
    dynamoDB: env[SYNC_ENV.dynamoDBUrl]
      ? { clientOptions: { endpoint: env[SYNC_ENV.dynamoDBUrl] } }
      : undefined,
  });
}

// Started at import, inside Lambda's init phase. A failure (throttled Secrets Manager, a missing field)
// is reported by the invocation that needs the handler, and the next invocation tries again.
let ready: Promise<SyncHandler> | undefined = begin();

function begin(): Promise<SyncHandler> {
  const started = start(process.env);
  // Observed here so that a failure before the first invocation is not an unhandled rejection,
  // which would end the process; the invocation awaits `started` itself and sees the error.
  started.catch(() => {});
  return started;
}

export async function handler(event: SyncEvent): Promise<SyncResponse> {
  ready ??= begin();
  let sync: SyncHandler;
  try {
    sync = await ready;
  } catch (err) {
    ready = undefined;
    throw err;
  }
  return sync(event);
}
