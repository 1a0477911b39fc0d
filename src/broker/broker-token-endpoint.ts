/**
 * The token endpoint (RFC 6749 §3.2) of the broker, framework-independent: it takes the form fields, the client
 * credentials from the Authorization header, the DPoP header, the endpoint URL and the client's address, and
 * answers with the status, JSON body and headers the HTTP layer sends as they are.
 *
 * Grants: `client_credentials`, token exchange (RFC 8693) and the CIBA poll grant that collects a token once a
 * person approved it. Client authentication: client_secret_basic, client_secret_post, private_key_jwt
 * (RFC 7523) and federated workload tokens sent as a client assertion. DPoP (RFC 9449) binds tokens to the
 * client's key. Every issuance, refusal and exchange is appended to the audit log before the answer is
 * returned; when the log cannot be written no token leaves (500 `server_error`).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { decodeJwt, type JSONWebKeySet, type JWTPayload } from 'jose';
import { createEventBatcher } from '../audit/index.js';
import type { Agent, AgentType, FederatedBinding, FederatedIssuer } from '../core/broker-types.js';
import { ConflictError } from '../core/errors.js';
import { deriveKey } from '../core/fingerprint.js';
import { matchesPattern } from '../core/glob-match.js';
import type { Clock } from '../core/time.js';
import type { NewEvent } from '../core/types.js';
import type { BrokerStore, Store } from '../store/index.js';
import type { ApprovalDesk } from './broker-approvals.js';
import { decide } from './broker-decide.js';
import type { BrokerKeyring } from './broker-keyring.js';
import { BROKER_PATHS, GRANT_TYPES, TOKEN_TYPES } from './broker-metadata.js';
import { upstreamAudience } from './proxy/credential-proxy.js';
import { UPSTREAM_NAME } from './proxy/upstream-vault.js';
import { describeValue, toErrorDescription, type BrokerPolicy } from './broker-policy.js';
import {
  actChainDepth,
  mintAccessToken,
  type AccessTokenClaims,
  type AccessTokenVerification,
  type ActorClaim,
} from './broker-tokens.js';
import {
  CLIENT_ASSERTION_TYPE,
  peekClientAssertion,
  verifyClientAssertion,
  verifyClientSecret,
} from './client-auth.js';
import { verifyDpopProof, type ReplayCheck } from './dpop.js';
import type { TokenSigner } from './token-signer.js';
import type { FederatedTokenVerifier } from './federated-token.js';
import {
  evaluateExchange,
  exchangeRequestedScope,
  type ActorTokenClaims,
  type SubjectTokenClaims,
} from './token-exchange-rules.js';

/** Error codes the broker's OAuth endpoints answer with (RFC 6749 §5.2, RFC 8707, RFC 9449, CIBA, RFC 8628). */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'authorization_pending'
  | 'slow_down'
  | 'access_denied'
  | 'expired_token'
  | 'server_error';

/** An OAuth error body (RFC 6749 §5.2); approval answers add the request id and polling interval. */
export interface OAuthErrorBody {
  error: OAuthErrorCode;
  /** Plain ASCII without `"` or `\` (RFC 6749 §5.2); never holds a secret or a token. */
  error_description: string;
  /** With `authorization_pending` on the first answer: the id to poll with (CIBA `auth_req_id`). */
  auth_req_id?: string;
  /** With `authorization_pending` and `slow_down`: seconds to wait between polls. */
  interval?: number;
}

/** An error answer: the HTTP status, the JSON body and the headers to send. */
export interface OAuthErrorResponse {
  status: 400 | 401 | 500;
  body: OAuthErrorBody;
  /** Always `Cache-Control: no-store`; `WWW-Authenticate` after a failed HTTP Basic login; `DPoP-Nonce`. */
  headers: Record<string, string>;
}

/** A successful token response (RFC 6749 §5.1, RFC 8693 §2.2.1, RFC 9449 §5). */
export interface TokenSuccessBody {
  access_token: string;
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope: string;
  /** Token exchange only: the type of the issued token. */
  issued_token_type?: string;
}

/** What the token endpoint answers. */
export type TokenEndpointResponse =
  { status: 200; body: TokenSuccessBody; headers: Record<string, string> } | OAuthErrorResponse;

/** A token request as the HTTP layer hands it over. */
export interface TokenEndpointRequest {
  /** The form fields (`application/x-www-form-urlencoded`); a field sent twice must be refused before this. */
  params: Readonly<Record<string, string | undefined>>;
  /** Client id and secret from `Authorization: Basic`, already form-decoded (RFC 6749 §2.3.1). */
  basicAuth?: { clientId: string; clientSecret: string };
  /** The one `DPoP` header, when sent. */
  dpopProof?: string;
  /** The HTTP method (the token endpoint accepts POST only). */
  method: string;
  /** The endpoint's public URL (what clients use as DPoP `htu` and client assertion `aud`). */
  url: string;
  /** The client's address, or null when unknown. */
  sourceIp: string | null;
}

/** How a client authenticated. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'federated';

/** An authenticated, active client. */
export interface AuthenticatedClient {
  agent: Agent;
  method: ClientAuthMethod;
}

/** The outcome of client authentication: the client, or the answer that refuses it. */
export type ClientAuthentication =
  | { ok: true; client: AuthenticatedClient }
  | { ok: false; response: OAuthErrorResponse; reason: string; clientId: string | null };

/** The settings the token endpoint uses. */
export interface TokenEndpointConfig {
  issuer: string;
  defaultTokenTtlSeconds: number;
  maxTokenTtlSeconds: number;
  dpopIatWindowSeconds: number;
  dpopNonce: boolean;
  approvalPollIntervalSeconds: number;
}

/** What the token endpoint needs from the store. */
export type TokenEndpointStore = Pick<
  BrokerStore,
  'getAgentByClientId' | 'getAgentType' | 'getFederatedIssuer' | 'checkAndRecordReplay' | 'touchAgentUsed'
> &
  Pick<Store, 'appendEvents'>;

