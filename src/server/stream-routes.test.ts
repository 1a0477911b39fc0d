import { afterEach, describe, expect, it } from 'vitest';
import type { Finding } from '../core/types.js';
import { formatSse } from './stream-routes.js';
import { seedAgent, seedApproval, testFinding } from './test-support/dashboard-fixtures.js';
import { createTestServer, TEST_TIME, type TestServer } from './test-support/test-server.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** One parsed server-sent event. */
interface Message {
  event: string | null;
  id: string | null;
  data: unknown;
  comment: string | null;
}

/** Reads a fetch body as server-sent events. */
function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const queue: Message[] = [];
  const parse = (block: string): Message => {
    const m: Message = { event: null, id: null, data: null, comment: null };
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) m.comment = line.slice(1).trim();
      else if (line.startsWith('event: ')) m.event = line.slice(7);
      else if (line.startsWith('id: ')) m.id = line.slice(4);
      else if (line.startsWith('data: ')) m.data = JSON.parse(line.slice(6));
    }
    return m;
  };
  /** The next message matching `want`, within `ms`. */
  const next = async (want: (m: Message) => boolean, ms = 5000): Promise<Message> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = queue.findIndex(want);
      if (i >= 0) return queue.splice(i, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${ms} ms; got ${JSON.stringify(queue)}`);
      let timer: NodeJS.Timeout | undefined;
      const chunk = await Promise.race([
        reader.read(),
        new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), left))),
      ]);
      clearTimeout(timer);
      if (chunk === null) continue;
      if (chunk.done) throw new Error('the stream ended');
      buffer += decoder.decode(chunk.value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        queue.push(parse(buffer.slice(0, end)));
        buffer = buffer.slice(end + 2);
      }
    }
  };
  return { next, cancel: () => reader.cancel().catch(() => undefined) };
}

const finding = (id: string, identityId: string): Finding => testFinding({ id, identityId, ruleId: 'r' });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('GET /api/v1/stream', () => {
  it('formats one event per message, with an optional id', () => {
    expect(formatSse('finding', { id: 'f', status: 'open' }, 7)).toBe(
      'event: finding\nid: 7\ndata: {"id":"f","status":"open"}\n\n',
    );
    expect(formatSse('alert', { a: 'x\ny' })).toBe('event: alert\ndata: {"a":"x\\ny"}\n\n');
  });

  it('streams approvals, finding status changes and alerts made after connecting; disconnecting stops polling', async () => {
    let polls = 0;
    t = await createTestServer({
      patchApp: (app) => {
        const read = app.store.readEvents.bind(app.store);
        app.store.readEvents = (after, limit) => {
          polls++;
          return read(after, limit);
        };
        return app;
      },
    });
    const url = await t.server.listen({ host: '127.0.0.1', port: 0 });
    const identity = await t.addIdentity({ name: 'svc' });
    await t.app.store.replaceFindings([finding('fnd_1', identity.id)], new Map(), TEST_TIME);
    const agentId = await seedAgent(t.app.store, TEST_TIME);
    const before = await seedApproval(t.app.store, agentId, TEST_TIME);

    const abort = new AbortController();
    const res = await fetch(`${url}/api/v1/stream`, { headers: t.auth, signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-request-id')).toBeTruthy();
    const sse = sseReader(res.body!);
    expect((await sse.next(() => true)).comment).toBe('connected');

    const approval = await seedApproval(t.app.store, agentId, TEST_TIME);
    const got = await sse.next((m) => m.event === 'approval');
    expect(got.data).toEqual(JSON.parse(JSON.stringify(approval)));
    expect(Number(got.id)).toBeGreaterThan(0);
    // The approval requested before connecting is not sent.
    expect((got.data as { id: string }).id).not.toBe(before.id);

    await t.app.store.setFindingStatus(
      'fnd_1',
      { status: 'accepted', reason: 'test account' },
      { time: TEST_TIME, actor: 'api:admin' },
    );
    expect((await sse.next((m) => m.event === 'finding')).data).toEqual({ id: 'fnd_1', status: 'accepted' });

    await t.app.store.saveAlerts(
      [
        {
          id: 'al_live',
          ruleId: 'r',
          ruleTitle: 'R',
          level: 'high',
          tags: [],
          groupKey: null,
          windowStart: Date.parse(TEST_TIME) - 1000,
          windowEnd: Date.parse(TEST_TIME),
          eventIds: [],
          eventCount: 0,
          summary: 'live',
        },
      ],
      { source: 'stream', time: TEST_TIME, targets: [] },
    );
    const alert = await sse.next((m) => m.event === 'alert');
    expect(alert.data).toEqual(JSON.parse(JSON.stringify(await t.app.store.getAlert('al_live'))));
    expect(alert.id).toBeNull();

    // Decided: the approval is sent again with its new status.
    await t.app.store.decideApproval(approval.id, {
      status: 'denied',
      decidedBy: 'ann',
      reason: 'no',
      time: TEST_TIME,
    });
    const decided = await sse.next((m) => m.event === 'approval');
    expect(decided.data).toMatchObject({ id: approval.id, status: 'denied', decidedBy: 'ann' });

    abort.abort();
    await sse.cancel();
    await sleep(300);
    const after = polls;
    await sleep(2500);
    expect(polls).toBe(after);
  }, 20_000);

  it('resumes after a sequence number at once', async () => {
    t = await createTestServer();
    const url = await t.server.listen({ host: '127.0.0.1', port: 0 });
    const agentId = await seedAgent(t.app.store, TEST_TIME);
    const seq = (await t.app.store.stats()).events;
    const approval = await seedApproval(t.app.store, agentId, TEST_TIME);
    const abort = new AbortController();
    const res = await fetch(`${url}/api/v1/stream?after=${seq}`, { headers: t.auth, signal: abort.signal });
    const sse = sseReader(res.body!);
    const got = await sse.next((m) => m.event === 'approval', 900);
    expect([got.id, (got.data as { id: string }).id]).toEqual([String(seq + 1), approval.id]);
    abort.abort();
    await sse.cancel();
  });

  it('answers 401 without the token and 400 for a bad query, as JSON', async () => {
    t = await createTestServer();
    const url = await t.server.listen({ host: '127.0.0.1', port: 0 });
    const anonymous = await fetch(`${url}/api/v1/stream`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ code: 'KW_UNAUTHORIZED' });
    const wrong = await fetch(`${url}/api/v1/stream`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const bad = await fetch(`${url}/api/v1/stream?after=-1&x=1`, { headers: t.auth });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { details: Array<{ path: string }> }).details.map((d) => d.path)).toEqual([
      'query.after',
      'query.x',
    ]);
  });

  it('closing the server ends open streams', async () => {
    t = await createTestServer();
    const url = await t.server.listen({ host: '127.0.0.1', port: 0 });
    const res = await fetch(`${url}/api/v1/stream`, { headers: t.auth });
    const sse = sseReader(res.body!);
    await sse.next(() => true);
    await t.close();
    t = undefined;
    await expect(sse.next(() => false, 2000)).rejects.toThrow('the stream ended');
  });
});
