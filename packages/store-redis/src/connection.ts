import type { LDLogger } from '@flagstaff/node-server-sdk';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * Defaults of a connection the store opens itself. Without an offline queue, and with commands that
 * were in flight rejected when the socket closes, a Redis outage fails reads at once and evaluations
 * fall back to the SDK's cache instead of hanging until a reconnect.
 */
const OWNED_DEFAULTS: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 0 };

/**
 * One ioredis client as the store uses it: opened from options (and then closed by the store) or
 * borrowed from the caller (never closed). Connection errors are logged once per outage.
 */
export class RedisConnection {
  readonly client: Redis;
  private readonly owned: boolean;
  private everReady: boolean;
  private pendingConnect: Promise<void> | undefined;
  private healthy = true;
  private readonly onReady = () => {
    this.everReady = true;
    if (!this.healthy) {
      this.healthy = true;
      this.logger.warn('Redis connection re-established');
    }
  };
  private readonly onError = (error: Error) => {
    if (this.healthy) {
      this.healthy = false;
      this.logger.error(`Redis connection error: ${error.message}`);
    } else {
      this.logger.debug(`Redis connection error: ${error.message}`);
    }
  };

  constructor(
    options: { client?: Redis; redisOpts?: RedisOptions | string },
    private readonly logger: LDLogger,
  ) {
    if (options.client !== undefined) {
      this.client = options.client;
      this.owned = false;
    } else {
      const redisOpts = options.redisOpts;
      this.client =
        typeof redisOpts === 'string'
          ? new Redis(redisOpts, OWNED_DEFAULTS)
          : new Redis({ ...OWNED_DEFAULTS, ...redisOpts });
      this.owned = true;
      // Without a listener ioredis prints every reconnect failure to the console.
      this.client.on('error', this.onError);
    }
    this.everReady = this.client.status === 'ready';
    this.client.on('ready', this.onReady);
  }

  /**
   * Resolves when a command can be sent. Only the first connection is waited for (a client without an
   * offline queue would reject commands issued while it is still connecting at startup); later
   * outages are not waited out, so that reads fail fast and the cache answers.
   */
  connected(): Promise<void> | undefined {
    if (this.everReady) return undefined;
    const status = this.client.status;
    if (status !== 'wait' && status !== 'connecting' && status !== 'connect') return undefined;
    if (this.pendingConnect === undefined) {
      this.pendingConnect = new Promise<void>((resolve) => {
        const done = () => {
          this.client.off('ready', done);
          this.client.off('close', done);
          this.client.off('end', done);
          this.pendingConnect = undefined;
          resolve();
        };
        this.client.on('ready', done);
        this.client.on('close', done);
        this.client.on('end', done);
      });
      // A lazily connecting client connects on its first command, which it would reject here.
      if (status === 'wait') this.client.connect().catch(() => {});
    }
    return this.pendingConnect;
  }

  async close(): Promise<void> {
    this.client.off('ready', this.onReady);
    if (!this.owned) return;
    if (this.client.status === 'ready') {
      try {
        await this.client.quit();
      } catch {
        this.client.disconnect();
      }
    } else {
      this.client.disconnect();
    }
    // The error listener stays: a closing socket may still report an error, which must not be printed.
  }
}
