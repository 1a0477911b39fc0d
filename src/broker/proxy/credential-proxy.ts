/**
 * The credential-injecting proxy (`/proxy/<upstream>/…`): an agent calls with its Keyward access token; the
 * proxy checks the token (signature, audience, revocation, DPoP — through `verifyToken`), checks the call
 * against the upstream's routes, replaces the agent's credentials with the upstream credential from the
 * vault, forwards the request with streamed bodies (undici) and records the call in the event log. The agent
 * never holds the upstream credential; the upstream never sees the agent's token.
 *
 * Framework-independent: `handle` takes a plain request (headers, a body stream) and returns a status,
 * headers and a body stream, which the HTTP layer writes out as they are.
 */
import { performance } from 'node:perf_hooks';
import { pipeline, Readable, Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import type { Upstream } from '../../core/broker-types.js';
import type { Clock } from '../../core/time.js';
import { systemClock } from '../../core/time.js';
import type { NewEvent } from '../../core/types.js';
import type { AccessTokenClaims } from '../broker-tokens.js';
import { authorizeUpstreamCall, normalizeProxyQuery } from './upstream-routes.js';
import { MAX_UPSTREAM_NAME_LENGTH, UPSTREAM_NAME } from './upstream-vault.js';

/** Request headers as Node reads them: lower-case names; a list where a header came several times. */
export type ProxyHeaders = Record<string, string | string[] | undefined>;

/** A request to the proxy, independent of the HTTP framework. */
export interface ProxyRequest {
  /** The HTTP method as sent (`GET`). */
  method: string;
  /** The `<upstream>` of `/proxy/<upstream>/…`. */
  upstreamName: string;
  /** The path after `/proxy/<upstream>`, as sent (still percent-encoded); `''` means `/`. */
  path: string;
  /** The query string without the `?`, as sent; `''` when there is none. */
  query: string;
  headers: ProxyHeaders;
  /** The request body; read only when the call is forwarded and the request declares a body. */
  body: Readable | null;
  /** Aborts the upstream request when the agent goes away. */
  signal?: AbortSignal;
}

/** What the HTTP layer writes back: status, headers and a body to stream (never buffered whole). */
export interface ProxyResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Readable;
}

/** What `verifyToken` is told about the request, so it can check audience and the DPoP proof. */
export interface ProxyTokenContext {
  /** The audience the token must carry: `keyward:upstream:<name>` (see upstreamAudience). */
  audience: string;
  /** The Authorization scheme the token came with; a DPoP-bound token must come with `DPoP` (RFC 9449 §7.1). */
  scheme: 'Bearer' | 'DPoP';
  /** The `DPoP` header, when sent (exactly one). */
  dpopProof: string | undefined;
  /** The request's method, for the proof's `htm`. */
  method: string;
  /** The URL the agent called (`<proxyUrl>/<upstream><path>`), for the proof's `htu`. */
  url: string;
}

/** The outcome of checking a token: its claims, or the OAuth error to answer with (RFC 6750 §3.1, RFC 9449 §7.1). */
export type ProxyTokenVerification =
  | { ok: true; claims: AccessTokenClaims }
  | {
      ok: false;
      status: 401 | 403;
      /** `invalid_token`, `insufficient_scope`, `invalid_dpop_proof`, `use_dpop_nonce`, … */
      error: string;
      /** For people; must not hold the token. */
      description: string;
      /** Extra response headers (a `DPoP-Nonce`, or a complete `WWW-Authenticate`). */
      headers?: Record<string, string>;
    };

/** Where a failure that the agent does not see in full happened. */
export type ProxyErrorStage = 'verify' | 'lookup' | 'vault' | 'audit';

/** Timeouts of the upstream request, in milliseconds. */
export interface ProxyTimeouts {
  /** To establish the connection (TCP and TLS); applies to the proxy's own dispatcher only. Default 10 s. */
  connectMs?: number;
  /** From sending the request to the upstream's response headers. Default 30 s. */
  headersMs?: number;
  /** Longest pause between two chunks of the response body. Default 60 s. */
  bodyMs?: number;
}

