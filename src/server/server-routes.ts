/**
 * Every HTTP route as data: method, path, the zod schemas of its input and output, and a thin handler over the
 * services. The server registers these and the OpenAPI document is generated from the same table.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppConfig } from '../app/app-config.js';
import type { App } from '../app/app.js';
import { verifyEventLog } from '../audit/index.js';
import { NotFoundError } from '../core/errors.js';
import type { IdentityInput } from '../core/inventory-batch.js';
import { POSTURE_RULES } from '../inventory/index.js';
import { BROKER_API_ROUTES } from './broker-routes.js';
import { DETECT_API_ROUTES } from './detect-routes.js';
import { DATASET_API_ROUTES } from './dataset-routes.js';
import { DASHBOARD_API_ROUTES } from './dashboard-routes.js';
import type { Metrics } from './server-metrics.js';
import { PROMETHEUS_CONTENT_TYPE } from './server-metrics.js';
import {
  auditVerificationSchema,
  createIdentityBody,
  credentialListQuery,
  credentialPageSchema,
  credentialSchema,
  eventListQuery,
  eventPageSchema,
  findingListQuery,
  findingPageSchema,
  findingSchema,
  findingStatusBody,
  findingsRefreshSchema,
  grantListQuery,
  grantPageSchema,
  healthSchema,
  idParams,
  identityDetailSchema,
  identityGraphSchema,
  identityListQuery,
  identityPageSchema,
  identityRefParams,
  identitySchema,
  importParams,
  importQuery,
  importResultSchema,
  pageQuery,
  patchIdentityBody,
  personListQuery,
  personPageSchema,
  postureRulePageSchema,
  readySchema,
  resourceListQuery,
  resourcePageSchema,
} from './server-schemas.js';

/** Prefix of the authenticated JSON API. */
export const API_PREFIX = '/api/v1';

/** Path of the import route (the only one that takes a raw body). */
export const IMPORT_ROUTE_PATH = `${API_PREFIX}/imports/:kind`;

/** Who the event log records for changes made through the API. */
export const API_ACTOR = 'api:admin';

/** Content types the import route reads as raw bytes. */
export const IMPORT_CONTENT_TYPES = ['application/octet-stream', 'application/json', 'text/*'] as const;

/** What a handler receives: validated input and the app. */
export interface RouteContext<P, Q, B> {
  app: App;
  params: P;
  query: Q;
  body: B;
  actor: string;
  request: FastifyRequest;
  reply: FastifyReply;
  metrics: Metrics;
  openApiDocument: () => object;
}

