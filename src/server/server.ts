/** The HTTP server: Fastify with the route table, bearer auth, one error handler, security headers and metrics. */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { App } from '../app/app.js';
import { createAdminTokenVerifier } from '../app/keys.js';
import { BROKER_PATHS } from '../broker/index.js';
import { ValidationError, type ErrorDetail } from '../core/errors.js';
import { registerBrokerOAuth } from './broker-oauth.js';
import { registerBrokerProxy } from './broker-proxy.js';
import { createBearerAuth } from './server-auth.js';
import { issuesToDetails, requiredErrorMap, toErrorReply, type InputSource } from './server-errors.js';
import { createMetrics, type Metrics } from './server-metrics.js';
import { buildOpenApiDocument } from './server-openapi.js';
import { API_ACTOR, API_ROUTES, IMPORT_ROUTE_PATH, type ApiRoute } from './server-routes.js';
import { noQuery } from './server-schemas.js';
import { registerStreamRoutes } from './stream-routes.js';
import { registerWebUi, type WebUi } from './web-ui.js';
import type { z } from 'zod';

/** Options of `buildServer`. */
export interface BuildServerOptions {
  /** `true` for pino logging at the configured level, an object for pino options, `false` (default) for none. */
  logger?: boolean | object;
  /** Directory of the built dashboard (default dist/web); `false` serves no dashboard. */
  webRoot?: string | false;
}

/** Options of `startServer`. */
export interface StartServerOptions extends BuildServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
}

/** A listening server. */
export interface RunningServer {
  /** The base URL clients can reach (`http://127.0.0.1:7300`). */
  url: string;
  server: FastifyInstance;
  close(): Promise<void>;
}

/** Log paths pino replaces with `[redacted]`: credentials in headers never reach the log. */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
  'req.headers.dpop',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'authorization',
] as const;

/** Accepted incoming request ids; anything else is replaced by a fresh UUID. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id: the client's `x-request-id` when it is well-formed, else a new UUID. */
function requestId(req: { headers: Record<string, string | string[] | undefined> }): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Pino options: the configured level, header redaction forced on whatever the caller passes. */
function loggerOptions(level: string, logger: boolean | object | undefined): false | Record<string, unknown> {
  if (!logger) return false;
  const custom = logger === true ? {} : (logger as Record<string, unknown>);
  const theirs = custom.redact;
  const theirPaths = Array.isArray(theirs)
    ? (theirs as string[])
    : typeof theirs === 'object' && theirs !== null && Array.isArray((theirs as { paths?: unknown }).paths)
      ? (theirs as { paths: string[] }).paths
      : [];
  return {
    level,
    ...custom,
    redact: { paths: [...new Set([...REDACTED_LOG_PATHS, ...theirPaths])], censor: '[redacted]' },
  };
}

/** Where the JSON parser failed, without echoing the body (it may hold secrets; V8 quotes a snippet of it). */
function jsonErrorMessage(err: unknown, body: string): string {
  const msg = err instanceof Error ? err.message : '';
  const posMatch = /at position (\d+)/.exec(msg);
  const pos = posMatch ? Number(posMatch[1]) : null;
  let what = 'it is malformed';
  const expected = /^(Expected [^"]*?) in JSON at position/.exec(msg);
  const token = /^Unexpected token '(.)'/.exec(msg);
  if (/Unexpected end of JSON input/i.test(msg) || (pos !== null && pos >= body.trimEnd().length)) {
    return 'the request body is not valid JSON: it ends too early';
  } else if (expected) what = expected[1]!.replace(/^E/, 'e');
  else if (token) what = `unexpected character ${JSON.stringify(token[1])}`;
  else if (/Unexpected non-whitespace character after JSON/i.test(msg))
    what = 'there is more after the JSON value';
  if (pos === null) return `the request body is not valid JSON: ${what}`;
  const before = body.slice(0, pos);
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `the request body is not valid JSON: ${what} (line ${line}, column ${column})`;
}

/** Parses a JSON body; rejects `__proto__` and `constructor.prototype` keys (prototype pollution). */
function parseJsonBody(body: string): unknown {
  if (body.trim() === '') {
    throw new ValidationError(
      'the request body is empty but Content-Type is application/json; send a JSON object or drop the header',
      { details: [{ path: 'body', message: 'empty' }] },
    );
  }
  let forbidden: string | null = null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body, (key, value: unknown) => {
      if (key === '__proto__') forbidden = '__proto__';
      else if (
        key === 'constructor' &&
        typeof value === 'object' &&
        value !== null &&
        Object.hasOwn(value, 'prototype')
      )
        forbidden = 'constructor.prototype';
      return value;
    });
  } catch (err) {
    throw new ValidationError(jsonErrorMessage(err, body), {
      details: [{ path: 'body', message: 'malformed JSON' }],
    });
  }
  if (forbidden) {
    throw new ValidationError(`the request body must not contain a "${forbidden}" key`, {
      details: [{ path: 'body', message: `"${forbidden}" is not allowed` }],
    });
  }
  return parsed;
}