/** What the proxy needs. */
export interface CredentialProxyDeps {
  /** The upstream with its sealed credential (`store.getUpstream`). */
  getUpstream(name: string): Promise<Upstream | null>;
  /** Checks the token: signature, audience (`context.audience`), revocation and DPoP (the broker service). */
  verifyToken(token: string, context: ProxyTokenContext): Promise<ProxyTokenVerification>;
  /** The upstream's credential in plaintext (`createUpstreamVault(masterKey).open`). */
  openSecret(upstream: Upstream): string | Promise<string>;
  /**
   * Appends to the hash-chained event log. When it resolves to the record (an object with a numeric `seq`, as
   * `appendEvent` from `src/audit` does), a call's `proxy.call` names its `proxy.call.started` by that seq.
   */
  appendEvent(event: NewEvent): Promise<unknown>;
  /**
   * Told about failures the agent sees only as a generic error: the token check or the store throwing, a
   * credential that does not open, an event that could not be recorded. Never given a secret or a token.
   */
  onError?(error: unknown, context: { stage: ProxyErrorStage; upstream: string; jti: string | null }): void;
  /**
   * The external URL the proxy is served under, without a trailing slash (`https://keyward.example/proxy`);
   * `<proxyUrl>/<upstream><path>` is the URL a DPoP proof is checked against.
   */
  proxyUrl: string;
  /**
   * The RFC 9728 metadata URL of an upstream (`<issuer>/.well-known/oauth-protected-resource/proxy/<name>`).
   * When given, every 401 challenge carries it as `resource_metadata` (RFC 9728 §5.1), which is how MCP clients
   * find the broker that issues tokens for the upstream.
   */
  resourceMetadataUrl?: (upstreamName: string) => string;
  clock?: Clock;
  /** A monotonic clock in milliseconds for latencies (default performance.now). */
  monotonicMs?: () => number;
  /** The undici dispatcher to send with (default: an Agent of the proxy's own, with the connect timeout). */
  dispatcher?: Dispatcher;
  timeouts?: ProxyTimeouts;
}

/** The `aud` a token must carry to be used with an upstream: `keyward:upstream:<name>`. */
export function upstreamAudience(upstreamName: string): string {
  return `keyward:upstream:${upstreamName}`;
}

/** Event types the proxy appends. */
export const PROXY_EVENT_TYPES = {
  started: 'proxy.call.started',
  call: 'proxy.call',
  denied: 'proxy.call.denied',
} as const;

/** How a forwarded call ended. */
export type ProxyCallOutcome =
  'completed' | 'upstream-unreachable' | 'timeout' | 'upstream-error' | 'request-body-error' | 'aborted';

/** Why an authenticated call was refused before it was forwarded. */
export type ProxyDenialReason =
  | 'wrong-audience'
  | 'unknown-upstream'
  | 'invalid-path'
  | 'invalid-query'
  | 'invalid-request'
  | 'insufficient-scope'
  | 'method-not-allowed'
  | 'no-route'
  | 'vault-error';

const DEFAULT_TIMEOUTS = { connectMs: 10_000, headersMs: 30_000, bodyMs: 60_000 } as const;

// RFC 9110 §7.6.1 and RFC 9112 §9.6: these belong to one connection and are never forwarded.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
]);

// The agent's credentials and anything the agent could use to pose as the proxy or another client.
const AGENT_ONLY_REQUEST_HEADERS = new Set([
  'authorization',
  'dpop',
  'cookie',
  'host',
  'expect',
  'content-length',
  'forwarded',
  'x-real-ip',
]);

const MAX_LOGGED_PATH_LENGTH = 2000;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** A JSON answer of the proxy itself: `{ error, error_description }`, never cached. */
function json(
  status: number,
  error: string,
  description: string,
  headers: Record<string, string> = {},
): ProxyResponse {
  const payload = Buffer.from(JSON.stringify({ error, error_description: description }), 'utf8');
  return {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(payload.length),
      'cache-control': 'no-store',
      ...headers,
    },
    body: Readable.from([payload]),
  };
}

/** A quoted-string value for WWW-Authenticate (RFC 6750 §3: no `"` or `\`, printable ASCII only). */
function quoted(text: string): string {
  return `"${text.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?')}"`;
}

/**
 * Splits a WWW-Authenticate value into its challenges: at commas outside quoted strings that are followed by
 * one of our schemes (`Bearer`, `DPoP`) and a space or the end.
 */
export function splitChallenges(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '"' && value[i - 1] !== '\\') inQuote = !inQuote;
    else if (ch === ',' && !inQuote && /^ (?:Bearer|DPoP)(?: |$)/.test(value.slice(i + 1, i + 9))) {
      out.push(value.slice(start, i));
      start = i + 2;
    }
  }
  out.push(value.slice(start));
  return out;
}