/** The success response of a route. */
export interface RouteResponse {
  status: 200 | 201 | 204;
  description: string;
  /** Documents a JSON body (omit for 204 or for non-JSON bodies described by `contentType`). */
  schema?: z.ZodType;
  /** A non-JSON response type (`text/plain; version=0.0.4` for metrics). */
  contentType?: string;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;
/** A route without a body schema gets no body, or the raw bytes when it declares `rawBody`. */
type BodyOut<S> = S extends z.ZodType ? z.output<S> : Buffer | undefined;

/** One HTTP route, described for registration and documentation. */
export interface ApiRoute {
  operationId: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Fastify path syntax (`/api/v1/identities/:id`). */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  /** True: requires `Authorization: Bearer <admin token>`. */
  auth: boolean;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** True: the body is the raw bytes of a file (Buffer), not JSON. */
  rawBody?: boolean;
  /** What the raw body is, for OpenAPI (default: an export file). */
  rawBodyDescription?: string;
  /** The raw body's limit in bytes (default maxImportBytes); a larger body is answered 413. */
  bodyLimit?: (config: AppConfig) => number;
  response: RouteResponse;
  /** Error statuses this route can answer beyond the ones every route of its kind can. */
  errors?: number[];
  handler(ctx: RouteContext<unknown, unknown, unknown>): Promise<unknown>;
}

/** A route as declared: its schemas, and a handler whose input types follow from them. */
export type RouteDef<
  PS extends z.ZodObject | undefined,
  QS extends z.ZodObject | undefined,
  BS extends z.ZodType | undefined,
> = Omit<ApiRoute, 'params' | 'query' | 'body' | 'handler'> & {
  params?: PS;
  query?: QS;
  body?: BS;
  handler(ctx: RouteContext<Out<PS>, Out<QS>, BodyOut<BS>>): Promise<unknown>;
};

/** Declares a route with handler input types inferred from its schemas (other route tables use it too). */
export function route<
  PS extends z.ZodObject | undefined = undefined,
  QS extends z.ZodObject | undefined = undefined,
  BS extends z.ZodType | undefined = undefined,
>(def: RouteDef<PS, QS, BS>): ApiRoute {
  return def as unknown as ApiRoute;
}

/** Pages an in-memory list the way the store pages its listings. */
function pageArray<T>(items: readonly T[], q: { limit?: number | undefined; offset?: number | undefined }) {
  const limit = q.limit ?? 100;
  const offset = q.offset ?? 0;
  return { items: items.slice(offset, offset + limit), total: items.length, limit, offset };
}

const NOT_FOUND = [404];

/** The route table. */
export const API_ROUTES: readonly ApiRoute[] = [
  // ── Public ──────────────────────────────────────────────────────────────────────────────────────────────
  route({
    operationId: 'getHealth',
    method: 'GET',
    path: '/healthz',
    tag: 'operations',
    summary: 'Liveness: the process is up',
    auth: false,
    response: { status: 200, description: 'The process is up', schema: healthSchema },
    handler: async () => ({ status: 'ok' }),
  }),
  route({
    operationId: 'getReadiness',
    method: 'GET',
    path: '/readyz',
    tag: 'operations',
    summary: 'Readiness: the store answers',
    description: 'Pings the store; 503 with code KW_STORE when it does not answer.',
    auth: false,
    response: { status: 200, description: 'The store answers', schema: readySchema },
    handler: async ({ app }) => {
      await app.store.ping();
      return { status: 'ready', store: app.store.dialect };
    },
  }),
  route({
    operationId: 'getMetrics',
    method: 'GET',
    path: '/metrics',
    tag: 'operations',
    summary: 'Prometheus metrics (text format 0.0.4)',
    description:
      'HTTP request counter and latency histogram by method, route and status; store row counts and open findings by severity (cached for 5 s).',
    auth: false,
    response: {
      status: 200,
      description: 'Prometheus text exposition',
      contentType: PROMETHEUS_CONTENT_TYPE,
    },
    handler: async ({ metrics, reply }) => {
      reply.type(PROMETHEUS_CONTENT_TYPE);
      return metrics.render();
    },
  }),
  route({
    operationId: 'getOpenApiDocument',
    method: 'GET',
    path: '/api/openapi.json',
    tag: 'operations',
    summary: 'This API as an OpenAPI 3.1 document',
    auth: false,
    response: {
      status: 200,
      description: 'The OpenAPI 3.1 document',
      schema: z.record(z.string(), z.unknown()),
    },
    handler: async ({ openApiDocument }) => openApiDocument(),
  }),

  // ── Identities ──────────────────────────────────────────────────────────────────────────────────────────
  route({
    operationId: 'listIdentities',
    method: 'GET',
    path: `${API_PREFIX}/identities`,
    tag: 'identities',
    summary: 'List identities',
    auth: true,
    query: identityListQuery,
    response: { status: 200, description: 'A page of identities', schema: identityPageSchema },
    handler: async ({ app, query }) => app.store.listIdentities(query),
  }),
  route({
    operationId: 'createIdentity',
    method: 'POST',
    path: `${API_PREFIX}/identities`,
    tag: 'identities',
    summary: 'Create an identity',
    description:
      'The owner is required. `provider` defaults to `keyward` and `externalId` to the name; 409 when the provider already has that external id.',
    auth: true,
    body: createIdentityBody,
    response: { status: 201, description: 'The created identity', schema: identitySchema },
    errors: [409],
    handler: async ({ app, body, actor, reply }) => {
      const input: IdentityInput = {
        ...body,
        provider: body.provider ?? 'keyward',
        externalId: body.externalId ?? body.name,
      };
      const identity = await app.inventory.createIdentity(input, actor);
      reply.header('location', `${API_PREFIX}/identities/${encodeURIComponent(identity.id)}`);
      return identity;
    },
  }),
  route({
    operationId: 'getIdentity',
    method: 'GET',
    path: `${API_PREFIX}/identities/:id`,
    tag: 'identities',
    summary: 'An identity with its credentials, grants, findings and risk breakdown',
    description:
      '`{id}` is the identity id or its exact name; a name shared by several identities is a 400 listing their ids.',
    auth: true,
    params: identityRefParams,
    response: {
      status: 200,
      description: 'The identity and what is attached to it',
      schema: identityDetailSchema,
    },
    errors: NOT_FOUND,
    handler: async ({ app, params }) => app.inventory.getIdentityDetail(params.id),
  }),
  route({
    operationId: 'updateIdentity',
    method: 'PATCH',
    path: `${API_PREFIX}/identities/:id`,
    tag: 'identities',
    summary: 'Change fields of an identity',
    description: 'Absent fields stay as they are; `tags` and `attributes` replace the stored values.',
    auth: true,
    params: identityRefParams,
    body: patchIdentityBody,
    response: { status: 200, description: 'The identity after the change', schema: identitySchema },
    errors: NOT_FOUND,
    handler: async ({ app, params, body, actor }) => {
      const identity = await app.inventory.resolveIdentity(params.id);
      return app.inventory.updateIdentity(identity.id, body, actor);
    },
  }),
  route({
    operationId: 'deleteIdentity',
    method: 'DELETE',
    path: `${API_PREFIX}/identities/:id`,
    tag: 'identities',
    summary: 'Delete an identity with its credentials, grants and findings',
    auth: true,
    params: identityRefParams,
    response: { status: 204, description: 'Deleted' },
    errors: NOT_FOUND,
    handler: async ({ app, params, actor }) => {
      const identity = await app.inventory.resolveIdentity(params.id);
      await app.inventory.deleteIdentity(identity.id, actor);
      return undefined;
    },
  }),
  route({
    operationId: 'getIdentityGraph',
    method: 'GET',
    path: `${API_PREFIX}/identities/:id/graph`,
    tag: 'identities',
    summary: 'What an identity can reach: identity → credentials → grants → resources',
    auth: true,
    params: identityRefParams,
    response: { status: 200, description: 'The graph', schema: identityGraphSchema },
    errors: NOT_FOUND,
    handler: async ({ app, params }) => app.inventory.graph(params.id),
  }),

  // ── Credentials, grants, resources, people ──────────────────────────────────────────────────────────────
  route({
    operationId: 'listCredentials',
    method: 'GET',
    path: `${API_PREFIX}/credentials`,
    tag: 'inventory',
    summary: 'List credentials (fingerprints and redacted previews, never values)',
    auth: true,
    query: credentialListQuery,
    response: { status: 200, description: 'A page of credentials', schema: credentialPageSchema },
    handler: async ({ app, query }) => app.store.listCredentials(query),
  }),
  route({
    operationId: 'getCredential',
    method: 'GET',
    path: `${API_PREFIX}/credentials/:id`,
    tag: 'inventory',
    summary: 'One credential',
    auth: true,
    params: idParams,
    response: { status: 200, description: 'The credential', schema: credentialSchema },
    errors: NOT_FOUND,
    handler: async ({ app, params }) => {
      const credential = await app.store.getCredential(params.id);
      if (!credential) throw new NotFoundError(`no credential with id "${params.id}"`);
      return credential;
    },
  }),
  route({
    operationId: 'listGrants',
    method: 'GET',
    path: `${API_PREFIX}/grants`,
    tag: 'inventory',
    summary: 'List grants',
    auth: true,
    query: grantListQuery,
    response: { status: 200, description: 'A page of grants', schema: grantPageSchema },
    handler: async ({ app, query }) => app.store.listGrants(query),
  }),
  route({
    operationId: 'listResources',
    method: 'GET',
    path: `${API_PREFIX}/resources`,
    tag: 'inventory',
    summary: 'List resources',
    auth: true,
    query: resourceListQuery,
    response: { status: 200, description: 'A page of resources', schema: resourcePageSchema },
    handler: async ({ app, query }) => app.store.listResources(query),
  }),
  route({
    operationId: 'listPeople',
    method: 'GET',
    path: `${API_PREFIX}/people`,
    tag: 'inventory',
    summary: 'List people from imported directories',
    auth: true,
    query: personListQuery,
    response: { status: 200, description: 'A page of people', schema: personPageSchema },
    handler: async ({ app, query }) => app.store.listPeople(query),
  }),

  // ── Findings and rules ──────────────────────────────────────────────────────────────────────────────────
  route({
    operationId: 'listFindings',
    method: 'GET',
    path: `${API_PREFIX}/findings`,
    tag: 'findings',
    summary: 'List posture findings (any status unless `status` is given), most severe first',
    auth: true,
    query: findingListQuery,
    response: { status: 200, description: 'A page of findings', schema: findingPageSchema },
    handler: async ({ app, query }) => app.store.listFindings(query),
  }),
  route({
    operationId: 'setFindingStatus',
    method: 'POST',
    path: `${API_PREFIX}/findings/:id/status`,
    tag: 'findings',
    summary: 'Accept, resolve or reopen a finding, with a reason',
    description:
      'Records `finding.accepted`, `finding.resolved` or `finding.reopened` in the event log (subject: the identity). ' +
      'An accepted finding stays accepted across posture runs; a resolved one that the next run still reports is reopened. ' +
      'Setting the status a finding already has changes nothing and returns it as it is.',
    auth: true,
    params: idParams,
    body: findingStatusBody,
    response: { status: 200, description: 'The finding after the change', schema: findingSchema },
    errors: NOT_FOUND,
    handler: async ({ app, params, body, actor }) =>
      app.store.setFindingStatus(params.id, body, { time: app.clock.now().toISOString(), actor }),
  }),
  route({
    operationId: 'refreshFindings',
    method: 'POST',
    path: `${API_PREFIX}/findings/refresh`,
    tag: 'findings',
    summary: 'Re-evaluate every posture rule over the whole inventory',
    auth: true,
    response: { status: 200, description: 'Counts of the run', schema: findingsRefreshSchema },
    handler: async ({ app }) => app.inventory.refreshFindings(),
  }),
  route({
    operationId: 'listPostureRules',
    method: 'GET',
    path: `${API_PREFIX}/rules/posture`,
    tag: 'findings',
    summary: 'The posture rules and what each one checks',
    auth: true,
    query: pageQuery,
    response: { status: 200, description: 'A page of rule metadata', schema: postureRulePageSchema },
    handler: async ({ query }) => pageArray(POSTURE_RULES, query),
  }),

  // ── Imports ─────────────────────────────────────────────────────────────────────────────────────────────
  route({
    operationId: 'importFile',
    method: 'POST',
    path: IMPORT_ROUTE_PATH,
    tag: 'imports',
    summary: 'Import an export file (the request body is the raw file)',
    description:
      'Send the file bytes as the body with Content-Type application/octet-stream, application/json or text/* and its name in `?filename=`. ' +
      'The file is parsed and validated before anything is stored: an invalid file changes nothing (400 KW_INVALID_IMPORT). ' +
      'The body limit is the configured maxImportBytes.',
    auth: true,
    params: importParams,
    query: importQuery,
    rawBody: true,
    response: { status: 201, description: 'What the import changed', schema: importResultSchema },
    handler: async ({ app, params, query, body, actor }) =>
      app.inventory.importFile({
        kind: params.kind,
        fileName: query.filename,
        content: body as Buffer,
        actor,
        options: query.cluster === undefined ? undefined : { cluster: query.cluster },
      }),
  }),

  // ── Event log ───────────────────────────────────────────────────────────────────────────────────────────
  route({
    operationId: 'listEvents',
    method: 'GET',
    path: `${API_PREFIX}/events`,
    tag: 'events',
    summary: 'Read the hash-chained event log in order (or newest first), optionally about one subject',
    description:
      'Without `subject`, `before` or `order=desc`, `total` counts the whole log; with them it counts the events about the subject (or the whole log when no subject is given) and `next` is the cursor of the next page (`after` ascending, `before` descending).',
    auth: true,
    query: eventListQuery,
    response: { status: 200, description: 'A page of events', schema: eventPageSchema },
    handler: async ({ app, query }) => {
      const after = query.after ?? 0;
      const limit = query.limit ?? 100;
      if (query.subject === undefined && query.order !== 'desc' && query.before === undefined) {
        const [items, stats] = await Promise.all([app.store.readEvents(after, limit), app.store.stats()]);
        const last = items.at(-1)?.seq;
        return {
          items,
          total: stats.events,
          limit,
          offset: after,
          next: last !== undefined && last < stats.events ? last : null,
        };
      }
      // One more than asked tells whether another page follows.
      const found = await app.store.listEvents({
        ...(query.after !== undefined ? { after: query.after } : {}),
        ...(query.before !== undefined ? { before: query.before } : {}),
        ...(query.subject !== undefined ? { subject: query.subject } : {}),
        order: query.order ?? 'asc',
        limit: limit + 1,
      });
      const items = found.items.slice(0, limit);
      return {
        items,
        total: found.total,
        limit,
        offset: after,
        next: found.items.length > limit ? items.at(-1)!.seq : null,
      };
    },
  }),
  route({
    operationId: 'verifyEventLog',
    method: 'GET',
    path: `${API_PREFIX}/audit/verify`,
    tag: 'events',
    summary: 'Verify the hash chain of the whole event log',
    description:
      'Walks every record and reports the first changed, missing or reordered one. A broken chain is a 200 with `ok: false`: the check ran, and that is its result.',
    auth: true,
    response: { status: 200, description: 'The verification result', schema: auditVerificationSchema },
    handler: async ({ app }) => verifyEventLog(app.store),
  }),

  // ── Credential broker (src/server/broker-routes.ts) ────────────────────────────────────────────────────
  ...BROKER_API_ROUTES,
  ...DETECT_API_ROUTES,
  ...DATASET_API_ROUTES,
  ...DASHBOARD_API_ROUTES,
];
