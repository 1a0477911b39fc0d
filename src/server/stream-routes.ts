/**
 * Live updates for the dashboard: GET /api/v1/stream answers server-sent events (text/event-stream).
 *
 * It works across processes: it polls the store about once a second, reading the event log from a cursor
 * (approvals requested, decided or expired; finding status changes) and the alerts stored since a watermark,
 * rather than listening to an in-process emitter. Each connection has one chain of timers; closing the
 * connection (or the server) clears them. Authentication is the API's: the same bearer-token hook.
 *
 * Messages:
 * - `event: approval`, `id: <seq>`, data: the approval as stored now;
 * - `event: finding`, `id: <seq>`, data: `{"id": "<finding id>", "status": "open"|"accepted"|"resolved"}`;
 * - `event: alert`, data: the stored alert (alerts are not in the event log, so they carry no id);
 * - a `: keepalive` comment every 15 s.
 * `?after=<seq>` resumes after that event log record: the events after it are sent, and the alerts stored
 * since that record's time.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { App } from '../app/app.js';
import { ValidationError } from '../core/errors.js';
import type { EventRecord } from '../core/types.js';
import type { StoredAlert } from '../store/index.js';
import { issuesToDetails } from './server-errors.js';
import { route, type ApiRoute } from './server-routes.js';

/** Path of the stream. */
export const STREAM_PATH = '/api/v1/stream';

/** Poll and keepalive periods; tests pass shorter ones. */
export interface StreamTiming {
  /** How often the store is polled (default 1000 ms). */
  pollMs: number;
  /** How often a keepalive comment is sent (default 15,000 ms). */
  keepaliveMs: number;
}

export const DEFAULT_STREAM_TIMING: StreamTiming = Object.freeze({ pollMs: 1000, keepaliveMs: 15_000 });

/** Event log records read per poll; a longer backlog is read over the next polls. */
const EVENTS_PER_POLL = 500;
/** Alerts read per page of a poll, and pages at most per poll. */
const ALERTS_PER_PAGE = 200;
const MAX_ALERT_PAGES = 5;
/** Alerts stored this long before the newest one seen are asked for again (writers' clocks differ a little). */
const ALERT_GRACE_MS = 60_000;

const APPROVAL_EVENTS = new Set([
  'broker.approval.requested',
  'broker.approval.decided',
  'broker.approval.expired',
]);
const FINDING_STATUS_BY_EVENT: Readonly<Record<string, string>> = {
  'finding.accepted': 'accepted',
  'finding.resolved': 'resolved',
  'finding.reopened': 'open',
};

const streamQuery = z.strictObject({
  after: z
    .string()
    .regex(/^\d{1,15}$/, { error: 'must be a whole number of at least 0' })
    .transform(Number)
    .optional()
    .describe('Resume after this event log sequence number (the `id:` of the last message received)'),
});

/** The stream as the OpenAPI document describes it (registered by `registerStreamRoutes`, not the route table). */
export const STREAM_API_ROUTES: readonly ApiRoute[] = [
  route({
    operationId: 'streamUpdates',
    method: 'GET',
    path: STREAM_PATH,
    tag: 'dashboard',
    summary: 'Live updates as server-sent events: new alerts, approvals, finding status changes',
    description:
      'A text/event-stream that stays open. Messages: `event: alert` (data: the stored alert), `event: approval` (id: the event log seq; data: the approval), ' +
      '`event: finding` (id: the seq; data: `{id, status}`), and a `: keepalive` comment every 15 s. Read it with fetch and the bearer header ' +
      '(EventSource cannot send one). `?after=<seq>` resumes after that record. The server polls the store about once a second, so updates from every process arrive.',
    auth: true,
    query: streamQuery,
    response: { status: 200, description: 'The event stream', contentType: 'text/event-stream' },
    handler: () => Promise.reject(new Error('the stream is served by registerStreamRoutes')),
  }),
];

/** One server-sent event: `event:` and optional `id:` lines, the JSON data on one line, a blank line. */
export function formatSse(event: string, data: unknown, id?: number): string {
  return `event: ${event}\n${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`;
}

/** The headers of every response (as server.ts sets them on the others), for a stream with no onSend hook. */
const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
} as const;

/** Options of `registerStreamRoutes`. */
export interface StreamRouteOptions {
  /** The API's bearer-token hook (server.ts `createBearerAuth`). */
  auth: (request: FastifyRequest) => Promise<void>;
  timing?: StreamTiming;
}

/**
 * Registers GET /api/v1/stream in a scope; returns how many streams are open (tests check none leak).
 * @example
 * await server.register(async (scope) => void registerStreamRoutes(scope, app, { auth }));
 */
