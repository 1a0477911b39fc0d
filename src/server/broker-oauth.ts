/**
 * The broker's OAuth endpoints over HTTP: token (RFC 6749 / 8693 / 9449), introspection (RFC 7662), revocation
 * (RFC 7009), JWKS and discovery metadata (RFC 8414, RFC 9728). They answer in the RFC formats, not the
 * /api/v1 error shape, and have their own form parser, body limit and error handler.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../app/app.js';
import {
  BROKER_PATHS,
  oauthError,
  type OAuthErrorResponse,
  type TokenEndpointRequest,
} from '../broker/index.js';
import type { TokenVerifier } from './server-auth.js';

/** Largest form body the OAuth endpoints read (a token request is a few kilobytes at most). */
export const OAUTH_BODY_LIMIT_BYTES = 64 * 1024;

const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
const NO_CACHE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

/** A parsed form, or the reason it is refused. */
type FormResult = { ok: true; params: Record<string, string> } | { ok: false; reason: string };

/** Parses an x-www-form-urlencoded body; RFC 6749 §3.2: a parameter sent twice is refused. */
export function parseForm(body: string): FormResult {
  // URLSearchParams never throws; it replaces malformed percent escapes, which we refuse instead.
  for (const m of body.matchAll(/%(.{0,2})/g)) {
    if (!/^[0-9A-Fa-f]{2}$/.test(m[1]!))
      return { ok: false, reason: 'the form has a malformed percent escape' };
  }
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of new URLSearchParams(body)) {
    if (key === '') continue;
    if (Object.hasOwn(params, key))
      return { ok: false, reason: `the parameter ${key} is sent more than once` };
    params[key] = value;
  }
  return { ok: true, params };
}

/** `Authorization: Basic` client credentials, form-decoded (RFC 6749 §2.3.1); null when absent, 'invalid' when malformed. */
export function parseBasicAuth(
  header: string | undefined,
): { clientId: string; clientSecret: string } | null | 'invalid' {
  if (header === undefined) return null;
  const m = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header);
  if (!m) return /^Basic\b/i.test(header) ? 'invalid' : null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'invalid';
  const formDecode = (s: string): string | null => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return null;
    }
  };
  const clientId = formDecode(decoded.slice(0, colon));
  const clientSecret = formDecode(decoded.slice(colon + 1));
  if (clientId === null || clientSecret === null || clientId === '') return 'invalid';
  return { clientId, clientSecret };
}

/** The one value of a header; undefined when absent, null when sent more than once (Node joins repeats with ", "). */
function singleHeader(request: FastifyRequest, name: string): string | undefined | null {
  const raw = request.headers[name];
  if (raw === undefined) return undefined;
  if (Array.isArray(raw)) return raw.length === 1 ? raw[0]! : null;
  // Neither a JWT (DPoP) nor a Basic/Bearer credential contains a comma.
  return raw.includes(',') ? null : raw;
}

/** Writes an OAuth answer: status, headers and JSON body. */
function sendOAuth(
  reply: FastifyReply,
  r: { status: number; body: unknown; headers: Record<string, string> },
): FastifyReply {
  return reply
    .code(r.status)
    .headers({ ...r.headers, ...NO_CACHE })
    .type('application/json; charset=utf-8')
    .send(r.body);
}

/** The client's address from the socket; X-Forwarded-For only when the server is configured to trust proxies. */
function sourceIp(request: FastifyRequest): string | null {
  return request.ip === undefined || request.ip === '' ? null : request.ip;
}

/** What the form and client-authentication steps give every endpoint, or the answer refusing the request. */
function readClientRequest(
  request: FastifyRequest,
):
  | { ok: true; params: Record<string, string>; basicAuth?: { clientId: string; clientSecret: string } }
  | { ok: false; response: OAuthErrorResponse } {
  const body = request.body;
  if (body === undefined || body === null) {
    return {
      ok: false,
      response: oauthError(400, 'invalid_request', `send the parameters as ${FORM_CONTENT_TYPE}`),
    };
  }
  const form = parseForm(body as string);
  if (!form.ok) return { ok: false, response: oauthError(400, 'invalid_request', form.reason) };
  const basic = parseBasicAuth(singleHeader(request, 'authorization') ?? undefined);
  if (basic === 'invalid') {
    return {
      ok: false,
      response: oauthError(
        401,
        'invalid_client',
        'the Authorization header is not valid HTTP Basic client credentials',
        {
          headers: { 'www-authenticate': 'Basic realm="keyward"' },
        },
      ),
    };
  }
  return { ok: true, params: form.params, ...(basic ? { basicAuth: basic } : {}) };
}

