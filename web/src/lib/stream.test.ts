import { describe, expect, it } from 'vitest';
import { parseEventStream } from './stream.js';

describe('parseEventStream', () => {
  it('splits complete messages, parses JSON data and keeps the unfinished rest', () => {
    const { messages, rest } = parseEventStream(
      ': keepalive\n\nid: 7\nevent: alert\ndata: {"id":"alt_1"}\n\nevent: approval\ndata: {"id":"apr',
    );
    expect(messages).toEqual([{ event: 'alert', data: { id: 'alt_1' }, id: '7' }]);
    expect(rest).toBe('event: approval\ndata: {"id":"apr');
    const next = parseEventStream(rest + '_2"}\n\n');
    expect(next.messages).toEqual([{ event: 'approval', data: { id: 'apr_2' }, id: null }]);
    expect(next.rest).toBe('');
  });

  it('joins multi-line data, accepts CRLF, defaults the event name, and keeps non-JSON data as text', () => {
    const { messages } = parseEventStream(
      'data: line one\r\ndata: line two\r\n\r\nevent:finding\ndata:{"a":1}\n\n',
    );
    expect(messages).toEqual([
      { event: 'message', data: 'line one\nline two', id: null },
      { event: 'finding', data: { a: 1 }, id: null },
    ]);
  });
});