export function registerStreamRoutes(
  scope: FastifyInstance,
  app: App,
  options: StreamRouteOptions,
): { openStreams: () => number } {
  const timing = options.timing ?? DEFAULT_STREAM_TIMING;
  const open = new Set<() => void>();

  // Streams never end by themselves: end them when the server closes, before it waits for connections.
  scope.addHook('preClose', async () => {
    for (const stop of [...open]) stop();
  });

  scope.get(
    STREAM_PATH,
    { onRequest: options.auth },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const parsed = streamQuery.safeParse(request.query ?? {});
      if (!parsed.success) {
        const details = issuesToDetails(parsed.error.issues, 'query');
        throw new ValidationError(`invalid request: ${details[0]!.path}: ${details[0]!.message}`, {
          details,
        });
      }
      const after = parsed.data.after;

      const alertsSince = async (since: string): Promise<StoredAlert[]> => {
        const out: StoredAlert[] = [];
        for (let page = 0; page < MAX_ALERT_PAGES; page++) {
          const { items } = await app.store.listAlerts({
            createdSince: since,
            limit: ALERTS_PER_PAGE,
            offset: page * ALERTS_PER_PAGE,
          });
          out.push(...items);
          if (items.length < ALERTS_PER_PAGE) break;
        }
        return out;
      };

      // Where to start: after the given record, or at the end of the log; alerts stored since then.
      let cursor: number;
      let watermark: string;
      const seen = new Map<string, string>();
      if (after !== undefined) {
        cursor = after;
        const [record] = after > 0 ? await app.store.readEvents(after - 1, 1) : [];
        watermark = record?.seq === after ? record.time : new Date(0).toISOString();
      } else {
        cursor = (await app.store.stats()).events;
        watermark = app.clock.now().toISOString();
        // Alerts already stored at the watermark are not new to this client.
        for (const a of await alertsSince(watermark)) seen.set(a.id, a.createdAt);
      }

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { ...STREAM_HEADERS, 'x-request-id': request.id });
      res.write(': connected\n\n');

      let stopped = false;
      let pollTimer: NodeJS.Timeout | undefined;
      const send = (chunk: string): void => {
        if (!stopped) res.write(chunk);
      };
      const keepaliveTimer = setInterval(() => send(': keepalive\n\n'), timing.keepaliveMs);
      const stop = (): void => {
        if (stopped) return;
        stopped = true;
        clearTimeout(pollTimer);
        clearInterval(keepaliveTimer);
        open.delete(stop);
        if (!res.writableEnded) res.end();
      };
      open.add(stop);
      // The response closes when the client goes away (or after stop() ends it).
      res.on('close', stop);
      res.on('error', stop);

      const sendEvent = async (e: EventRecord): Promise<void> => {
        if (APPROVAL_EVENTS.has(e.type) && typeof e.data.id === 'string') {
          const approval = await app.store.getApproval(e.data.id);
          if (approval) send(formatSse('approval', approval, e.seq));
          return;
        }
        const status = FINDING_STATUS_BY_EVENT[e.type];
        if (status !== undefined && typeof e.data.findingId === 'string') {
          send(formatSse('finding', { id: e.data.findingId, status }, e.seq));
        }
      };

      const poll = async (): Promise<void> => {
        const events = await app.store.readEvents(cursor, EVENTS_PER_POLL);
        for (const e of events) {
          if (stopped) return;
          await sendEvent(e);
          cursor = e.seq;
        }
        const alerts = await alertsSince(watermark);
        // Oldest first, so a client sees them in the order they were stored.
        alerts.sort((x, y) =>
          x.createdAt < y.createdAt ? -1 : x.createdAt > y.createdAt ? 1 : x.id < y.id ? -1 : 1,
        );
        for (const a of alerts) {
          if (stopped) return;
          if (seen.has(a.id)) continue;
          seen.set(a.id, a.createdAt);
          send(formatSse('alert', a));
        }
        // Move the watermark up to a grace period before the newest alert seen, and forget older ids.
        let newest = watermark;
        for (const createdAt of seen.values()) if (createdAt > newest) newest = createdAt;
        const next = new Date(
          Math.max(Date.parse(watermark), Date.parse(newest) - ALERT_GRACE_MS),
        ).toISOString();
        if (next > watermark) {
          watermark = next;
          for (const [id, createdAt] of seen) if (createdAt < watermark) seen.delete(id);
        }
      };

      const tick = async (): Promise<void> => {
        if (stopped) return;
        try {
          await poll();
        } catch (err) {
          request.log.warn({ err }, 'stream poll failed; retrying');
        }
        if (!stopped) pollTimer = setTimeout(() => void tick(), timing.pollMs);
      };
      // A resumed stream catches up at once; a fresh one waits for the first period.
      pollTimer = setTimeout(() => void tick(), after !== undefined ? 0 : timing.pollMs);
    },
  );

  return { openStreams: () => open.size };
}