/** What the token endpoint is built from. */
export interface TokenEndpointDeps {
  store: TokenEndpointStore;
  clock: Clock;
  config: TokenEndpointConfig;
  masterKey: Buffer;
  keyring: Pick<BrokerKeyring, 'signingKey'>;
  /**
   * The latest cutoff (epoch ms) of the revocations that reach a token with these claims, or null: issuance
   * waits for the next whole second when a revocation fell in the current one (see `issue`).
   */
  revocationCutoff?: (claims: {
    sub: string;
    task?: string;
    act?: ActorClaim;
    agent_type_id: string;
  }) => number | null;
  /** Computes token signatures (worker threads); default: on the calling thread. */
  signer?: TokenSigner;
  approvals: ApprovalDesk;
  /** The parsed policy of an agent type (cached by the caller). */
  policyOf: (type: AgentType) => BrokerPolicy;
  /** Verifies a token this broker issued: signature, issuer, expiry and revocation; no audience. */
  verifyOwnToken: (
    token: string,
  ) => Promise<AccessTokenVerification | { ok: false; reason: string; message: string }>;
  /** The verifier of a configured federated issuer (cached by the caller). */
  federatedVerifier: (issuer: FederatedIssuer) => FederatedTokenVerifier;
  onError: (err: unknown) => void;
}

const SUPPORTED_GRANTS: readonly string[] = [
  GRANT_TYPES.clientCredentials,
  GRANT_TYPES.tokenExchange,
  GRANT_TYPES.ciba,
];
const EXCHANGE_TOKEN_TYPES: readonly string[] = [TOKEN_TYPES.accessToken, TOKEN_TYPES.jwt];
const CLIENT_ID = /^kwc_[0-9a-z_-]{8,100}$/;
const AUTH_FAILED = 'client authentication failed';
const AUTH_REQUIRED =
  'client authentication is required: use client_secret_basic, client_secret_post, private_key_jwt or a federated workload token';
/** Successful secret checks are remembered this long, so a client does not pay scrypt on every request. */
const SECRET_CACHE_MS = 300_000;
const SECRET_CACHE_MAX = 10_000;
/** How long an agent or agent type read from the store is used before it is read again. */
const AGENT_CACHE_MS = 1000;
/** The agent's last-used time is written at most this often per agent. */
const TOUCH_INTERVAL_MS = 60_000;
/** Actor of events when no client authenticated. */
const ANONYMOUS = 'anonymous';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

/** An OAuth error answer. */
export function oauthError(
  status: 400 | 401 | 500,
  error: OAuthErrorCode,
  description: string,
  extra: { headers?: Record<string, string>; auth_req_id?: string; interval?: number } = {},
): OAuthErrorResponse {
  const { headers, ...fields } = extra;
  return {
    status,
    body: { error, error_description: toErrorDescription(description), ...fields },
    headers: { ...NO_STORE, ...headers },
  };
}

/** A form field's value, or null when absent or empty (RFC 6749 §3.1: empty parameters count as omitted). */
function field(params: Readonly<Record<string, string | undefined>>, name: string): string | null {
  const v = Object.hasOwn(params, name) ? params[name] : undefined;
  return typeof v === 'string' && v !== '' ? v : null;
}

