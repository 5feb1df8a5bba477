// The environment's combined log: every line the runtime and the extensions write, prefixed with the
// process and stream, interleaved with the emulator's own lifecycle notes, in arrival order.

import type { Readable } from 'node:stream';

export class LogBook {
  private readonly lines: string[] = [];

  /** A line from the emulator itself (lifecycle events), prefixed `[lambda]`. */
  note(text: string): void {
    this.lines.push(`[lambda] ${text}`);
  }

  /** Collects a child's stream line by line; a last line without a newline is kept at the end. */
  capture(label: string, stream: 'stdout' | 'stderr', readable: Readable | null): void {
    if (readable === null) return;
    const prefix = stream === 'stdout' ? `[${label}] ` : `[${label} stderr] `;
    let partial = '';
    readable.setEncoding('utf8');
    readable.on('data', (chunk: string) => {
      partial += chunk;
      let newline = partial.indexOf('\n');
      while (newline >= 0) {
        this.lines.push(prefix + partial.slice(0, newline));
        partial = partial.slice(newline + 1);
        newline = partial.indexOf('\n');
      }
    });
    readable.on('end', () => {
      if (partial !== '') this.lines.push(prefix + partial);
      partial = '';
    });
    // A killed process can reset its pipe; the lines received so far are what there is.
    readable.on('error', () => {});
  }

  text(): string {
    return this.lines.length === 0 ? '' : `${this.lines.join('\n')}\n`;
  }
}
