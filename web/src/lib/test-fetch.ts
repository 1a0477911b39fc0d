/**
 * For component tests only: a fetch stand-in answering API paths from a list of handlers, recording every
 * request (method, path with query, parsed JSON body), and a server-sent event stream the test writes to.
 */
import { vi } from 'vitest';

export interface RecordedRequest {
  method: string;
  /** `/api/v1/findings?status=open` */
  url: string;
  body: unknown;
}

export type Handler = (req: RecordedRequest) => { status?: number; body?: unknown } | Response | undefined;

/** A live `/api/v1/stream` answer the test pushes messages into. */
export interface TestStream {
  /** Sends one server-sent event. */
  send(event: string, data: unknown, id?: string): void;
  /** Resolves once the client has opened the stream. */
  opened: Promise<void>;
}

/**
 * Replaces `fetch` with one that asks `handlers` in order (the first answer wins); unanswered requests get
 * a 404 in the API's error shape. Returns the requests seen and the stream.
 */
export function mockFetch(handlers: Handler[]): { requests: RecordedRequest[]; stream: TestStream } {
  const requests: RecordedRequest[] = [];
  let controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  let markOpened: () => void = () => {};
  const opened = new Promise<void>((r) => (markOpened = r));
  const encoder = new TextEncoder();
  const stream: TestStream = {
    opened,
    send(event, data, id) {
      if (!controller) throw new Error('the stream is not open');
      controller.enqueue(
        encoder.encode(`${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`),
      );
    },
  };

  const fake = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const raw = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const url = raw.replace(/^https?:\/\/[^/]+/, '');
    const method = (init?.method ?? 'GET').toUpperCase();
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
    if (url.startsWith('/api/v1/stream')) {
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          controller = c;
          markOpened();
        },
      });
      init?.signal?.addEventListener('abort', () => {
        try {
          controller?.error(new DOMException('aborted', 'AbortError'));
        } catch {
          // already closed
        }
      });
      return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
    }
    const req = { method, url, body };
    requests.push(req);
    for (const h of handlers) {
      const answer = h(req);
      if (answer === undefined) continue;
      if (answer instanceof Response) return answer;
      return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
        status: answer.status ?? 200,
        headers: { 'content-type': 'application/json' },
      });
    }
    return new Response(JSON.stringify({ code: 'KW_NOT_FOUND', message: `no route ${method} ${url}` }), {
      status: 404,
      headers: { 'content-type': 'application/json' },
    });
  });
  vi.stubGlobal('fetch', fake);
  return { requests, stream };
}

/** A handler answering `method path` (path without query, or a RegExp over path and query). */
export function on(
  method: string,
  path: string | RegExp,
  answer: (req: RecordedRequest) => { status?: number; body?: unknown },
): Handler {
  return (req) => {
    if (req.method !== method) return undefined;
    const matches = typeof path === 'string' ? req.url.split('?')[0] === path : path.test(req.url);
    return matches ? answer(req) : undefined;
  };
}

/** A page of items as list routes answer. */
export function page<T>(
  items: T[],
  total = items.length,
): { items: T[]; total: number; limit: number; offset: number } {
  return { items, total, limit: 50, offset: 0 };
}