/** A value from the request that may go into an event: bounded and without control characters. */
function eventText(value: string | null, max = 200): string | null {
  if (value === null) return null;
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** Reads the `iss` of a JWT without verifying anything; null when it is not a readable JWT. */
function unverifiedIssuer(token: string): string | null {
  if (token.length > 16 * 1024) return null;
  try {
    const iss = decodeJwt(token).iss;
    return typeof iss === 'string' && iss !== '' ? iss : null;
  } catch {
    return null;
  }
}

function claimValue(claims: JWTPayload, name: string): unknown {
  if (!name.startsWith('/')) return Object.hasOwn(claims, name) ? claims[name] : undefined;
  // RFC 6901 JSON Pointer into nested claims (`/kubernetes.io/namespace`).
  let node: unknown = claims;
  for (const raw of name.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, key)) {
      return undefined;
    }
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * True when a workload token's claims satisfy a federated binding: every bound claim is present as a single
 * value and matches its pattern (Keyward glob: `*` any run of characters, `?` one). A binding without claims
 * never matches: it would let every workload of the issuer in.
 */
export function bindingMatches(binding: FederatedBinding, claims: JWTPayload): boolean {
  const entries = Object.entries(binding.claims);
  if (entries.length === 0) return false;
  return entries.every(([name, pattern]) => {
    const value = claimValue(claims, name);
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return false;
    return matchesPattern(pattern, String(value));
  });
}

/**
 * Server-issued DPoP nonces (RFC 9449 §8): stateless, an HMAC of the current time window under a key derived
 * from the master key, so every replica accepts every other's nonces. The current and the previous window's
 * nonce are accepted.
 */
export function createDpopNonces(masterKey: Buffer, clock: Clock, windowSeconds: number) {
  const key = deriveKey(masterKey, 'dpop-nonce');
  const windowMs = Math.max(1, windowSeconds) * 1000;
  const nonceFor = (w: number): string =>
    `${w.toString(36)}.${createHmac('sha256', key).update(String(w)).digest('base64url').slice(0, 22)}`;
  const windowOf = (): number => Math.floor(clock.now().getTime() / windowMs);
  return {
    current: (): string => nonceFor(windowOf()),
    accepted: (): string[] => [nonceFor(windowOf()), nonceFor(windowOf() - 1)],
  };
}

/** Facts of an issued token for the audit log and the answer. */
interface IssueInput {
  agent: Agent;
  method: ClientAuthMethod;
  grantType: string;
  subject: string;
  resource: string;
  scopes: string[];
  ttlSeconds: number;
  task: string | null;
  purpose: string | null;
  jkt: string | null;
  sourceIp: string | null;
  policyVersion: number;
  act?: ActorClaim;
  approval?: { id: string; approver: string };
  exchange?: Record<string, unknown>;
}

/** A subject or actor token that passed verification, with what exchange looks at. */
type ExchangeToken =
  | {
      ok: true;
      claims: SubjectTokenClaims & { task?: string; purpose?: string };
      jti: string | null;
      /** Keyward's own tokens: the resources it was issued for. */
      audience: string[] | null;
      /** RFC 9449 §6: the thumbprint of the key the token is bound to (cnf.jkt), or null. */
      jkt: string | null;
    }
  | { ok: false; description: string };

/**
 * Creates the token endpoint.
 * @example
 * const endpoint = createTokenEndpoint(deps);
 * const res = await endpoint.token({ params: body, basicAuth, dpopProof, method: 'POST', url, sourceIp });
 * reply.code(res.status).headers(res.headers).send(res.body);
 */
export function createTokenEndpoint(deps: TokenEndpointDeps) {
  const { store, clock, config, approvals } = deps;
  const nonces = config.dpopNonce
    ? createDpopNonces(deps.masterKey, clock, config.dpopIatWindowSeconds)
    : null;
  const secretMacKey = deriveKey(deps.masterKey, 'client-secret-cache');
  const secretCache = new Map<string, { mac: Buffer; hash: string; until: number }>();
  // Concurrent first requests of one client with one secret share a single scrypt run: 64 parallel misses
  // would otherwise queue 64 scrypt computations (32 MiB each) on libuv's 4 threads for seconds.
  const secretChecks = new Map<string, Promise<boolean>>();
  const touched = new Map<string, number>();
  const eventLog = createEventBatcher(store);
  // Agents and agent types are read once a second at most per process: a disabled agent or a changed policy
  // counts everywhere within AGENT_CACHE_MS, and at once in the process that made the change (forgetClient).
  const agentCache = readThroughCache((clientId: string) => store.getAgentByClientId(clientId));
  const typeCache = readThroughCache((id: string) => store.getAgentType(id));

  const nowIso = (): string => clock.now().toISOString();

  // RFC 9728 names an upstream behind the proxy by its URL (`<issuer>/proxy/<name>`), which MCP clients send as
  // `resource`; policies, tokens and the proxy name it `keyward:upstream:<name>`.
  const proxyPrefix = `${config.issuer}${BROKER_PATHS.proxy}/`;
  const canonicalResource = (resource: string): string => {
    if (!resource.startsWith(proxyPrefix)) return resource;
    const name = resource.slice(proxyPrefix.length).replace(/\/$/, '');
    return UPSTREAM_NAME.test(name) ? upstreamAudience(name) : resource;
  };

  const replay =
    (namespace: string): ReplayCheck =>
    (id, expiresAt) =>
      store.checkAndRecordReplay(namespace, id, expiresAt.toISOString(), nowIso());

  // --- the audit log -----------------------------------------------------------------------------------

  /** Appends events; false when the log could not be written (the caller then answers 500). */
  const record = async (events: NewEvent[]): Promise<boolean> => {
    try {
      // Group commit: concurrent requests share a transaction, and each waits until its own events are in.
      await eventLog.append(events);
      return true;
    } catch (err) {
      deps.onError(err);
      return false;
    }
  };

  const logFailure = (): OAuthErrorResponse =>
    oauthError(
      500,
      'server_error',
      'the request could not be recorded in the audit log, so no token was issued; try again later',
    );

  /** Logs a refusal (`broker.token.denied`) and returns the refusal, or 500 when the log is down. */
  const refuse = async (
    response: OAuthErrorResponse,
    facts: {
      grantType: string | null;
      clientId: string | null;
      agent?: Agent;
      reason?: string;
      sourceIp: string | null;
    },
  ): Promise<OAuthErrorResponse> => {
    const clientId = facts.agent?.clientId ?? eventText(facts.clientId);
    const ok = await record([
      {
        time: nowIso(),
        type: 'broker.token.denied',
        actor: facts.agent?.id ?? ANONYMOUS,
        subject: facts.agent?.id ?? null,
        data: {
          clientId,
          agentId: facts.agent?.id ?? null,
          grantType: eventText(facts.grantType),
          error: response.body.error,
          description: response.body.error_description,
          reason: facts.reason ?? null,
          sourceIp: eventText(facts.sourceIp),
        },
      },
    ]);
    return ok ? response : logFailure();
  };

  // --- client authentication -----------------------------------------------------------------------------

  const secretMac = (secret: string): Buffer =>
    createHmac('sha256', secretMacKey).update(secret, 'utf8').digest();

  const checkSecret = async (agent: Agent | null, secret: string): Promise<boolean> => {
    const hash = agent?.auth.secretHash ?? null;
    const mac = secretMac(secret);
    if (agent && hash !== null) {
      const cached = secretCache.get(agent.clientId);
      // Both MACs are 32 bytes: compared in constant time.
      if (cached && cached.hash === hash && cached.until > Date.now() && timingSafeEqual(cached.mac, mac)) {
        return true;
      }
    }
    // With no agent or no secret a dummy hash is checked, so the answer takes as long either way.
    const flightKey =
      agent && hash !== null ? `${agent.clientId}\u0000${hash}\u0000${mac.toString('base64url')}` : null;
    const pending = flightKey ? secretChecks.get(flightKey) : undefined;
    if (pending) return pending;
    const check = verifyClientSecret(secret, hash).then((ok) => {
      if (ok && agent && hash !== null) {
        if (secretCache.size >= SECRET_CACHE_MAX) secretCache.clear();
        secretCache.set(agent.clientId, {
          mac,
          hash,
          until: Date.now() + SECRET_CACHE_MS,
        });
      }
      return ok;
    });
    if (flightKey) {
      secretChecks.set(flightKey, check);
      void check.finally(() => secretChecks.delete(flightKey)).catch(() => undefined);
    }
    return check;
  };

  const findAgent = async (clientId: string): Promise<Agent | null> =>
    CLIENT_ID.test(clientId) ? agentCache.get(clientId) : null;

  const findAgentType = (id: string): Promise<AgentType | null> => typeCache.get(id);

  const unauthorized = (
    description: string,
    reason: string,
    clientId: string | null,
    basic = false,
  ): ClientAuthentication => ({
    ok: false,
    response: oauthError(401, 'invalid_client', description, {
      ...(basic ? { headers: { 'www-authenticate': 'Basic realm="keyward", charset="UTF-8"' } } : {}),
    }),
    reason,
    clientId,
  });

  const badRequest = (
    description: string,
    reason: string,
    clientId: string | null,
  ): ClientAuthentication => ({
    ok: false,
    response: oauthError(400, 'invalid_request', description),
    reason,
    clientId,
  });

  const active = (agent: Agent, method: ClientAuthMethod, basic = false): ClientAuthentication =>
    agent.status === 'active'
      ? { ok: true, client: { agent, method } }
      : unauthorized('this client is disabled', 'agent-disabled', agent.clientId, basic);

  const bySecret = async (
    clientId: string,
    secret: string,
    method: 'client_secret_basic' | 'client_secret_post',
  ): Promise<ClientAuthentication> => {
    const basic = method === 'client_secret_basic';
    const agent = await findAgent(clientId);
    if (!(await checkSecret(agent, secret))) {
      const reason = !agent ? 'unknown-client' : agent.auth.secretHash === null ? 'no-secret' : 'bad-secret';
      return unauthorized(AUTH_FAILED, reason, clientId, basic);
    }
    return active(agent!, method, basic);
  };

  const byPrivateKeyJwt = async (
    assertion: string,
    clientIdParam: string | null,
    url: string,
  ): Promise<ClientAuthentication> => {
    const peek = peekClientAssertion(assertion);
    if (!peek.ok) {
      return unauthorized(
        `client assertion rejected: ${peek.message}`,
        `assertion-${peek.reason}`,
        clientIdParam,
      );
    }
    if (clientIdParam !== null && clientIdParam !== peek.clientId) {
      return unauthorized(
        'client_id differs from the issuer of the client assertion',
        'client-id-mismatch',
        clientIdParam,
      );
    }
    const agent = await findAgent(peek.clientId);
    if (!agent || !agent.auth.jwks) {
      return unauthorized(AUTH_FAILED, agent ? 'no-jwks' : 'unknown-client', peek.clientId);
    }
    const result = await verifyClientAssertion(assertion, {
      clientId: agent.clientId,
      jwks: agent.auth.jwks as JSONWebKeySet,
      tokenEndpoint: url,
      issuer: config.issuer,
      checkReplay: replay('client-assertion'),
      clock,
    });
    if (!result.ok) {
      return unauthorized(
        `client assertion rejected: ${result.message}`,
        `assertion-${result.reason}`,
        agent.clientId,
      );
    }
    return active(agent, 'private_key_jwt');
  };

  const byWorkloadToken = async (
    token: string,
    issuer: FederatedIssuer,
    clientIdParam: string | null,
  ): Promise<ClientAuthentication> => {
    if (clientIdParam === null) {
      return unauthorized(
        'client_id is required with a federated workload token: it names the agent',
        'federated-no-client-id',
        null,
      );
    }
    const agent = await findAgent(clientIdParam);
    const bindings = agent?.auth.federated.filter((b) => b.issuer === issuer.issuer) ?? [];
    if (!agent || bindings.length === 0) {
      return unauthorized(AUTH_FAILED, agent ? 'federated-no-binding' : 'unknown-client', clientIdParam);
    }
    const result = await deps.federatedVerifier(issuer).verify(token);
    if (!result.ok) {
      return unauthorized(
        `workload token rejected: ${result.message}`,
        `federated-${result.reason}`,
        agent.clientId,
      );
    }
    if (!bindings.some((b) => bindingMatches(b, result.claims))) {
      return unauthorized(
        "workload token rejected: its claims match none of this agent's bindings for the issuer",
        'federated-claim-mismatch',
        agent.clientId,
      );
    }
    return active(agent, 'federated');
  };

  /**
   * Authenticates the client of a token, revocation or introspection request (RFC 6749 §2.3): exactly one of
   * HTTP Basic, client_secret in the form, or a client assertion (private_key_jwt, or a workload token from a
   * configured federated issuer with client_id naming the agent). Disabled agents are refused.
   */
  const authenticateClient = async (req: {
    params: Readonly<Record<string, string | undefined>>;
    basicAuth?: { clientId: string; clientSecret: string };
    url: string;
  }): Promise<ClientAuthentication> => {
    const p = req.params;
    const clientIdParam = field(p, 'client_id');
    const secretPost = field(p, 'client_secret');
    const assertion = field(p, 'client_assertion');
    const assertionType = field(p, 'client_assertion_type');
    const used = [
      req.basicAuth !== undefined,
      secretPost !== null,
      assertion !== null || assertionType !== null,
    ];
    if (used.filter(Boolean).length > 1) {
      return badRequest(
        'the client used more than one authentication method; use exactly one (RFC 6749 section 2.3)',
        'several-methods',
        req.basicAuth?.clientId ?? clientIdParam,
      );
    }
    if (req.basicAuth) {
      const { clientId, clientSecret } = req.basicAuth;
      if (clientIdParam !== null && clientIdParam !== clientId) {
        return badRequest(
          'client_id differs from the client authenticated with HTTP Basic',
          'client-id-mismatch',
          clientId,
        );
      }
      return bySecret(clientId, clientSecret, 'client_secret_basic');
    }
    if (secretPost !== null) {
      if (clientIdParam === null) {
        return badRequest('client_secret was sent without client_id', 'no-client-id', null);
      }
      return bySecret(clientIdParam, secretPost, 'client_secret_post');
    }
    if (assertion !== null || assertionType !== null) {
      if (assertion === null || assertionType === null) {
        return badRequest(
          'client_assertion and client_assertion_type must be sent together',
          'incomplete-assertion',
          clientIdParam,
        );
      }
      if (assertionType !== CLIENT_ASSERTION_TYPE) {
        return unauthorized(
          `client_assertion_type is not supported; use ${CLIENT_ASSERTION_TYPE}`,
          'assertion-type',
          clientIdParam,
        );
      }
      const iss = unverifiedIssuer(assertion);
      // A client id is never a URL, so an assertion whose iss is a configured issuer is a workload token.
      const federated = iss !== null && !CLIENT_ID.test(iss) ? await store.getFederatedIssuer(iss) : null;
      return federated
        ? byWorkloadToken(assertion, federated, clientIdParam)
        : byPrivateKeyJwt(assertion, clientIdParam, req.url);
    }
    return unauthorized(AUTH_REQUIRED, 'no-authentication', clientIdParam);
  };

  // --- issuing ---------------------------------------------------------------------------------------------

  const headersFor = (jkt: string | null): Record<string, string> =>
    nonces && jkt !== null ? { ...NO_STORE, 'dpop-nonce': nonces.current() } : { ...NO_STORE };

  /** The lifetime after the installation's caps: never beyond the max, and the default for unnamed lifetimes. */
  const capTtl = (ttlSeconds: number): number =>
    Math.max(1, Math.min(ttlSeconds, config.defaultTokenTtlSeconds, config.maxTokenTtlSeconds));

  const touch = (agent: Agent): void => {
    const now = clock.now().getTime();
    const last = touched.get(agent.id);
    if (last !== undefined && now - last >= 0 && now - last < TOUCH_INTERVAL_MS) return;
    if (touched.size >= SECRET_CACHE_MAX) touched.clear();
    touched.set(agent.id, now);
    // Housekeeping: a failure here must not take back a token that was issued and logged.
    store.touchAgentUsed(agent.id, new Date(now).toISOString()).catch(deps.onError);
  };

  /**
   * A token's iat has whole seconds, and a revocation of "everything issued until now" covers every iat below
   * its cutoff (ms). A token issued at 12:00:00.900 after a revocation at 12:00:00.300 would carry iat 12:00:00
   * and be born revoked; it is issued at the next second instead (a wait of under a second, only then).
   */
  const waitPastRevocation = async (input: IssueInput): Promise<void> => {
    const cutoff = deps.revocationCutoff?.({
      sub: input.subject,
      agent_type_id: input.agent.agentTypeId,
      ...(input.task === null ? {} : { task: input.task }),
      ...(input.act === undefined ? {} : { act: input.act }),
    });
    if (cutoff === null || cutoff === undefined) return;
    const now = clock.now().getTime();
    const iatMs = Math.floor(now / 1000) * 1000;
    // Only a revocation already in the past, in this very second, is waited out.
    if (cutoff <= iatMs || cutoff > now) return;
    await new Promise<void>((resolve) => setTimeout(resolve, iatMs + 1000 - now));
  };

  const issue = async (input: IssueInput): Promise<TokenEndpointResponse> => {
    const { agent } = input;
    await waitPastRevocation(input);
    const key = await deps.keyring.signingKey();
    const minted = await mintAccessToken(
      {
        key,
        issuer: config.issuer,
        subject: input.subject,
        audience: input.resource,
        scope: input.scopes,
        ttlSeconds: input.ttlSeconds,
        clientId: agent.clientId,
        ...(input.task === null ? {} : { task: input.task }),
        ...(input.purpose === null ? {} : { purpose: input.purpose }),
        ...(input.act === undefined ? {} : { act: input.act }),
        ...(input.jkt === null ? {} : { cnfJkt: input.jkt }),
        ...(input.approval === undefined ? {} : { approval: input.approval }),
        extra: { agent_type_id: agent.agentTypeId },
        ...(deps.signer ? { signer: deps.signer } : {}),
      },
      clock,
    );
    if (input.approval) {
      // The approval yields one token: it is marked used before the token leaves the broker.
      try {
        await approvals.markUsed(input.approval.id, minted.jti, agent.id);
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        return refuse(oauthError(400, 'invalid_grant', 'this approval was already used for a token'), {
          grantType: input.grantType,
          clientId: agent.clientId,
          agent,
          reason: 'approval-used',
          sourceIp: input.sourceIp,
        });
      }
    }
    const depth = actChainDepth(input.act);
    const time = minted.issuedAt;
    const events: NewEvent[] = [
      {
        time,
        type: 'broker.token.issued',
        actor: agent.id,
        subject: agent.id,
        data: {
          jti: minted.jti,
          agentId: agent.id,
          agentTypeId: agent.agentTypeId,
          clientId: agent.clientId,
          grantType: input.grantType,
          authMethod: input.method,
          sub: input.subject,
          scopes: input.scopes,
          resource: input.resource,
          task: input.task,
          purpose: input.purpose,
          iat: minted.issuedAt,
          exp: minted.expiresAt,
          dpopJkt: input.jkt,
          policyVersion: input.policyVersion,
          sourceIp: eventText(input.sourceIp),
          ...(input.approval ? { approvalId: input.approval.id, approver: input.approval.approver } : {}),
          ...(depth > 0 ? { actChainDepth: depth } : {}),
        },
      },
    ];
    if (input.exchange) {
      events.push({
        time,
        type: 'broker.token.exchanged',
        actor: agent.id,
        subject: agent.id,
        data: {
          jti: minted.jti,
          agentId: agent.id,
          clientId: agent.clientId,
          ...input.exchange,
          actChainDepth: depth,
          scopes: input.scopes,
          resource: input.resource,
          exp: minted.expiresAt,
        },
      });
    }
    // Fail closed: a token whose issuance is not in the log is never handed out.
    if (!(await record(events))) return logFailure();
    touch(agent);
    return {
      status: 200,
      body: {
        access_token: minted.token,
        token_type: input.jkt === null ? 'Bearer' : 'DPoP',
        expires_in: input.ttlSeconds,
        scope: input.scopes.join(' '),
        ...(input.exchange ? { issued_token_type: TOKEN_TYPES.accessToken } : {}),
      },
      headers: headersFor(input.jkt),
    };
  };

  // --- token exchange helpers -----------------------------------------------------------------------------

  /** Verifies a subject or actor token: Keyward's own with its JWKS, others with a configured issuer's. */
  const verifyExchangeToken = async (token: string, role: 'subject' | 'actor'): Promise<ExchangeToken> => {
    const iss = unverifiedIssuer(token);
    if (iss === null) return { ok: false, description: `the ${role} token is not a readable JWT` };
    if (iss === config.issuer) {
      const result = await deps.verifyOwnToken(token);
      if (!result.ok) return { ok: false, description: `${role} token rejected: ${result.message}` };
      const c: AccessTokenClaims = result.claims;
      return {
        ok: true,
        claims: {
          iss: c.iss,
          sub: c.sub,
          exp: c.exp,
          scope: c.scope ?? null,
          client_id: c.client_id,
          act: c.act,
          may_act: c.may_act,
          ...(c.task === undefined ? {} : { task: c.task }),
          ...(c.purpose === undefined ? {} : { purpose: c.purpose }),
        },
        jti: c.jti,
        audience: typeof c.aud === 'string' ? [c.aud] : [...c.aud],
        jkt: boundKey(c),
      };
    }
    const issuer = await store.getFederatedIssuer(iss);
    if (!issuer) {
      return { ok: false, description: `the ${role} token's issuer is not trusted by this broker` };
    }
    const result = await deps.federatedVerifier(issuer).verify(token);
    if (!result.ok) return { ok: false, description: `${role} token rejected: ${result.message}` };
    const c = result.claims;
    return {
      ok: true,
      claims: {
        iss: issuer.issuer,
        sub: result.subject,
        exp: c.exp as number,
        scope: typeof c.scope === 'string' ? c.scope : null,
        client_id: typeof c.client_id === 'string' ? c.client_id : null,
        act: c.act,
        may_act: c.may_act,
      },
      jti: typeof c.jti === 'string' ? c.jti : null,
      audience: null,
      jkt: boundKey(c),
    };
  };

  // --- the grants --------------------------------------------------------------------------------------------

  interface GrantContext {
    req: TokenEndpointRequest;
    grantType: string;
    client: AuthenticatedClient;
    type: AgentType;
    policy: BrokerPolicy;
    jkt: string | null;
    now: Date;
  }

  const refuseFor = (ctx: GrantContext, response: OAuthErrorResponse, reason?: string) =>
    refuse(response, {
      grantType: ctx.grantType,
      clientId: ctx.client.agent.clientId,
      agent: ctx.client.agent,
      sourceIp: ctx.req.sourceIp,
      ...(reason === undefined ? {} : { reason }),
    });

  const clientCredentials = async (ctx: GrantContext): Promise<TokenEndpointResponse> => {
    const p = ctx.req.params;
    const { agent } = ctx.client;
    const resource = canonicalResource(field(p, 'resource') ?? '');
    const task = field(p, 'task');
    const purpose = field(p, 'purpose');
    const decision = decide(ctx.policy, {
      scope: field(p, 'scope') ?? '',
      resource,
      claims: { task, purpose },
      dpop: ctx.jkt !== null,
      sourceIp: ctx.req.sourceIp,
      now: ctx.now,
    });
    if (decision.effect === 'deny') {
      return refuseFor(ctx, oauthError(400, decision.error, decision.description), 'policy');
    }
    if (decision.needsApproval.length > 0) {
      const approval = await approvals.request(
        {
          agent,
          scopes: decision.scopes,
          resource,
          task,
          purpose,
          timeoutSeconds: decision.approvalTimeoutSeconds ?? 600,
        },
        agent.id,
      );
      const interval = config.approvalPollIntervalSeconds;
      return oauthError(
        400,
        'authorization_pending',
        `a person must approve ${decision.needsApproval.join(' ')}; poll with grant_type=${GRANT_TYPES.ciba} and this auth_req_id every ${interval} seconds`,
        { auth_req_id: approval.id, interval },
      );
    }
    return issue({
      agent,
      method: ctx.client.method,
      grantType: ctx.grantType,
      subject: agent.id,
      resource,
      scopes: decision.scopes,
      ttlSeconds: capTtl(decision.ttlSeconds),
      task,
      purpose,
      jkt: ctx.jkt,
      sourceIp: ctx.req.sourceIp,
      policyVersion: ctx.type.policyVersion,
    });
  };

  const poll = async (ctx: GrantContext): Promise<TokenEndpointResponse> => {
    const { agent } = ctx.client;
    const id = field(ctx.req.params, 'auth_req_id');
    if (id === null) {
      return refuseFor(ctx, oauthError(400, 'invalid_request', 'the auth_req_id parameter is missing'));
    }
    const found = await approvals.poll(id, agent.id);
    switch (found.state) {
      case 'unknown':
        return refuseFor(
          ctx,
          oauthError(400, 'invalid_grant', 'auth_req_id is unknown or was issued to another client'),
          'approval-unknown',
        );
      case 'pending':
        return oauthError(
          400,
          'authorization_pending',
          `a person has not decided yet; keep polling every ${found.interval} seconds`,
          { interval: found.interval },
        );
      case 'slow-down':
        return oauthError(
          400,
          'slow_down',
          `polling too fast; wait ${found.interval} seconds between requests`,
          { interval: found.interval },
        );
      case 'denied':
        return refuseFor(
          ctx,
          oauthError(400, 'access_denied', 'a person denied the request'),
          'approval-denied',
        );
      case 'expired':
        return refuseFor(
          ctx,
          oauthError(400, 'expired_token', 'nobody approved the request before its deadline; ask again'),
          'approval-expired',
        );
      case 'used':
        return refuseFor(
          ctx,
          oauthError(400, 'invalid_grant', 'this approval was already used for a token'),
          'approval-used',
        );
      case 'approved':
        break;
    }
    const approval = found.approval;
    // Decided again now: the policy, the source address and the time may have changed since the request.
    const decision = decide(ctx.policy, {
      scope: approval.scopes,
      resource: approval.resource ?? '',
      claims: { task: approval.task, purpose: approval.purpose },
      dpop: ctx.jkt !== null,
      sourceIp: ctx.req.sourceIp,
      now: ctx.now,
    });
    if (decision.effect === 'deny') {
      return refuseFor(ctx, oauthError(400, decision.error, decision.description), 'policy');
    }
    return issue({
      agent,
      method: ctx.client.method,
      grantType: ctx.grantType,
      subject: agent.id,
      resource: decision.resource,
      scopes: decision.scopes.filter((s) => approval.scopes.includes(s)),
      ttlSeconds: capTtl(decision.ttlSeconds),
      task: approval.task,
      purpose: approval.purpose,
      jkt: ctx.jkt,
      sourceIp: ctx.req.sourceIp,
      policyVersion: ctx.type.policyVersion,
      approval: { id: approval.id, approver: approval.decidedBy ?? 'unknown' },
    });
  };

  const exchange = async (ctx: GrantContext): Promise<TokenEndpointResponse> => {
    const p = ctx.req.params;
    const { agent } = ctx.client;
    const bad = (description: string, reason: string, error: OAuthErrorCode = 'invalid_request') =>
      refuseFor(ctx, oauthError(400, error, description), reason);

    if (!ctx.policy.exchange.allowed) {
      // RFC 6749 §5.2: this client may not use this grant type. Same words as evaluateExchange.
      return bad(
        `agent type ${ctx.policy.agentType} may not exchange tokens (exchange.allowed is false)`,
        'exchange-not-allowed',
        'unauthorized_client',
      );
    }
    const subjectToken = field(p, 'subject_token');
    const subjectType = field(p, 'subject_token_type');
    const actorToken = field(p, 'actor_token');
    const actorType = field(p, 'actor_token_type');
    const requestedType = field(p, 'requested_token_type');
    if (subjectToken === null) return bad('the subject_token parameter is missing', 'request');
    if (subjectType === null) return bad('the subject_token_type parameter is missing', 'request');
    const supported = `${TOKEN_TYPES.accessToken} or ${TOKEN_TYPES.jwt}`;
    if (!EXCHANGE_TOKEN_TYPES.includes(subjectType)) {
      return bad(
        `subject_token_type '${describeValue(subjectType)}' is not supported; use ${supported}`,
        'request',
      );
    }
    if (actorToken !== null && actorType === null) {
      return bad('actor_token_type is required with actor_token', 'request');
    }
    if (actorToken === null && actorType !== null) {
      return bad('actor_token_type was sent without actor_token', 'request');
    }
    if (actorType !== null && !EXCHANGE_TOKEN_TYPES.includes(actorType)) {
      return bad(
        `actor_token_type '${describeValue(actorType)}' is not supported; use ${supported}`,
        'request',
      );
    }
    if (requestedType !== null && !EXCHANGE_TOKEN_TYPES.includes(requestedType)) {
      return bad(
        `requested_token_type '${describeValue(requestedType)}' is not supported; this broker issues ${TOKEN_TYPES.accessToken}`,
        'request',
      );
    }
    if (field(p, 'audience') !== null) {
      return bad(
        'the audience parameter is not supported; name the API the token is for with resource (RFC 8707)',
        'request',
        'invalid_target',
      );
    }

    const subject = await verifyExchangeToken(subjectToken, 'subject');
    if (!subject.ok) return bad(subject.description, 'subject-token');
    // A sender-constrained token is only good to whoever holds its key (RFC 9449 §6): exchanging it without
    // proving possession would turn a stolen DPoP-bound token into a usable one.
    if (subject.jkt !== null && subject.jkt !== ctx.jkt) {
      return bad(
        ctx.jkt === null
          ? 'the subject token is DPoP-bound; send a DPoP proof made with the key it is bound to'
          : 'the subject token is bound to another DPoP key than the proof of this request',
        'subject-token-dpop',
        'invalid_grant',
      );
    }
    const requestedResource = field(p, 'resource');
    let resource = requestedResource === null ? null : canonicalResource(requestedResource);
    if (subject.audience !== null) {
      // Scopes are per resource: an exchanged token is for the resource its subject token was issued for.
      if (resource === null && subject.audience.length === 1) resource = subject.audience[0]!;
      if (resource !== null && !subject.audience.includes(resource)) {
        return bad(
          `the subject token was not issued for resource '${describeValue(resource)}'; an exchanged token is for the resource of its subject token`,
          'subject-audience',
          'invalid_target',
        );
      }
    }
    let actor: ActorTokenClaims | null = null;
    if (actorToken !== null) {
      const verified = await verifyExchangeToken(actorToken, 'actor');
      if (!verified.ok) return bad(verified.description, 'actor-token');
      if (verified.jkt !== null && verified.jkt !== ctx.jkt) {
        return bad(
          'the actor token is DPoP-bound; send a DPoP proof made with the key it is bound to',
          'actor-token-dpop',
          'invalid_grant',
        );
      }
      actor = {
        iss: verified.claims.iss,
        sub: verified.claims.sub,
        exp: verified.claims.exp,
        client_id: verified.claims.client_id ?? null,
      };
    }

    // Delegation keeps the task and purpose of the subject token unless the request names its own.
    const task = field(p, 'task') ?? subject.claims.task ?? null;
    const purpose = field(p, 'purpose') ?? subject.claims.purpose ?? null;
    const requested = exchangeRequestedScope(field(p, 'scope') ?? '', subject.claims);
    const decision = decide(ctx.policy, {
      scope: requested,
      resource: resource ?? '',
      claims: { task, purpose },
      dpop: ctx.jkt !== null,
      sourceIp: ctx.req.sourceIp,
      now: ctx.now,
    });
    const outcome = evaluateExchange({
      policy: ctx.policy,
      decision,
      subject: subject.claims,
      actor,
      client: { sub: agent.id, clientId: agent.clientId },
      requestedScope: requested,
      resource: resource ?? '',
      now: ctx.now,
    });
    if (!outcome.ok) return bad(outcome.description, 'exchange', outcome.error);
    // Exchange cannot wait for a person: scopes behind approval are left out (RFC 6749 §3.3 narrower scope).
    const scopes = outcome.scopes.filter((s) => !outcome.needsApproval.includes(s));
    if (scopes.length === 0) {
      return bad(
        `${outcome.needsApproval.join(' ')} need a person's approval, which token exchange cannot ask for; request them with client_credentials`,
        'exchange-approval',
        'invalid_scope',
      );
    }
    return issue({
      agent,
      method: ctx.client.method,
      grantType: ctx.grantType,
      subject: outcome.sub,
      resource: outcome.resource,
      scopes,
      ttlSeconds: capTtl(outcome.ttlSeconds),
      task,
      purpose,
      jkt: ctx.jkt,
      sourceIp: ctx.req.sourceIp,
      policyVersion: ctx.type.policyVersion,
      act: outcome.act,
      exchange: {
        subjectToken: { iss: subject.claims.iss, sub: subject.claims.sub, jti: subject.jti },
        actorToken: actor ? { iss: actor.iss, sub: actor.sub } : null,
        actors: actorSubs(outcome.act),
        droppedForApproval: outcome.needsApproval,
      },
    });
  };

  const handle = async (req: TokenEndpointRequest): Promise<TokenEndpointResponse> => {
    const p = req.params;
    const grantType = field(p, 'grant_type');
    const anonymous = {
      grantType,
      clientId: req.basicAuth?.clientId ?? field(p, 'client_id'),
      sourceIp: req.sourceIp,
    };
    if (req.method !== 'POST') {
      return refuse(
        oauthError(400, 'invalid_request', 'the token endpoint accepts POST requests only'),
        anonymous,
      );
    }
    if (grantType === null) {
      return refuse(oauthError(400, 'invalid_request', 'the grant_type parameter is missing'), anonymous);
    }
    if (!SUPPORTED_GRANTS.includes(grantType)) {
      return refuse(
        oauthError(
          400,
          'unsupported_grant_type',
          `grant type '${describeValue(grantType)}' is not supported; use ${SUPPORTED_GRANTS.join(', ')}`,
        ),
        anonymous,
      );
    }

    // DPoP first: a missing or stale nonce is answered before the client pays for its authentication.
    let jkt: string | null = null;
    if (req.dpopProof !== undefined && req.dpopProof !== '') {
      const proof = await verifyDpopProof(req.dpopProof, {
        htm: req.method,
        htu: req.url,
        clock,
        maxAgeSeconds: config.dpopIatWindowSeconds,
        ...(nonces ? { nonce: nonces.accepted() } : {}),
        checkReplay: replay('dpop'),
      });
      if (!proof.ok) {
        const headers: Record<string, string> = nonces ? { 'dpop-nonce': nonces.current() } : {};
        return refuse(oauthError(400, proof.error, proof.message, { headers }), {
          ...anonymous,
          reason: `dpop-${proof.reason}`,
        });
      }
      jkt = proof.jkt;
    }

    const auth = await authenticateClient(req);
    if (!auth.ok) {
      return refuse(auth.response, { ...anonymous, clientId: auth.clientId, reason: auth.reason });
    }
    const { agent } = auth.client;
    const type = await findAgentType(agent.agentTypeId);
    if (!type)
      throw new Error(`agent ${agent.id} names agent type ${agent.agentTypeId}, which does not exist`);
    const ctx: GrantContext = {
      req,
      grantType,
      client: auth.client,
      type,
      policy: deps.policyOf(type),
      jkt,
      now: clock.now(),
    };
    if (grantType === GRANT_TYPES.clientCredentials) return clientCredentials(ctx);
    if (grantType === GRANT_TYPES.tokenExchange) return exchange(ctx);
    return poll(ctx);
  };

  return {
    authenticateClient,

    /**
     * Answers a token request. Never throws: an unexpected failure (the store down) is reported to `onError`
     * and answered with 500 `server_error`.
     */
    async token(req: TokenEndpointRequest): Promise<TokenEndpointResponse> {
      try {
        return await handle(req);
      } catch (err) {
        deps.onError(err);
        return oauthError(500, 'server_error', 'the broker could not process the request; try again later');
      }
    },

    /** Forgets the cached secret check of a client (its secret changed or it was disabled). */
    forgetClient(clientId: string): void {
      secretCache.delete(clientId);
      agentCache.delete(clientId);
    },

    /** Forgets a cached agent type (its policy changed in this process). */
    forgetAgentType(id: string): void {
      typeCache.delete(id);
    },

    /** Resolves once every event the endpoint appended was written (for a clean shutdown). */
    drain(): Promise<void> {
      return eventLog.drain();
    },
  };
}

/** The cnf.jkt of a token's claims (RFC 9449 §6.1), or null when it is not DPoP-bound. */
function boundKey(claims: JWTPayload): string | null {
  const cnf = claims.cnf;
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) return null;
  const jkt = (cnf as Record<string, unknown>).jkt;
  // A cnf with anything but a usable thumbprint binds the token to a key nobody can prove: never matches.
  return typeof jkt === 'string' && jkt !== '' ? jkt : '\u0000unusable';
}

/** A read-through cache of store reads, each kept AGENT_CACHE_MS, at most SECRET_CACHE_MAX entries. */
function readThroughCache<T>(read: (key: string) => Promise<T>) {
  const entries = new Map<string, { value: T; until: number }>();
  return {
    async get(key: string): Promise<T> {
      const now = Date.now();
      const cached = entries.get(key);
      if (cached && cached.until > now) return cached.value;
      const value = await read(key);
      if (entries.size >= SECRET_CACHE_MAX) entries.clear();
      entries.set(key, { value, until: now + AGENT_CACHE_MS });
      return value;
    },
    delete: (key: string): void => void entries.delete(key),
  };
}

function actorSubs(act: ActorClaim | undefined): string[] {
  const out: string[] = [];
  for (let a = act; a !== undefined; a = a.act) out.push(a.sub);
  return out;
}

/** The token endpoint's interface. */
export type TokenEndpoint = ReturnType<typeof createTokenEndpoint>;