/** Validates params, query and body together so one 400 names every problem. */
function validateRequest(
  route: ApiRoute,
  request: FastifyRequest,
): { params: unknown; query: unknown; body: unknown } {
  const details: ErrorDetail[] = [];
  const check = (schema: z.ZodType, value: unknown, source: InputSource): unknown => {
    const r = schema.safeParse(value, { error: requiredErrorMap });
    if (r.success) return r.data;
    details.push(...issuesToDetails(r.error.issues, source));
    return undefined;
  };
  const params = route.params ? check(route.params, request.params, 'params') : {};
  const query = check(route.query ?? noQuery, request.query ?? {}, 'query');
  let body: unknown;
  if (route.rawBody) {
    body = request.body;
    if (details.length === 0 && (!Buffer.isBuffer(body) || body.length === 0)) {
      throw new ValidationError('the request body is empty: send the file as the body', {
        code: 'KW_INVALID_IMPORT',
        details: [{ path: 'body', message: 'empty file' }],
      });
    }
  } else if (route.body) {
    body = check(route.body, request.body, 'body');
  } else if (
    request.body !== undefined &&
    !(
      typeof request.body === 'object' &&
      request.body !== null &&
      !Array.isArray(request.body) &&
      Object.keys(request.body).length === 0
    )
  ) {
    details.push({ path: 'body', message: 'this route takes no request body' });
  }
  if (details.length > 0) {
    const first = details[0]!;
    const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
    throw new ValidationError(`invalid request: ${first.path}: ${first.message}${more}`, { details });
  }
  return { params, query, body };
}

/** The headers of every response (docs/http-api.md); proxied answers keep the upstream's Cache-Control. */
const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
} as const;

/** True for a URL under the broker's protocol paths (OAuth, discovery, proxy), which answer in the RFC format. */
function isBrokerProtocolUrl(rawUrl: string): boolean {
  const path = rawUrl.split('?')[0] ?? '';
  const under = (prefix: string): boolean => path === prefix || path.startsWith(`${prefix}/`);
  return under(BROKER_PATHS.proxy) || under('/oauth') || under('/.well-known');
}

/**
 * Builds the Fastify instance with every route registered; it does not listen.
 * The admin token must exist (`ensureAdminToken`), or every /api/v1 request gets 401.
 * @example
 * const server = await buildServer(app);
 * const res = await server.inject({ method: 'GET', url: '/healthz' });
 */