function challenge(scheme: string, params: Record<string, string>): string {
  const parts = Object.entries(params).map(([k, v]) => `${k}=${quoted(v)}`);
  return parts.length ? `${scheme} ${parts.join(', ')}` : scheme;
}

function single(value: string | string[] | undefined): string | undefined | null {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.length === 1 ? value[0] : value.length === 0 ? undefined : null;
  return value;
}

type ParsedAuthorization =
  { ok: true; scheme: 'Bearer' | 'DPoP'; token: string } | { ok: false; problem: 'missing' | 'malformed' };

function parseAuthorization(header: string | string[] | undefined): ParsedAuthorization {
  const value = single(header);
  if (value === null) return { ok: false, problem: 'malformed' };
  if (value === undefined || value.trim() === '') return { ok: false, problem: 'missing' };
  const space = value.indexOf(' ');
  const scheme = (space === -1 ? value : value.slice(0, space)).toLowerCase();
  // RFC 9110 §11.1: the scheme is case-insensitive.
  if (scheme !== 'bearer' && scheme !== 'dpop') return { ok: false, problem: 'missing' };
  const token = space === -1 ? '' : value.slice(space + 1).trim();
  if (!TOKEN68.test(token)) return { ok: false, problem: 'malformed' };
  return { ok: true, scheme: scheme === 'bearer' ? 'Bearer' : 'DPoP', token };
}

/** Header names listed in a Connection header (RFC 9110 §7.6.1): they are hop-by-hop too. */
function connectionListed(headers: Record<string, string | string[] | undefined>): Set<string> {
  const listed = new Set<string>();
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== 'connection' || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      for (const token of v.split(',')) listed.add(token.trim().toLowerCase());
    }
  }
  return listed;
}

function isHopByHop(name: string, listed: Set<string>): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-') || listed.has(name);
}

/** The headers sent upstream: the agent's, without its credentials, hop-by-hop and forwarding headers. */
function upstreamRequestHeaders(
  headers: ProxyHeaders,
  upstream: Upstream,
  secret: string,
  contentLength: string | undefined,
): Record<string, string | string[]> {
  const listed = connectionListed(headers);
  const credentialHeader =
    upstream.auth.kind === 'header' ? (upstream.auth.headerName ?? '').toLowerCase() : 'authorization';
  const out: Record<string, string | string[]> = {};
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (value === undefined) continue;
    if (isHopByHop(name, listed) || AGENT_ONLY_REQUEST_HEADERS.has(name)) continue;
    if (name.startsWith('x-forwarded-') || name === credentialHeader) continue;
    out[name] = value;
  }
  if (contentLength !== undefined) out['content-length'] = contentLength;
  switch (upstream.auth.kind) {
    case 'header':
      out[credentialHeader] = secret;
      break;
    case 'basic':
      // RFC 7617 §2: the vaulted value is `user:password`.
      out.authorization = `Basic ${Buffer.from(secret, 'utf8').toString('base64')}`;
      break;
    case 'bearer':
      out.authorization = `Bearer ${secret}`;
      break;
  }
  return out;
}

/** The upstream's response headers the agent gets: without hop-by-hop headers and cookies. */
function agentResponseHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const listed = connectionListed(headers);
  const out: Record<string, string | string[]> = {};
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (value === undefined || isHopByHop(name, listed) || name === 'set-cookie') continue;
    out[name] = value;
  }
  return out;
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  const causeCode = (err as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof causeCode === 'string' ? causeCode : undefined;
}

function isAbort(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return errorCode(err) === 'UND_ERR_ABORTED' || name === 'AbortError';
}

/** Keeps logged text within the event log's limits (1–200 characters, no control characters). */
function eventName(value: unknown): string | null {
  if (typeof value !== 'string' || value === '' || value.length > 200) return null;
  // eslint-disable-next-line no-control-regex
  return /[\x00-\x1f\x7f]/.test(value) ? null : value;
}

/** The facts about the caller that every event of a call carries (the token by its jti only). */
interface Caller {
  jti: string;
  clientId: string;
  sub: string;
  task: string | null;
  scopes: string[];
}

