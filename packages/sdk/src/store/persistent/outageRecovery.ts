import type { LDLogger } from '../../api/logger.js';

/**
 * For a cache-forever store whose writes failed: probes the database every `intervalMs` and, once it
 * answers, runs `rewrite` (which puts the cached data back) until that succeeds. The timer is unref'd
 * so an outage never keeps the process alive.
 */
export class OutageRecovery {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly intervalMs: number,
    private readonly probe: () => Promise<unknown>,
    private readonly rewrite: () => Promise<void>,
    private readonly logger: LDLogger,
    private readonly description: string,
  ) {}

  get active(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.attempt(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async attempt(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.probe();
      await this.rewrite();
      this.stop();
      this.logger.warn(`${this.description} store is available again; rewrote it from the cached data`);
    } catch (error) {
      this.logger.debug(`${this.description} store still unavailable: ${messageOf(error)}`);
    } finally {
      this.running = false;
    }
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
