/**
 * Live updates: reads the server-sent events of GET /api/v1/stream with fetch (so the bearer token goes in a
 * header, which EventSource cannot send) and hands each message to the listeners of its event name.
 * Reconnects with backoff, resuming after the last event id it saw.
 */
import { useEffect, useRef } from 'react';
import { apiUrl, getToken } from './api.js';

/** One server-sent event. */
export interface StreamMessage {
  event: string;
  data: unknown;
  id: string | null;
}

/** Parses a chunk of an event stream; returns the complete messages and the unfinished rest. */
export function parseEventStream(buffer: string): { messages: StreamMessage[]; rest: string } {
  const messages: StreamMessage[] = [];
  const blocks = buffer.replace(/\r\n?/g, '\n').split('\n\n');
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let event = 'message';
    let id: string | null = null;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    }
    if (data.length === 0) continue;
    const text = data.join('\n');
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // plain text data stays a string
    }
    messages.push({ event, data: parsed, id });
  }
  return { messages, rest };
}

type Listener = (msg: StreamMessage) => void;
const listeners = new Set<Listener>();
let controller: AbortController | null = null;
let lastId: string | null = null;

async function connect(signal: AbortSignal): Promise<void> {
  let delay = 1000;
  while (!signal.aborted) {
    try {
      const token = getToken();
      if (!token) return;
      const res = await fetch(apiUrl('stream', { after: lastId }), {
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
        signal,
      });
      if (res.status === 401) return;
      if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
      delay = 1000;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const parsed = parseEventStream(buffer + value);
        buffer = parsed.rest;
        for (const msg of parsed.messages) {
          if (msg.id !== null) lastId = msg.id;
          for (const fn of listeners) fn(msg);
        }
      }
    } catch {
      if (signal.aborted) return;
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 30_000);
  }
}

/** Starts the shared stream (once) while signed in. */
export function startStream(): void {
  if (controller) return;
  controller = new AbortController();
  void connect(controller.signal);
}

/** Stops it (sign-out). */
export function stopStream(): void {
  controller?.abort();
  controller = null;
  lastId = null;
}

/** Calls `fn` for every live message whose event is one of `events`, while the component is mounted. */
export function useStream(events: readonly string[], fn: (msg: StreamMessage) => void): void {
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const key = events.join(',');
  useEffect(() => {
    const wanted = new Set(key.split(','));
    const listener: Listener = (msg) => {
      if (wanted.has(msg.event)) fnRef.current(msg);
    };
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, [key]);
}
