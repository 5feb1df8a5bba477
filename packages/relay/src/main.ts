import { basicLogger } from '@flagstaff/node-server-sdk';
import { describeConfig, loadConfig, RelayConfigError } from './config.js';
import { startRelay } from './relay.js';

/** The relay process: configuration from the environment (and `--config file.json`), then serve. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const logger = basicLogger({ level: 'info' });
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ env: process.env, argv });
  } catch (err) {
    if (err instanceof RelayConfigError) {
      logger.error(err.message);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
  logger.info(`Configuration: ${JSON.stringify(describeConfig(config))}`);
  const relay = await startRelay(config, { logger });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal} received; shutting down`);
    relay.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error(`Shutdown failed: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
