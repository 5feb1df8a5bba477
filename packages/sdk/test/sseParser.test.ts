import { describe, expect, it } from 'vitest';
import { type SseEvent, SseParser } from '../src/datasource/sseParser.js';

interface Parsed {
  events: SseEvent[];
  comments: string[];
  retries: number[];
}

function parse(chunks: (string | Uint8Array)[]): Parsed {
  const out: Parsed = { events: [], comments: [], retries: [] };
  const parser = new SseParser({
    onEvent: (e) => out.events.push(e),
    onComment: (c) => out.comments.push(c),
    onRetry: (ms) => out.retries.push(ms),
  });
  for (const chunk of chunks) parser.push(chunk);
  return out;
}

const ev = (event: string, data: string, lastEventId = ''): SseEvent => ({ event, data, lastEventId });

describe('SseParser', () => {
  it('dispatches an event on a blank line, with the event name and data', () => {
    expect(parse(['event: put\ndata: {"a":1}\n\n']).events).toEqual([ev('put', '{"a":1}')]);
  });

  it('names an event without an event field "message"', () => {
    expect(parse(['data: hi\n\n']).events).toEqual([ev('message', 'hi')]);
  });

  it('joins multiple data lines with \\n', () => {
    expect(parse(['data: a\ndata: b\ndata:\ndata: c\n\n']).events).toEqual([ev('message', 'a\nb\n\nc')]);
  });

  it('dispatches nothing for a block without data, and resets the event name', () => {
    const { events } = parse(['event: put\n\n', 'data: x\n\n']);
    expect(events).toEqual([ev('message', 'x')]);
  });

  it('dispatches an empty-data event for a lone "data" field, with or without colon', () => {
    expect(parse(['data\n\n', 'data:\n\n']).events).toEqual([ev('message', ''), ev('message', '')]);
  });

  it('removes exactly one leading space from a value', () => {
    expect(parse(['data:  two spaces\n\n', 'data:none\n\n']).events).toEqual([
      ev('message', ' two spaces'),
      ev('message', 'none'),
    ]);
  });

  it('keeps colons after the first one in the value', () => {
    expect(parse(['data: {"path":"/flags/a:b"}\n\n']).events[0]?.data).toBe('{"path":"/flags/a:b"}');
  });

  it('accepts CR, LF and CRLF line endings, mixed', () => {
    const { events } = parse(['event: a\rdata: 1\r\revent: b\r\ndata: 2\r\n\r\nevent: c\ndata: 3\n\n']);
    expect(events).toEqual([ev('a', '1'), ev('b', '2'), ev('c', '3')]);
  });

  it('treats a CRLF split across chunks as one line ending, and a lone CR at a chunk end as one', () => {
    expect(parse(['data: x\r', '\ndata: y\r', '\n\r', '\n']).events).toEqual([ev('message', 'x\ny')]);
    // CR then a chunk that does not start with LF: the CR ended the line, and the next line is "data: z".
    expect(parse(['data: x\r', 'data: z\r', '\r']).events).toEqual([ev('message', 'x\nz')]);
  });

  it('reports comments and never dispatches them', () => {
    const { events, comments } = parse([':heartbeat\n', ': hello\n\n', 'data: x\n:\n\n']);
    expect(comments).toEqual(['heartbeat', 'hello', '']);
    expect(events).toEqual([ev('message', 'x')]);
  });

  it('strips one leading BOM, only at the start of the stream', () => {
    expect(parse(['\uFEFFdata: a\n\n']).events).toEqual([ev('message', 'a')]);
    expect(parse(['\uFEFF', 'data: a\n\n']).events).toEqual([ev('message', 'a')]);
    // A second BOM is part of the field name, which is then unknown and ignored.
    expect(parse(['\uFEFF\uFEFFdata: a\n\ndata: b\n\n']).events).toEqual([ev('message', 'b')]);
    expect(parse(['data: a\n\n\uFEFFdata: b\n\n']).events).toEqual([ev('message', 'a')]);
  });

  it('carries the last event id over to later events and ignores ids containing NUL', () => {
    const { events } = parse([
      'id: 1\ndata: a\n\n',
      'data: b\n\n',
      'id: x\0y\ndata: c\n\n',
      'id\ndata: d\n\n',
    ]);
    expect(events.map((e) => e.lastEventId)).toEqual(['1', '1', '1', '']);
  });

  it('reports retry only when it is all ASCII digits', () => {
    expect(parse(['retry: 2500\n', 'retry: 12a\n', 'retry: -1\n', 'retry:\n', 'retry: 0\n']).retries).toEqual(
      [2500, 0],
    );
  });

  it('ignores unknown fields, and "data" must match exactly', () => {
    expect(parse(['foo: bar\nData: no\ndata : no\ndata: yes\n\n']).events).toEqual([ev('message', 'yes')]);
  });

  it('never dispatches an event left unterminated at the end of the input', () => {
    expect(parse(['data: a\n\ndata: b\n']).events).toEqual([ev('message', 'a')]);
    expect(parse(['data: a']).events).toEqual([]);
  });

  it('gives the same events for every split point of the input, as text and as bytes', () => {
    const input =
      '\uFEFF: hello\r\nevent: put\r\ndata: {"v":"h\u00e9llo \u2713 \u{1F600}"}\r\n\r\n' +
      'id: 7\revent: patch\rdata: line1\rdata: line2\r\r' +
      'retry: 100\nevent: delete\ndata:\n\n';
    const expected = parse([input]);
    expect(expected.events).toEqual([
      ev('put', '{"v":"h\u00e9llo \u2713 \u{1F600}"}'),
      ev('patch', 'line1\nline2', '7'),
      ev('delete', '', '7'),
    ]);
    expect(expected.comments).toEqual(['hello']);
    expect(expected.retries).toEqual([100]);
    const bytes = new TextEncoder().encode(input);
    for (let i = 0; i <= input.length; i++) {
      expect(parse([input.slice(0, i), input.slice(i)])).toEqual(expected);
    }
    // Byte splits land inside CRLF pairs and inside 2-, 3- and 4-byte UTF-8 sequences.
    for (let i = 0; i <= bytes.length; i++) {
      expect(parse([bytes.subarray(0, i), bytes.subarray(i)])).toEqual(expected);
    }
    expect(parse(Array.from(bytes, (b) => Uint8Array.of(b)))).toEqual(expected);
    expect(parse(Array.from(input))).toEqual(expected);
  });

  it('decodes invalid UTF-8 as U+FFFD instead of failing', () => {
    const bytes = Uint8Array.of(...new TextEncoder().encode('data: a'), 0xff, 0x0a, 0x0a);
    expect(parse([bytes]).events).toEqual([ev('message', 'a\uFFFD')]);
  });

  it('handles a large event delivered in many small chunks', () => {
    const value = 'x'.repeat(200_000);
    const input = `event: put\ndata: ${value}\n\n`;
    const chunks: string[] = [];
    for (let i = 0; i < input.length; i += 1000) chunks.push(input.slice(i, i + 1000));
    expect(parse(chunks).events).toEqual([ev('put', value)]);
  });
});