/**
 * Creates the credential-injecting proxy.
 *
 * @example
 * const vault = createUpstreamVault(masterKey);
 * const proxy = createCredentialProxy({
 *   getUpstream: (name) => store.getUpstream(name),
 *   verifyToken: (token, ctx) => broker.verifyProxyToken(token, ctx),
 *   openSecret: (upstream) => vault.open(upstream),
 *   appendEvent: (event) => appendEvent(store, event),
 *   proxyUrl: 'https://keyward.example/proxy',
 * });
 * const res = await proxy.handle({ method: 'GET', upstreamName: 'github', path: '/repos/acme/api',
 *   query: '', headers: req.headers, body: null });
 */
export function createCredentialProxy(deps: CredentialProxyDeps) {
  const clock = deps.clock ?? systemClock;
  const monotonic = deps.monotonicMs ?? (() => performance.now());
  const timeouts = { ...DEFAULT_TIMEOUTS, ...deps.timeouts };
  const ownDispatcher =
    deps.dispatcher === undefined ? new Agent({ connect: { timeout: timeouts.connectMs } }) : null;
  const dispatcher: Dispatcher = deps.dispatcher ?? ownDispatcher!;
  const proxyUrl = deps.proxyUrl.replace(/\/+$/, '');

  const reportError = (
    error: unknown,
    stage: ProxyErrorStage,
    upstream: string,
    jti: string | null,
  ): void => {
    try {
      deps.onError?.(error, { stage, upstream, jti });
    } catch {
      // A failing error reporter must not turn into a failed request.
    }
  };

  /**
   * Appends one event: `{ seq }` (null when the appender does not say) once recorded; false (and onError) when
   * it could not be.
   */
  const record = async (
    event: NewEvent,
    upstream: string,
    jti: string,
  ): Promise<{ seq: number | null } | false> => {
    try {
      const appended = await deps.appendEvent(event);
      const seq = (appended as { seq?: unknown } | null | undefined)?.seq;
      return { seq: typeof seq === 'number' && Number.isSafeInteger(seq) ? seq : null };
    } catch (err) {
      reportError(err, 'audit', upstream, jti);
      return false;
    }
  };

  const eventOf = (type: string, time: string, caller: Caller, data: Record<string, unknown>): NewEvent => ({
    time,
    type,
    actor: eventName(caller.clientId) ?? 'unknown-agent',
    subject: eventName(caller.sub),
    data: { ...data, jti: caller.jti, clientId: caller.clientId, sub: caller.sub, task: caller.task },
  });

  async function handle(req: ProxyRequest): Promise<ProxyResponse> {
    const started = monotonic();
    const time = clock.now().toISOString();
    const name = req.upstreamName;
    const elapsed = () => Math.max(0, Math.round(monotonic() - started));

    // 1. The agent's token. Unknown names cannot exist, so they are answered before anything else.
    if (typeof name !== 'string' || name.length > MAX_UPSTREAM_NAME_LENGTH || !UPSTREAM_NAME.test(name)) {
      return json(404, 'not_found', 'no such upstream');
    }
    const auth = parseAuthorization(req.headers.authorization);
    if (!auth.ok) {
      if (auth.problem === 'missing') {
        // RFC 6750 §3.1: a request without credentials gets a challenge without an error code.
        return json(
          401,
          'invalid_request',
          'send the Keyward access token as Authorization: Bearer <token> or DPoP <token>',
          { 'www-authenticate': 'Bearer realm="keyward", DPoP realm="keyward"' },
        );
      }
      return json(400, 'invalid_request', 'the Authorization header is malformed', {
        'www-authenticate': challenge('Bearer', {
          error: 'invalid_request',
          error_description: 'the Authorization header is malformed',
        }),
      });
    }
    const dpopHeader = single(req.headers.dpop);
    if (dpopHeader === null || (typeof dpopHeader === 'string' && dpopHeader.includes(','))) {
      // RFC 9449 §4.3 check 1: exactly one DPoP header.
      const description = 'send at most one DPoP proof';
      return json(401, 'invalid_dpop_proof', description, {
        'www-authenticate': challenge('DPoP', {
          error: 'invalid_dpop_proof',
          error_description: description,
        }),
      });
    }
    const audience = upstreamAudience(name);
    let verified: ProxyTokenVerification;
    try {
      verified = await deps.verifyToken(auth.token, {
        audience,
        scheme: auth.scheme,
        dpopProof: dpopHeader,
        method: req.method,
        url: `${proxyUrl}/${name}${req.path}`,
      });
    } catch (err) {
      reportError(err, 'verify', name, null);
      return json(503, 'temporarily_unavailable', 'the token could not be checked; try again later');
    }
    if (!verified.ok) {
      const scheme =
        verified.error === 'invalid_dpop_proof' || verified.error === 'use_dpop_nonce' ? 'DPoP' : auth.scheme;
      return json(verified.status, verified.error, verified.description, {
        'www-authenticate': challenge(scheme, {
          error: verified.error,
          error_description: verified.description,
        }),
        ...lowerCaseKeys(verified.headers ?? {}),
      });
    }
    const claims = verified.claims;
    const caller: Caller = {
      jti: claims.jti,
      clientId: claims.client_id,
      sub: claims.sub,
      task: typeof claims.task === 'string' ? claims.task : null,
      scopes: typeof claims.scope === 'string' ? claims.scope.split(' ').filter((s) => s !== '') : [],
    };

    const deny = async (
      status: number,
      reason: ProxyDenialReason,
      error: string,
      description: string,
      extra: { path?: string; headers?: Record<string, string>; data?: Record<string, unknown> } = {},
    ): Promise<ProxyResponse> => {
      const path = (extra.path ?? (req.path === '' ? '/' : req.path)).slice(0, MAX_LOGGED_PATH_LENGTH);
      await record(
        eventOf(PROXY_EVENT_TYPES.denied, time, caller, {
          upstream: name,
          method: req.method,
          path,
          status,
          reason,
          scopes: caller.scopes,
          ...extra.data,
        }),
        name,
        caller.jti,
      );
      return json(status, error, description, extra.headers);
    };

    // 2. Defence in depth: the token must be for this upstream, whatever verifyToken checked.
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(audience)) {
      const description = `the token was not issued for upstream "${name}" (its aud must include "${audience}")`;
      return deny(401, 'wrong-audience', 'invalid_token', description, {
        headers: {
          'www-authenticate': challenge(auth.scheme, {
            error: 'invalid_token',
            error_description: description,
          }),
        },
      });
    }

    // 3. The upstream and the route.
    let upstream: Upstream | null;
    try {
      upstream = await deps.getUpstream(name);
    } catch (err) {
      reportError(err, 'lookup', name, caller.jti);
      return json(503, 'temporarily_unavailable', 'the upstream could not be looked up; try again later');
    }
    if (upstream === null) {
      return deny(404, 'unknown-upstream', 'not_found', `no upstream is named "${name}"`);
    }
    const query = normalizeProxyQuery(req.query);
    if (!query.ok) return deny(400, 'invalid-query', 'invalid_request', query.message);
    const decision = authorizeUpstreamCall(upstream, {
      method: req.method,
      path: req.path,
      scopes: caller.scopes,
    });
    if (!decision.ok) {
      switch (decision.reason) {
        case 'invalid-path':
          return deny(400, 'invalid-path', 'invalid_request', decision.message);
        case 'insufficient-scope': {
          // RFC 6750 §3.1: 403 with the scope needed in the challenge.
          const scope = decision.requiredScopes.join(' ');
          return deny(403, 'insufficient-scope', 'insufficient_scope', decision.message, {
            path: decision.path,
            data: { requiredScopes: decision.requiredScopes },
            headers: {
              'www-authenticate': challenge(auth.scheme, {
                error: 'insufficient_scope',
                error_description: decision.message,
                scope,
              }),
            },
          });
        }
        case 'method-not-allowed':
          return deny(405, 'method-not-allowed', 'method_not_allowed', decision.message, {
            path: decision.path,
            headers: { allow: decision.allowedMethods.join(', ') },
          });
        case 'no-route':
          return deny(403, 'no-route', 'route_not_allowed', decision.message, { path: decision.path });
      }
    }

    // 4. The request body: forwarded only when the request declares one (RFC 9112 §6.3).
    const declaredLength = single(req.headers['content-length']);
    const transferEncoding = req.headers['transfer-encoding'];
    if (declaredLength === null || (declaredLength !== undefined && !/^\d{1,15}$/.test(declaredLength))) {
      return deny(400, 'invalid-request', 'invalid_request', 'the Content-Length header is malformed', {
        path: decision.path,
      });
    }
    if (declaredLength !== undefined && transferEncoding !== undefined) {
      // RFC 9112 §6.1: both at once is how requests are smuggled.
      return deny(
        400,
        'invalid-request',
        'invalid_request',
        'send Content-Length or Transfer-Encoding, not both',
        {
          path: decision.path,
        },
      );
    }
    const hasBody =
      req.body !== null &&
      (transferEncoding !== undefined || (declaredLength !== undefined && declaredLength !== '0'));

    // 5. The credential.
    let secret: string;
    try {
      secret = await deps.openSecret(upstream);
    } catch (err) {
      reportError(err, 'vault', name, caller.jti);
      return deny(
        500,
        'vault-error',
        'server_error',
        `the credential of upstream "${name}" could not be opened`,
        {
          path: decision.path,
        },
      );
    }

    // 6. Record that the call starts, before anything reaches the upstream: a call the log cannot hold is
    // never forwarded, so no upstream side effect goes unrecorded (the outcome may still fail to be written).
    const start = {
      upstream: name,
      upstreamId: upstream.id,
      method: req.method,
      path: decision.path,
      scope: decision.route.scope,
    };
    const startRecord = await record(
      eventOf(PROXY_EVENT_TYPES.started, time, caller, start),
      name,
      caller.jti,
    );
    if (startRecord === false) {
      return json(
        500,
        'audit_log_unavailable',
        `the call to upstream "${name}" could not be recorded, so it was not forwarded; try again later`,
      );
    }

    // 7. Forward.
    let bytesIn = 0;
    let requestBodyFailed = false;
    let forwardBody: Transform | null = null;
    if (hasBody && req.body !== null) {
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback: TransformCallback) {
          bytesIn += chunk.length;
          callback(null, chunk);
        },
      });
      // pipe, not pipeline: a failed upstream request must not destroy the agent's request stream (and
      // with it the connection the error response goes out on).
      const source = req.body;
      source.once('error', (err) => {
        requestBodyFailed = true;
        counter.destroy(err);
      });
      source.pipe(counter);
      forwardBody = counter;
    }

    const baseUrl = upstream.baseUrl.replace(/\/+$/, '');
    const url = `${baseUrl}${decision.path}${query.path === '' ? '' : `?${query.path}`}`;
    const callData = (
      status: number | null,
      outcome: ProxyCallOutcome,
      bytesOut: number,
      latencyMs: number,
    ) => ({
      ...start,
      status,
      outcome,
      bytesIn,
      bytesOut,
      latencyMs,
      durationMs: elapsed(),
      startSeq: startRecord.seq,
    });
    const recordCall = (
      status: number | null,
      outcome: ProxyCallOutcome,
      bytesOut: number,
      latencyMs: number,
    ) =>
      record(
        eventOf(PROXY_EVENT_TYPES.call, time, caller, callData(status, outcome, bytesOut, latencyMs)),
        name,
        caller.jti,
      ).then((recorded) => recorded !== false);

    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: req.method as Dispatcher.HttpMethod,
        headers: upstreamRequestHeaders(req.headers, upstream, secret, hasBody ? declaredLength : undefined),
        body: forwardBody,
        dispatcher,
        headersTimeout: timeouts.headersMs,
        bodyTimeout: timeouts.bodyMs,
        ...(req.signal === undefined ? {} : { signal: req.signal }),
      });
    } catch (err) {
      if (forwardBody !== null) req.body?.unpipe(forwardBody);
      const latencyMs = elapsed();
      const code = errorCode(err);
      if (isAbort(err)) {
        await recordCall(null, 'aborted', 0, latencyMs);
        return json(400, 'invalid_request', 'the request was aborted by the client');
      }
      if (requestBodyFailed || code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') {
        await recordCall(null, 'request-body-error', 0, latencyMs);
        return json(
          400,
          'invalid_request',
          'the request body ended early or did not match its Content-Length',
        );
      }
      if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') {
        await recordCall(504, 'timeout', 0, latencyMs);
        const what = code === 'UND_ERR_CONNECT_TIMEOUT' ? 'accept the connection' : 'answer';
        return json(504, 'gateway_timeout', `upstream "${name}" did not ${what} in time`);
      }
      await recordCall(502, 'upstream-unreachable', 0, latencyMs);
      // Only the error code: an error message could quote a header, and headers hold the credential.
      return json(
        502,
        'bad_gateway',
        `upstream "${name}" could not be reached (${code ?? 'connection failed'})`,
      );
    }

    const latencyMs = elapsed();
    const status = response.statusCode;
    const headers = agentResponseHeaders(response.headers);
    const bodyless =
      req.method === 'HEAD' ||
      status === 204 ||
      status === 304 ||
      (status >= 100 && status < 200) ||
      single(response.headers['content-length']) === '0';
    if (bodyless) {
      await response.body.dump().catch(() => undefined);
      // Nothing to hold back: the call is recorded before the agent learns its outcome, or not answered.
      if (!(await recordCall(status, 'completed', 0, latencyMs))) {
        return json(
          502,
          'audit_log_unavailable',
          `upstream "${name}" answered, but the call could not be recorded, so the answer is withheld; the upstream may have acted on the request`,
        );
      }
      return { status, headers, body: Readable.from([]) };
    }
    return {
      status,
      headers,
      body: auditedBody(response.body, declaredResponseLength(response.headers), (outcome, bytesOut) =>
        recordCall(status, outcome, bytesOut, latencyMs),
      ),
    };
  }

  /** Adds `resource_metadata` to each challenge of a 401 (RFC 9728 §5.1). */
  const withResourceMetadata = (req: ProxyRequest, res: ProxyResponse): ProxyResponse => {
    const value = res.headers['www-authenticate'];
    if (res.status !== 401 || !deps.resourceMetadataUrl || typeof value !== 'string') return res;
    if (!UPSTREAM_NAME.test(req.upstreamName)) return res;
    const param = `resource_metadata=${quoted(deps.resourceMetadataUrl(req.upstreamName))}`;
    const challenges = splitChallenges(value);
    const extended = challenges.map((c) =>
      /^(?:Bearer|DPoP)$/.test(c) ? `${c} ${param}` : `${c}, ${param}`,
    );
    return { ...res, headers: { ...res.headers, 'www-authenticate': extended.join(', ') } };
  };

  return {
    handle: async (req: ProxyRequest): Promise<ProxyResponse> => withResourceMetadata(req, await handle(req)),
    /** Closes the proxy's own connection pool (not a dispatcher passed in deps). */
    async close(): Promise<void> {
      await ownDispatcher?.close();
    },
  };
}

