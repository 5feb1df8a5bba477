/** One dispatched Server-Sent Event. */
export interface SseEvent {
  /** The `event:` field, or `message` when the event had none. */
  event: string;
  /** The `data:` lines joined with `\n`. */
  data: string;
  /** The last event ID seen on the stream so far (it carries over to later events). */
  lastEventId: string;
}

export interface SseHandlers {
  onEvent(event: SseEvent): void;
  /** A comment line (`: text`); flag services send them as heartbeats. */
  onComment?(text: string): void;
  /** A valid `retry:` field: the server's reconnection delay in milliseconds. */
  onRetry?(delayMs: number): void;
}

const DIGITS = /^[0-9]+$/;

/**
 * Incremental parser for `text/event-stream`, following the WHATWG HTML "Server-sent events" parsing
 * rules. Feed it bytes or text in chunks split anywhere: a CRLF pair or a multi-byte UTF-8 sequence
 * may straddle two chunks. One parser per connection; an event left unterminated when the stream
 * ends is never dispatched, as the spec requires.
 */
export class SseParser {
  // ignoreBOM keeps a BOM in the decoded text so that one code path strips it, bytes or strings.
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  // Per instance: a global regex carries lastIndex, and a handler may feed another parser re-entrantly.
  private readonly lineEnd = /\r\n|\r|\n/g;
  private started = false;
  /** The previous chunk ended in CR, so an LF at the start of the next one belongs to it. */
  private skipLeadingLf = false;
  private partialLine = '';
  private eventType = '';
  private dataLines: string[] = [];
  private lastEventId = '';

  constructor(private readonly handlers: SseHandlers) {}

  push(chunk: string | Uint8Array): void {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (text.length === 0) return;
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let start = 0;
    if (this.skipLeadingLf) {
      this.skipLeadingLf = false;
      if (text.charCodeAt(0) === 0x0a) start = 1;
    }
    this.lineEnd.lastIndex = start;
    for (let match = this.lineEnd.exec(text); match !== null; match = this.lineEnd.exec(text)) {
      const line = this.partialLine + text.slice(start, match.index);
      this.partialLine = '';
      start = this.lineEnd.lastIndex;
      if (match[0] === '\r' && start === text.length) this.skipLeadingLf = true;
      this.processLine(line);
    }
    if (start < text.length) this.partialLine += text.slice(start);
  }

  private processLine(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) {
      this.handlers.onComment?.(line.slice(1).replace(/^ /, ''));
      return;
    }
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.dataLines.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (DIGITS.test(value)) this.handlers.onRetry?.(Number.parseInt(value, 10));
        break;
      // Any other field name is ignored.
    }
  }

  private dispatch(): void {
    const dataLines = this.dataLines;
    const eventType = this.eventType;
    this.dataLines = [];
    this.eventType = '';
    // An event with no data lines is dropped, but `data:` with an empty value is an empty event.
    if (dataLines.length === 0) return;
    this.handlers.onEvent({
      event: eventType === '' ? 'message' : eventType,
      data: dataLines.join('\n'),
      lastEventId: this.lastEventId,
    });
  }
}
