/**
 * The detection API: events in (NDJSON), alerts and the loaded rules out. Alerts are stored by continuous
 * detection (`serve`) and by `keyward detect --store`.
 */
import { z } from 'zod';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.js';
import { LEVELS } from '../detect/detect-types.js';
import { ADAPTER_NAMES } from '../detect/events/index.js';
import { route, type ApiRoute } from './server-routes.js';

const PREFIX = '/api/v1/detect';
const TAG = 'detect';
const anyObject = z.record(z.string(), z.unknown());

const ingestQuery = z
  .object({
    format: z
      .enum(ADAPTER_NAMES.filter((n) => n !== 'ndjson') as [string, ...string[]])
      .describe(
        'The source the records come from (NDJSON of other sources needs a mapping: use keyward detect)',
      ),
  })
  .strict();

const alertListQuery = z
  .object({
    ruleId: z.string().min(1).max(200).optional().describe('Only alerts of this rule'),
    level: z.enum(LEVELS).optional().describe('Only alerts of this level'),
    since: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('Only alerts whose window ended at or after this time'),
    acknowledged: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional()
      .describe('Only acknowledged (true) or unacknowledged (false) alerts'),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
    offset: z.coerce.number().int().min(0).optional(),
  })
  .strict();

const idParams = z.object({ id: z.string().min(1).max(100) }).strict();

const ackBody = z
  .strictObject({
    note: z.string().max(500).optional().describe('Why, or what was done (at most 500 characters)'),
  })
  .optional()
  .describe('The acknowledgement (the body may be left out)');

/** At most this many contributing events are looked up for an alert's detail. */
const MAX_ALERT_EVENTS = 1000;

/** The detection routes. */
export const DETECT_API_ROUTES: readonly ApiRoute[] = [
  route({
    operationId: 'ingestEvents',
    method: 'POST',
    path: `${PREFIX}/events`,
    tag: TAG,
    auth: true,
    summary: 'Evaluate events now: the body is NDJSON, one record of the given source per line',
    description:
      'Records are normalized and run through the loaded rules and correlations; alerts are stored before the answer. ' +
      'Lines that are not records of the source are reported by line number and skipped (at most 100 listed). ' +
      'The body limit is detect.ingestMaxBytes.',
    query: ingestQuery,
    rawBody: true,
    rawBodyDescription: 'NDJSON: one JSON record per line (Content-Type application/x-ndjson)',
    bodyLimit: (config) => config.detect.ingestMaxBytes,
    response: {
      status: 200,
      description: 'How many records were accepted, and the lines skipped',
      schema: anyObject,
    },
    handler: async ({ app, query, body }) => {
      const buffer = body as Buffer | undefined;
      if (!buffer || buffer.length === 0) {
        throw new ValidationError('send the records as NDJSON in the body', {
          details: [{ path: 'body', message: 'empty' }],
        });
      }
      if (!app.detection.status().running) {
        throw new ConflictError('detection is not running in this process (keyward serve starts it)');
      }
      return app.detection.ingest(
        buffer.toString('utf8').split('\n'),
        query.format as (typeof ADAPTER_NAMES)[number],
      );
    },
  }),
  route({
    operationId: 'listAlerts',
    method: 'GET',
    path: `${PREFIX}/alerts`,
    tag: TAG,
    auth: true,
    summary: 'Alerts, newest first',
    query: alertListQuery,
    response: { status: 200, description: 'A page of alerts', schema: anyObject },
    handler: async ({ app, query }) => app.store.listAlerts(query),
  }),
  route({
    operationId: 'getAlert',
    method: 'GET',
    path: `${PREFIX}/alerts/:id`,
    tag: TAG,
    auth: true,
    summary: 'One alert, with the contributing events found in the event log',
    description:
      '`events` holds the records of `eventIds` that are in the event log, in log order; events that came from imported files are not in it, so there may be fewer.',
    params: idParams,
    response: { status: 200, description: 'The alert and its events', schema: anyObject },
    errors: [404],
    handler: async ({ app, params }) => {
      const alert = await app.store.getAlert(params.id);
      if (!alert) throw new NotFoundError(`no alert ${JSON.stringify(params.id)}`);
      const events = await app.store.getEventsByIds(alert.eventIds.slice(0, MAX_ALERT_EVENTS));
      return { ...alert, events };
    },
  }),
  route({
    operationId: 'acknowledgeAlert',
    method: 'POST',
    path: `${PREFIX}/alerts/:id/ack`,
    tag: TAG,
    auth: true,
    summary: 'Acknowledge an alert, with an optional note',
    description:
      'Records `alert.acknowledged` in the event log. Idempotent: an acknowledged alert is returned unchanged.',
    params: idParams,
    body: ackBody,
    response: { status: 200, description: 'The alert', schema: anyObject },
    errors: [404],
    handler: async ({ app, params, body, actor }) =>
      app.store.acknowledgeAlert(params.id, body?.note ?? null, {
        time: app.clock.now().toISOString(),
        actor,
      }),
  }),
  route({
    operationId: 'detectStatus',
    method: 'GET',
    path: `${PREFIX}/status`,
    tag: TAG,
    auth: true,
    summary: 'Continuous detection: the rules loaded (with load errors), the log checkpoint and counters',
    response: { status: 200, description: 'Status and the rules report', schema: anyObject },
    handler: async ({ app }) => ({ ...app.detection.status(), report: app.detection.report() }),
  }),
];