/** The proxy: `handle(request)` and `close()`. */
export type CredentialProxy = ReturnType<typeof createCredentialProxy>;

/** The response's Content-Length when it is one well-formed number, else null. */
function declaredResponseLength(headers: Record<string, string | string[] | undefined>): number | null {
  const value = single(headers['content-length']);
  return typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : null;
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Raised into the response stream when the finished call could not be recorded: the response is cut off. */
class CallNotRecordedError extends Error {
  constructor() {
    super('the proxied call could not be recorded in the event log; the response was cut off');
    this.name = 'CallNotRecordedError';
  }
}

/**
 * Streams the upstream's response body to the agent, counting bytes, and records the call when it ends. The
 * response is completed only once the record is written: with a Content-Length, the chunk that reaches it is
 * held back until then; without one, the end of the stream (the terminating chunk the HTTP layer writes) is.
 * When the record cannot be written the stream fails instead, so the agent never receives a complete response
 * of a call the log does not hold. Every other chunk passes on at once (server-sent events are not delayed),
 * and the body is never buffered whole.
 */
function auditedBody(
  source: Readable,
  contentLength: number | null,
  finish: (outcome: ProxyCallOutcome, bytesOut: number) => Promise<boolean>,
): Readable {
  let bytesOut = 0;
  let held: Buffer | null = null;
  let settled = false;
  const settle = (outcome: ProxyCallOutcome): Promise<boolean> => {
    if (settled) return Promise.resolve(true);
    settled = true;
    return finish(outcome, bytesOut);
  };
  const out = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      bytesOut += chunk.length;
      if (contentLength !== null && bytesOut >= contentLength) {
        held = held === null ? chunk : Buffer.concat([held, chunk]);
        callback();
      } else {
        callback(null, chunk);
      }
    },
    flush(this: Transform, callback: TransformCallback) {
      void settle('completed').then((recorded) => {
        if (!recorded) {
          callback(new CallNotRecordedError());
          return;
        }
        if (held !== null) this.push(held);
        held = null;
        callback();
      });
    },
  });
  pipeline(source, out, (err) => {
    if (!err) return;
    const code = errorCode(err);
    const outcome: ProxyCallOutcome =
      code === 'UND_ERR_BODY_TIMEOUT'
        ? 'timeout'
        : code === 'ERR_STREAM_PREMATURE_CLOSE' || isAbort(err)
          ? 'aborted'
          : 'upstream-error';
    // Nobody waits for this record any more; a failure reaches onError through `finish`.
    void settle(outcome);
  });
  return out;
}