/** Maps Fastify's body errors (media type, size, bad length) to RFC 6749 `invalid_request`; anything else to `server_error`. */
function oauthErrorFor(err: unknown): OAuthErrorResponse {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  switch (code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return oauthError(400, 'invalid_request', `send the parameters as ${FORM_CONTENT_TYPE}`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return oauthError(
        400,
        'invalid_request',
        `the request body is larger than ${OAUTH_BODY_LIMIT_BYTES} bytes`,
      );
    default: {
      const status =
        typeof err === 'object' && err !== null ? (err as { statusCode?: unknown }).statusCode : undefined;
      if (typeof code === 'string' && code.startsWith('FST_') && typeof status === 'number' && status < 500) {
        return oauthError(400, 'invalid_request', 'the request is malformed');
      }
      return oauthError(500, 'server_error', 'the broker could not process the request; try again later');
    }
  }
}

/** Options of `registerBrokerOAuth`. */
export interface BrokerOAuthOptions {
  /** The admin token check (the admin may introspect any token). */
  verifyAdminToken: TokenVerifier;
}

/**
 * Registers the OAuth and discovery endpoints under the issuer's paths, in their own scope.
 * @example
 * await server.register((scope) => registerBrokerOAuth(scope, app, { verifyAdminToken }));
 */
export async function registerBrokerOAuth(
  scope: FastifyInstance,
  app: App,
  options: BrokerOAuthOptions,
): Promise<void> {
  const broker = app.broker;
  const issuer = broker.issuer;

  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser(
    FORM_CONTENT_TYPE,
    { parseAs: 'string', bodyLimit: OAUTH_BODY_LIMIT_BYTES },
    (_req, body, done) => done(null, body),
  );

  scope.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const r = oauthErrorFor(err);
    if (r.status >= 500) request.log.error({ err }, 'OAuth request failed');
    else request.log.info({ error: r.body.error }, 'OAuth request rejected');
    return sendOAuth(reply, r);
  });

  scope.post(BROKER_PATHS.token, { bodyLimit: OAUTH_BODY_LIMIT_BYTES }, async (request, reply) => {
    const read = readClientRequest(request);
    if (!read.ok) return sendOAuth(reply, read.response);
    const dpop = singleHeader(request, 'dpop');
    if (dpop === null) {
      return sendOAuth(reply, oauthError(400, 'invalid_dpop_proof', 'send exactly one DPoP header'));
    }
    const req: TokenEndpointRequest = {
      params: read.params,
      ...(read.basicAuth ? { basicAuth: read.basicAuth } : {}),
      ...(dpop === undefined ? {} : { dpopProof: dpop }),
      method: request.method,
      url: `${issuer}${BROKER_PATHS.token}`,
      sourceIp: sourceIp(request),
    };
    return sendOAuth(reply, await broker.token(req));
  });

  scope.post(BROKER_PATHS.introspection, { bodyLimit: OAUTH_BODY_LIMIT_BYTES }, async (request, reply) => {
    const header = singleHeader(request, 'authorization');
    const bearer = typeof header === 'string' ? /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header) : null;
    let admin = false;
    if (bearer) {
      admin = await options.verifyAdminToken(bearer[1]!);
      if (!admin) {
        return sendOAuth(
          reply,
          oauthError(401, 'invalid_client', 'the bearer token is not the admin token', {
            headers: { 'www-authenticate': 'Bearer realm="keyward", error="invalid_token"' },
          }),
        );
      }
    }
    const read = readClientRequest(request);
    if (!read.ok) return sendOAuth(reply, read.response);
    if (!admin) {
      // RFC 7662 §2.1: the caller must be authorized; a client authenticates as at the token endpoint.
      const auth = await broker.authenticateClient({
        params: read.params,
        ...(read.basicAuth ? { basicAuth: read.basicAuth } : {}),
        url: `${issuer}${BROKER_PATHS.introspection}`,
      });
      if (!auth.ok) return sendOAuth(reply, auth.response);
    }
    const token = read.params.token;
    if (token === undefined || token === '') {
      return sendOAuth(reply, oauthError(400, 'invalid_request', 'the token parameter is missing'));
    }
    return sendOAuth(reply, { status: 200, body: await broker.introspect(token), headers: {} });
  });

  scope.post(BROKER_PATHS.revocation, { bodyLimit: OAUTH_BODY_LIMIT_BYTES }, async (request, reply) => {
    const read = readClientRequest(request);
    if (!read.ok) return sendOAuth(reply, read.response);
    const r = await broker.revokeToken({
      params: read.params,
      ...(read.basicAuth ? { basicAuth: read.basicAuth } : {}),
      url: `${issuer}${BROKER_PATHS.revocation}`,
    });
    return sendOAuth(reply, r);
  });

  scope.get(BROKER_PATHS.jwks, async (_request, reply) =>
    reply.type('application/jwk-set+json').send(await broker.jwks()),
  );

  scope.get(BROKER_PATHS.authorizationServerMetadata, async (_request, reply) =>
    reply.type('application/json; charset=utf-8').send(broker.authorizationServerMetadata()),
  );

  // RFC 9728 §3.1: the resource's path is appended to the well-known path; the bare path is the broker itself.
  const protectedResource = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const rawPath = (request.raw.url ?? '').split('?')[0] ?? '';
    const suffix = rawPath.slice(BROKER_PATHS.protectedResourceMetadata.length);
    const metadata = await broker.protectedResourceMetadata(`${issuer}${suffix}`);
    if (!metadata) {
      return reply
        .code(404)
        .type('application/json; charset=utf-8')
        .send({ error: 'not_found', error_description: 'no protected resource is registered at this path' });
    }
    return reply.type('application/json; charset=utf-8').send(metadata);
  };
  scope.get(BROKER_PATHS.protectedResourceMetadata, protectedResource);
  scope.get(`${BROKER_PATHS.protectedResourceMetadata}/*`, protectedResource);
}