export async function buildServer(app: App, options: BuildServerOptions = {}): Promise<FastifyInstance> {
  const server = Fastify({
    logger: loggerOptions(app.config.logLevel, options.logger),
    bodyLimit: app.config.bodyLimitBytes,
    genReqId: requestId,
    requestIdHeader: false,
    return503OnClosing: true,
    // The router refuses a URL it cannot decode (a malformed percent escape, an escape that is not UTF-8) before
    // any route, hook or route error handler runs; without this Fastify answers its own JSON, echoing the path.
    // No route means no hooks either: the answer carries the headers of every response itself.
    frameworkErrors: (err: unknown, request: FastifyRequest, reply: FastifyReply) => {
      request.log.info({ code: (err as { code?: unknown }).code }, 'request rejected by the router');
      reply.headers({ ...SECURITY_HEADERS, 'x-request-id': request.id });
      if (isBrokerProtocolUrl(request.raw.url ?? '')) {
        return reply
          .code(400)
          .header('pragma', 'no-cache')
          .type('application/json; charset=utf-8')
          .send({ error: 'invalid_request', error_description: 'the request is malformed' });
      }
      const r = toErrorReply(err, request.id);
      return reply.code(r.status).headers(r.headers).type('application/json; charset=utf-8').send(r.body);
    },
  }) as unknown as FastifyInstance;

  const metrics: Metrics = createMetrics({ store: app.store });
  const verifyAdminToken = createAdminTokenVerifier(app.store);
  const auth = createBearerAuth(verifyAdminToken);

  // Both hooks run on every request: callback style (no promise per hook) and the header set made once.
  const { 'cache-control': _cacheControl, 'content-security-policy': csp, ...always } = SECURITY_HEADERS;
  server.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    // Proxied answers keep the upstream's caching headers; everything else is no-store.
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    reply.headers(always);
    // The dashboard's page sets its own policy (web-ui.ts); everything else gets the API's.
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', csp);
    done(null, payload);
  });

  server.addHook('onResponse', (request, reply, done) => {
    const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched');
    metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  server.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const isImport = request.routeOptions.url === IMPORT_ROUTE_PATH;
    const r = toErrorReply(err, request.id, isImport ? { importLimitBytes: app.config.maxImportBytes } : {});
    if (r.log === 'error') request.log.error({ err }, `request failed: ${r.body.code}`);
    else request.log.info({ code: r.body.code, status: r.status }, 'request rejected');
    return reply.code(r.status).headers(r.headers).type('application/json; charset=utf-8').send(r.body);
  });

  let webUi: WebUi | null = null;
  server.setNotFoundHandler((request, reply) => {
    if (webUi?.fallback(request, reply)) return reply;
    const path = request.url.split('?')[0] ?? '/';
    return reply.code(404).send({
      code: 'KW_NOT_FOUND',
      message: `no route ${request.method} ${path}; the API is described at /api/openapi.json`,
      details: [],
      requestId: request.id,
    });
  });

  // JSON routes accept application/json only; anything else with a body is 415.
  server.removeAllContentTypeParsers();
  server.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  const openApiDocument = (): object => buildOpenApiDocument();

  const register = (scope: FastifyInstance, route: ApiRoute): void => {
    scope.route({
      method: route.method,
      url: route.path,
      ...(route.rawBody ? { bodyLimit: route.bodyLimit?.(app.config) ?? app.config.maxImportBytes } : {}),
      ...(route.auth ? { onRequest: auth } : {}),
      handler: async (request, reply) => {
        const input = validateRequest(route, request);
        const result = await route.handler({
          app,
          ...input,
          actor: API_ACTOR,
          request,
          reply,
          metrics,
          openApiDocument,
        });
        reply.code(route.response.status);
        if (route.response.status === 204) return reply.send();
        return reply.send(result);
      },
    });
  };

  for (const route of API_ROUTES.filter((r) => !r.rawBody)) register(server, route);

  // The import route reads the body as raw bytes, in its own scope with its own parsers and limit.
  await server.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    const raw = (
      _req: unknown,
      body: Buffer | string,
      done: (err: Error | null, body?: unknown) => void,
    ): void => done(null, body);
    const opts = { parseAs: 'buffer' as const, bodyLimit: app.config.maxImportBytes };
    scope.addContentTypeParser(
      ['application/octet-stream', 'application/json', 'application/x-ndjson'],
      opts,
      raw,
    );
    // Fastify tests the regular expression against the whole header, parameters included.
    scope.addContentTypeParser(/^text\/[A-Za-z0-9!#$&^_.+-]+(?:\s*;.*)?$/, opts, raw);
    for (const route of API_ROUTES.filter((r) => r.rawBody)) register(scope, route);
  });

  // The broker's OAuth endpoints and proxy answer in RFC formats, each in its own scope with its own parsers.
  await server.register(async (scope) => registerBrokerOAuth(scope, app, { verifyAdminToken }));
  await server.register(async (scope) => registerBrokerProxy(scope, app));
  // Live updates (server-sent events) stream, so they are a raw route with the API's auth hook.
  await server.register(async (scope) => void registerStreamRoutes(scope, app, { auth }));

  if (options.webRoot !== false) webUi = await registerWebUi(server, options.webRoot);

  await server.ready();
  return server;
}

/** The URL a client uses to reach a listening address (wildcard binds map to loopback). */
function urlOf(address: AddressInfo): string {
  let host = address.address;
  if (host === '0.0.0.0') host = '127.0.0.1';
  else if (host === '::') host = '::1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/**
 * Builds the server and listens; port 0 picks a free port and the returned URL has the real one.
 * Logging is on by default here (pino at the configured level); pass `logger: false` to silence it.
 * @example
 * const { url, close } = await startServer(app, { host: '127.0.0.1', port: 0 });
 */
export async function startServer(app: App, options: StartServerOptions): Promise<RunningServer> {
  const server = await buildServer(app, { ...options, logger: options.logger ?? true });
  try {
    await server.listen({ host: options.host, port: options.port });
  } catch (err) {
    await server.close().catch(() => undefined);
    throw err;
  }
  const address = server.server.address() as AddressInfo;
  return { url: urlOf(address), server, close: () => server.close() };
}
