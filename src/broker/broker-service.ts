/**
 * The credential broker as one service: agent types and their policies, agents (OAuth clients) and federated
 * issuers, signing keys, the token endpoint, introspection and revocation, approvals, `explain`, and the
 * discovery documents. Framework-independent: the HTTP layer and the CLI call these methods and send or print
 * what they return. The pure parts it wires together live beside it (policy, decide, token exchange rules,
 * crypto); the store holds the state and logs every change.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { createEventBatcher } from '../audit/index.js';
import { decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import { z } from 'zod';
import {
  toAgentSummary,
  toUpstreamSummary,
  type Agent,
  type AgentStatus,
  type AgentSummary,
  type AgentType,
  type Approval,
  type FederatedBinding,
  type FederatedIssuer,
  type JsonWebKeySet,
  type Revocation,
  type RevocationKind,
  type Saved,
  type UpstreamSummary,
} from '../core/broker-types.js';
import { canonicalJson } from '../core/canonical-json.js';
import { NotFoundError, ValidationError, type ErrorDetail } from '../core/errors.js';
import type { Fingerprinter } from '../core/fingerprint.js';
import type { Clock } from '../core/time.js';
import type { ApprovalFilter, BrokerStore, Page, PageQuery, Store } from '../store/index.js';
import { createApprovalDesk } from './broker-approvals.js';
import { hasPrivateMembers } from './broker-jwt.js';
import { explain as explainPolicy, type PolicyExplanation } from './broker-decide.js';
import { createBrokerKeyring, type KeyRotationResult } from './broker-keyring.js';
import {
  authorizationServerMetadata,
  BROKER_PATHS,
  brokerEndpoints,
  protectedResourceMetadata,
  type AuthorizationServerMetadata,
  type ProtectedResourceMetadata,
} from './broker-metadata.js';
import { isGlob, resourceMatches, type BrokerPolicy, type PolicySource } from './broker-policy.js';
import { MAX_POLICY_CHARS, parseBrokerPolicy, parseBrokerPolicyValue } from './broker-policy-parse.js';
import type { BrokerPolicyDocument } from './broker-policy-schema.js';
import { createRevocationCache } from './broker-revocations.js';
import {
  createTokenEndpoint,
  oauthError,
  type ClientAuthentication,
  type OAuthErrorResponse,
  type TokenEndpointRequest,
  type TokenEndpointResponse,
} from './broker-token-endpoint.js';
import { verifyAccessToken, type AccessTokenClaims, type AccessTokenVerification } from './broker-tokens.js';
import { CLIENT_SECRET_PREFIX, hashClientSecret, validateClientJwks } from './client-auth.js';
import { verifyDpopProof, type DpopError } from './dpop.js';
import { createFederatedTokenVerifier, type FederatedTokenVerifier } from './federated-token.js';
import { createTokenSigner } from './token-signer.js';
import {
  createCredentialProxy,
  upstreamAudience,
  type CredentialProxy,
  type CredentialProxyDeps,
  type ProxyTokenContext,
  type ProxyTokenVerification,
} from './proxy/credential-proxy.js';
import {
  createUpstreamVault,
  describeUpstreamInput,
  type DescribeUpstreamOptions,
} from './proxy/upstream-vault.js';

// ---------------------------------------------------------------------------------------------------------
// Configuration

/** Parses and normalises an issuer URL (RFC 8414 §2: http(s), no query or fragment); null when it is not one. */
export function normalizeIssuer(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') return null;
  if (value.includes('?') || value.includes('#')) return null;
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

/** The broker's settings; `issuer` is filled in from host and port when not given. */
export const brokerConfigSchema = z
  .object({
    issuer: z
      .string()
      .refine((v) => normalizeIssuer(v) !== null, {
        message:
          'must be an http(s) URL without query, fragment or user name, such as https://keyward.example',
      })
      .optional()
      .describe(
        "The broker's issuer URL (iss of its tokens, base of its endpoints); default http://<host>:<port>",
      ),
    defaultTokenTtlSeconds: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(900)
      .describe('Longest lifetime of a token whose request names none (policies may set shorter ones)'),
    maxTokenTtlSeconds: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(3600)
      .describe('Longest lifetime of any token; a retired signing key stays published this long'),
    keyRotationDays: z
      .number()
      .positive()
      .max(3650)
      .default(30)
      .describe('How long a signing key signs before its successor takes over'),
    revocationPollIntervalMs: z
      .number()
      .int()
      .min(10)
      .max(60_000)
      .default(250)
      .describe('How often each process reads new revocations from the store'),
    dpopIatWindowSeconds: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .default(60)
      .describe('How old a DPoP proof (its iat) may be'),
    dpopNonce: z
      .boolean()
      .default(false)
      .describe('Require server-issued DPoP nonces at the token endpoint (RFC 9449 section 8)'),
    approvalPollIntervalSeconds: z
      .number()
      .int()
      .min(1)
      .max(600)
      .default(5)
      .describe('Seconds a client waits between polls for an approval'),
    signingThreads: z
      .number()
      .int()
      .min(0)
      .max(16)
      .optional()
      .describe(
        'Worker threads that sign tokens while the main thread serves requests; 0 signs inline. Default: 1 when the machine has more than one CPU, else 0',
      ),
  })
  .strict()
  .refine((c) => c.defaultTokenTtlSeconds <= c.maxTokenTtlSeconds, {
    message: 'defaultTokenTtlSeconds must not be longer than maxTokenTtlSeconds',
    path: ['defaultTokenTtlSeconds'],
  });

/** The broker's settings with the issuer resolved. */
export type BrokerConfig = Readonly<Omit<z.output<typeof brokerConfigSchema>, 'issuer'> & { issuer: string }>;

// ---------------------------------------------------------------------------------------------------------
// Types of the service's API

/** The store methods the broker uses. */
export type BrokerServiceStore = BrokerStore & Pick<Store, 'appendEvents'>;

/** What the broker service is built from. */
export interface BrokerServiceDeps {
  store: BrokerServiceStore;
  /** The installation's master key: seals signing keys, keys the DPoP nonces. */
  masterKey: Buffer;
  fingerprinter: Pick<Fingerprinter, 'describe'>;
  clock: Clock;
  config: BrokerConfig;
  /** Random bytes (client secrets); crypto.randomBytes by default. */
  random?: (size: number) => Buffer;
  /** Receives unexpected errors the service answers with `server_error` (for the server's log). */
  onError?: (err: unknown) => void;
}

/** A policy to apply: a file's text (errors name file:line) or a value from an API body. */
export type AgentTypePolicyInput =
  | { fileName: string; text: string; expectedAgentType?: string }
  | {
      value: unknown;
      source?: string;
      expectedAgentType?: string;
      /** The JSON text `value` was parsed from (an API body), kept so that `explain` can name its lines. */
      text?: string;
    };

/** How a new agent logs in: a client secret, a JWKS for private_key_jwt, federated bindings (any combination). */
export interface AgentRegistration {
  name: string;
  /** Public keys for private_key_jwt client assertions. */
  jwks?: unknown;
  /** Workload-token bindings: a configured issuer and the claims (glob patterns) its tokens must carry. */
  federated?: FederatedBinding[];
  /** Create a client secret (shown once in the result). */
  withSecret: boolean;
}

/** A registered agent: its summary, client id, and the client secret, shown this once. */
export interface RegisteredAgent {
  agent: AgentSummary;
  clientId: string;
  /** Only when asked for; never stored or shown again. */
  clientSecret?: string;
  /** Keyed fingerprint and redacted preview of the secret, to recognise it later (e.g. in a leak). */
  clientSecretFingerprint?: { fingerprint: string; preview: string };
}

/** A federated issuer to save: JWKS by URL or inline. */
export interface FederatedIssuerRegistration {
  issuer: string;
  jwksUri?: string | null;
  jwks?: unknown;
  audience: string;
}

/** What to revoke: one token, everything of an agent, an agent type or a task, or everything issued before a time. */
export interface RevokeInput {
  kind: RevocationKind;
  /** The jti; an agent id or client id; an agent type id or name; a task; an ISO time for `issued-before`. */
  value: string;
  reason?: string | null;
}

/** An RFC 7662 introspection response. */
export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      iss: string;
      sub: string;
      aud: string | string[];
      scope?: string;
      client_id: string;
      exp: number;
      iat: number;
      nbf: number;
      jti: string;
      token_type: 'Bearer' | 'DPoP';
      act?: AccessTokenClaims['act'];
      cnf?: { jkt: string };
      task?: string;
      purpose?: string;
      approval?: { id: string; approver: string };
    };

/** A request to the revocation endpoint (RFC 7009): the form fields and the client's credentials. */
export type RevocationRequest = Pick<TokenEndpointRequest, 'params' | 'basicAuth' | 'url'>;

/** What the revocation endpoint answers: 200 (also for unknown tokens) or an OAuth error. */
export type RevocationResponse =
  { status: 200; body: Record<string, never>; headers: Record<string, string> } | OAuthErrorResponse;

/** Options of `verifyToken` (the proxy and other resource checks). */
export interface VerifyTokenOptions {
  /** The `DPoP` header of the request, when sent. */
  dpopProof?: string;
  method: string;
  /** The request's full URL as the client addressed it (DPoP `htu`). */
  url: string;
  /** When given, the token's `aud` must contain it. */
  audience?: string;
  /** The Authorization scheme the token came with; a DPoP-bound token sent as `Bearer` is refused. */
  scheme?: 'Bearer' | 'DPoP';
}

/** The outcome of `verifyToken`: the claims, or the 401 answer (with its WWW-Authenticate value). */
export type TokenVerification =
  | {
      ok: true;
      claims: AccessTokenClaims;
      scopes: string[];
      kid: string;
      /** The DPoP key the request proved, when the token is bound. */
      jkt: string | null;
      agentTypeId: string | null;
    }
  | {
      ok: false;
      status: 401;
      error: 'invalid_token' | DpopError;
      /** Stable: an access-token reason (`expired`, `revoked`, …), `dpop-required`, `dpop-key-mismatch`, … */
      reason: string;
      message: string;
      /** The WWW-Authenticate header value to answer with (RFC 6750 §3, RFC 9449 §7.1). */
      wwwAuthenticate: string;
    };

/** How the HTTP layer serves the proxy; the rest of its wiring comes from the service. */
export type BrokerProxyOptions = Pick<
  CredentialProxyDeps,
  'proxyUrl' | 'onError' | 'dispatcher' | 'timeouts'
>;

/** Input of `explain`: an agent (id or client id) or an agent type (id or name), and the request. */
export interface ExplainInput {
  agent?: string;
  agentType?: string;
  scope: string | readonly string[];
  resource: string;
  sourceIp?: string;
  at?: Date | string;
  dpop?: boolean;
  task?: string;
  purpose?: string;
}

/** The result of `explain`. */
export interface BrokerExplanation extends PolicyExplanation {
  agentType: { id: string; name: string; policyVersion: number; policySource: string };
  agent: AgentSummary | null;
}

/** The outcome of verifying one of the broker's own tokens. */
export type OwnTokenVerification =
  AccessTokenVerification | { ok: false; reason: 'revocation-unavailable'; message: string };

const LEEWAY_SECONDS = 5;
const APPROVAL_SWEEP_MS = 10_000;
const AGENT_NAME_MAX = 100;

// ---------------------------------------------------------------------------------------------------------

/**
 * Creates the broker service. Works without `start()` (keys are created on first use, revocations read when
 * stale); `start()` creates keys up front and starts the background timers, `close()` stops them.
 * @example
 * const broker = createBrokerService({ store, masterKey, fingerprinter, clock: systemClock, config: app.config.broker });
 * await broker.start();
 * await broker.applyAgentType({ fileName: 'support.yaml', text }, 'cli');
 * const { clientId, clientSecret } = await broker.registerAgent('support-agent', { name: 'bot-1', withSecret: true }, 'cli');
 * const res = await broker.token({ params: { grant_type: 'client_credentials', scope: 'repo:read',
 *   resource: 'https://api.github.com' }, basicAuth: { clientId, clientSecret: clientSecret! },
 *   method: 'POST', url: broker.endpoints.token, sourceIp: '10.0.0.7' });
 */
export function createBrokerService(deps: BrokerServiceDeps) {
  const { store, clock, config } = deps;
  const random = deps.random ?? randomBytes;
  const onError = deps.onError ?? (() => undefined);
  const endpoints = brokerEndpoints(config.issuer);

  const keyring = createBrokerKeyring({
    store,
    masterKey: deps.masterKey,
    clock,
    maxTokenTtlSeconds: config.maxTokenTtlSeconds,
    rotationPeriodSeconds: Math.round(config.keyRotationDays * 86_400),
  });
  const revocations = createRevocationCache({
    store,
    clock,
    pollIntervalMs: config.revocationPollIntervalMs,
    onError,
  });
  const approvals = createApprovalDesk({
    store,
    clock,
    pollIntervalSeconds: config.approvalPollIntervalSeconds,
  });

  // --- policies ------------------------------------------------------------------------------------------

  const policies = new Map<string, { version: string; policy: BrokerPolicy }>();

  /** The parsed policy of an agent type, cached per stored version. */
  const policyOf = (type: AgentType): BrokerPolicy => {
    const version = `${type.policyVersion}:${type.updatedAt}`;
    const cached = policies.get(type.id);
    if (cached && cached.version === version) return cached.policy;
    const { policy } = parseBrokerPolicyValue(type.policy, { where: `agent type ${type.name} policy` });
    policies.set(type.id, { version, policy });
    return policy;
  };

  /**
   * Where each field of an agent type's policy was written: the line map of the text it was applied from, when
   * the store has that text and it still reads as the stored policy; else the file name without lines (types
   * applied before migration 3, or without a text).
   */
  const policySourceOf = async (type: AgentType): Promise<PolicySource> => {
    const withoutLines: PolicySource = { fileName: type.policySource, lines: {} };
    let text: string | null;
    try {
      text = await store.getAgentTypePolicyText(type.id);
    } catch (err) {
      if (err instanceof NotFoundError) return withoutLines;
      throw err;
    }
    if (text === null) return withoutLines;
    try {
      const format = type.policySource === 'api' || /\.json$/i.test(type.policySource) ? 'json' : 'yaml';
      const parsed = parseBrokerPolicy(type.policySource, text, { format });
      const document = JSON.parse(JSON.stringify(parsed.document)) as unknown;
      return canonicalJson(document) === canonicalJson(type.policy) ? parsed.source : withoutLines;
    } catch {
      return withoutLines;
    }
  };

  const requireAgentType = async (idOrName: string): Promise<AgentType> => {
    const type = typeof idOrName === 'string' && idOrName !== '' ? await store.getAgentType(idOrName) : null;
    if (!type) throw new NotFoundError(`no agent type ${JSON.stringify(idOrName)}`);
    return type;
  };

  /** An agent by id (`agt_…`) or client id (`kwc_…`). */
  const findAgent = async (ref: string): Promise<Agent | null> => {
    if (typeof ref !== 'string' || ref === '') return null;
    return ref.startsWith('kwc_') ? store.getAgentByClientId(ref) : store.getAgent(ref);
  };

  const requireAgent = async (ref: string): Promise<Agent> => {
    const agent = await findAgent(ref);
    if (!agent) throw new NotFoundError(`no agent ${JSON.stringify(ref)} (give its id or client id)`);
    return agent;
  };

  // --- federated issuers -----------------------------------------------------------------------------------

  const verifiers = new Map<string, { version: string; verifier: FederatedTokenVerifier }>();

  const federatedVerifier = (issuer: FederatedIssuer): FederatedTokenVerifier => {
    const cached = verifiers.get(issuer.issuer);
    if (cached && cached.version === issuer.updatedAt) return cached.verifier;
    const verifier = createFederatedTokenVerifier(
      {
        issuer: issuer.issuer,
        audience: issuer.audience,
        jwks: (issuer.jwks as JSONWebKeySet | null) ?? issuer.jwksUri ?? { keys: [] },
      },
      { clock },
    );
    verifiers.set(issuer.issuer, { version: issuer.updatedAt, verifier });
    return verifier;
  };

  // --- verifying the broker's own tokens ------------------------------------------------------------------

  /**
   * Verifies a token this broker signed. The kid picks the key set: an unknown one reloads the stored keys (another
   * replica may have rotated). When the revocation list cannot be read the token is refused (fail closed).
   */
  const verifyOwn = async (
    token: string,
    options: { audience?: string; leewaySeconds?: number; checkRevocation?: boolean } = {},
  ): Promise<OwnTokenVerification> => {
    let kid: string | undefined;
    try {
      const header = typeof token === 'string' && token.length <= 16_384 ? decodeProtectedHeader(token) : {};
      if (typeof header.kid === 'string') kid = header.kid;
    } catch {
      kid = undefined;
    }
    const keys = await keyring.keySet(kid);
    let unavailable = false;
    const result = await verifyAccessToken(token, {
      jwks: keys,
      issuer: config.issuer,
      clock,
      leewaySeconds: options.leewaySeconds ?? LEEWAY_SECONDS,
      ...(options.audience === undefined ? {} : { audience: options.audience }),
      ...(options.checkRevocation === false
        ? {}
        : {
            isRevoked: async (claims: AccessTokenClaims) => {
              const check = await revocations.check(claims);
              if (check.revoked === 'unknown') unavailable = true;
              return check.revoked !== false;
            },
          }),
    });
    if (!result.ok && unavailable) {
      return {
        ok: false,
        reason: 'revocation-unavailable',
        message: 'the revocation list could not be read, so the token is refused; try again later',
      };
    }
    return result;
  };

  const signer = createTokenSigner({
    threads: config.signingThreads ?? (availableParallelism() > 1 ? 1 : 0),
    onError,
  });

  const endpoint = createTokenEndpoint({
    store,
    clock,
    config,
    masterKey: deps.masterKey,
    keyring,
    approvals,
    policyOf,
    verifyOwnToken: (token) => verifyOwn(token),
    federatedVerifier,
    signer,
    revocationCutoff: (claims) => revocations.latestCutoff(claims),
    onError,
  });

  // --- timers ------------------------------------------------------------------------------------------------

  let keyTimer: NodeJS.Timeout | null = null;
  let approvalTimer: NodeJS.Timeout | null = null;
  let started = false;

  const scheduleKeys = (): void => {
    const next = keyring.nextReviewAt();
    const untilReview = next === null ? Number.POSITIVE_INFINITY : Date.parse(next) - clock.now().getTime();
    const delay = Math.max(1_000, Math.min(60_000, untilReview));
    keyTimer = setTimeout(() => {
      keyring
        .ensureSigningKeys()
        .catch(onError)
        .finally(() => {
          if (started) scheduleKeys();
        });
    }, delay).unref();
  };

  // --- the service -------------------------------------------------------------------------------------------

  const actorCtx = (actor: string) => ({ time: clock.now().toISOString(), actor });

  const newClientSecret = (): string => CLIENT_SECRET_PREFIX + random(32).toString('base64url');

  const checkFederated = async (bindings: unknown): Promise<FederatedBinding[]> => {
    if (bindings === undefined || bindings === null) return [];
    if (!Array.isArray(bindings)) {
      throw new ValidationError('federated must be a list of bindings', {
        details: [{ path: 'federated', message: 'must be a list' }],
      });
    }
    const details: ErrorDetail[] = [];
    const out: FederatedBinding[] = [];
    for (const [i, b] of bindings.entries()) {
      const path = `federated[${i}]`;
      const binding = b as Partial<FederatedBinding> | null;
      if (typeof binding?.issuer !== 'string' || binding.issuer === '') {
        details.push({ path: `${path}.issuer`, message: 'must name a configured federated issuer' });
        continue;
      }
      if (!(await store.getFederatedIssuer(binding.issuer))) {
        details.push({
          path: `${path}.issuer`,
          message: `no federated issuer ${binding.issuer} is configured; save it first`,
        });
      }
      const claims = binding.claims;
      if (
        typeof claims !== 'object' ||
        claims === null ||
        Array.isArray(claims) ||
        Object.keys(claims).length === 0
      ) {
        details.push({
          path: `${path}.claims`,
          message:
            'must bind at least one claim (sub, repository, …); an empty binding would admit every workload',
        });
        continue;
      }
      for (const [name, pattern] of Object.entries(claims)) {
        if (name === '' || typeof pattern !== 'string' || pattern === '' || pattern === '*') {
          details.push({
            path: `${path}.claims.${name}`,
            message: 'must be a non-empty pattern that is not just *',
          });
        }
      }
      out.push({ issuer: binding.issuer, claims: { ...claims } });
    }
    if (details.length > 0) {
      throw new ValidationError(`${details[0]!.path}: ${details[0]!.message}`, { details });
    }
    return out;
  };

  const revocationFor = async (
    input: RevokeInput,
  ): Promise<{ kind: RevocationKind; value: string; issuedBefore: string | null; expiresAt: string }> => {
    const now = clock.now();
    // The latest expiry of any token issued up to now (plus the verifiers' leeway).
    const horizon = (from: number) =>
      new Date(from + (config.maxTokenTtlSeconds + LEEWAY_SECONDS) * 1000).toISOString();
    const value = typeof input.value === 'string' ? input.value.trim() : '';
    if (value === '') {
      throw new ValidationError('value must name what to revoke', {
        details: [{ path: 'value', message: 'must be a non-empty string' }],
      });
    }
    switch (input.kind) {
      case 'jti':
        return { kind: 'jti', value, issuedBefore: null, expiresAt: horizon(now.getTime()) };
      case 'agent': {
        const agent = await requireAgent(value);
        return {
          kind: 'agent',
          value: agent.id,
          issuedBefore: now.toISOString(),
          expiresAt: horizon(now.getTime()),
        };
      }
      case 'agent-type': {
        const type = await requireAgentType(value);
        return {
          kind: 'agent-type',
          value: type.id,
          issuedBefore: now.toISOString(),
          expiresAt: horizon(now.getTime()),
        };
      }
      case 'task':
        return { kind: 'task', value, issuedBefore: now.toISOString(), expiresAt: horizon(now.getTime()) };
      case 'issued-before': {
        const t = Date.parse(value);
        if (Number.isNaN(t)) {
          throw new ValidationError('value must be an ISO-8601 time for an issued-before revocation', {
            details: [{ path: 'value', message: 'not a timestamp such as 2026-01-01T00:00:00Z' }],
          });
        }
        return {
          kind: 'issued-before',
          value: '*',
          issuedBefore: new Date(t).toISOString(),
          expiresAt: horizon(Math.max(t, now.getTime())),
        };
      }
      default:
        throw new ValidationError('kind must be one of jti, agent, agent-type, task, issued-before', {
          details: [{ path: 'kind', message: 'unknown revocation kind' }],
        });
    }
  };

  const addRevocation = async (input: RevokeInput, actor: string): Promise<Revocation> => {
    const entry = await revocationFor(input);
    const reason = typeof input.reason === 'string' && input.reason.trim() !== '' ? input.reason : null;
    const revocation = await store.addRevocation({ ...entry, reason }, actorCtx(actor));
    revocations.apply(revocation);
    return revocation;
  };

  const scheme = (claims: AccessTokenClaims): 'Bearer' | 'DPoP' => (claims.cnf ? 'DPoP' : 'Bearer');

  const challenge = (kind: 'Bearer' | 'DPoP', error: string, message: string): string => {
    const description = message.replace(/"/g, "'").replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '?');
    const algs = kind === 'DPoP' ? ' algs="EdDSA ES256 ES384 ES512 PS256 RS256",' : '';
    return `${kind}${algs} error="${error}", error_description="${description}"`;
  };

  const refusal = (
    kind: 'Bearer' | 'DPoP',
    error: 'invalid_token' | DpopError,
    reason: string,
    message: string,
  ): TokenVerification => ({
    ok: false,
    status: 401,
    error,
    reason,
    message,
    wwwAuthenticate: challenge(kind, error, message),
  });

  /**
   * Verifies a token presented to a resource (the proxy): signature, issuer, expiry, audience when given,
   * revocation, and for DPoP-bound tokens the proof (htm, htu, iat, ath, jti replay) made with the bound key.
   */
  const verifyToken = async (token: string, options: VerifyTokenOptions): Promise<TokenVerification> => {
    const result = await verifyOwn(
      token,
      options.audience === undefined ? {} : { audience: options.audience },
    );
    if (!result.ok)
      return refusal(options.scheme ?? 'Bearer', 'invalid_token', result.reason, result.message);
    const claims = result.claims;
    const base = {
      ok: true as const,
      claims,
      scopes: result.scopes,
      kid: result.kid,
      agentTypeId: typeof claims.agent_type_id === 'string' ? claims.agent_type_id : null,
    };
    if (!claims.cnf) {
      if (options.scheme === 'DPoP') {
        return refusal(
          'DPoP',
          'invalid_token',
          'not-dpop-bound',
          'the token is not DPoP-bound; send it with the Bearer scheme',
        );
      }
      return { ...base, jkt: null };
    }
    // RFC 9449 §7.1: a bound token needs the DPoP scheme and a proof made with the bound key.
    if (options.scheme === 'Bearer') {
      return refusal(
        'DPoP',
        'invalid_token',
        'dpop-required',
        'the token is DPoP-bound; send it with the DPoP scheme and a DPoP proof',
      );
    }
    if (options.dpopProof === undefined || options.dpopProof === '') {
      return refusal(
        'DPoP',
        'invalid_token',
        'dpop-required',
        'the token is DPoP-bound; send a DPoP proof with the request',
      );
    }
    const proof = await verifyDpopProof(options.dpopProof, {
      htm: options.method,
      htu: options.url,
      accessToken: token,
      clock,
      maxAgeSeconds: config.dpopIatWindowSeconds,
      checkReplay: (id, expiresAt) =>
        store.checkAndRecordReplay('dpop', id, expiresAt.toISOString(), clock.now().toISOString()),
    });
    if (!proof.ok) return refusal('DPoP', proof.error, `dpop-${proof.reason}`, proof.message);
    if (proof.jkt !== claims.cnf.jkt) {
      return refusal(
        'DPoP',
        'invalid_dpop_proof',
        'dpop-key-mismatch',
        'the DPoP proof was made with another key than the one the token is bound to',
      );
    }
    return { ...base, jkt: proof.jkt };
  };

  const verifyProxyToken = async (
    token: string,
    context: ProxyTokenContext,
  ): Promise<ProxyTokenVerification> => {
    const result = await verifyToken(token, {
      audience: context.audience,
      scheme: context.scheme,
      method: context.method,
      url: context.url,
      ...(context.dpopProof === undefined ? {} : { dpopProof: context.dpopProof }),
    });
    if (result.ok) return { ok: true, claims: result.claims };
    return { ok: false, status: result.status, error: result.error, description: result.message };
  };

  return {
    /** The broker's endpoint URLs (token, introspection, revocation, JWKS). */
    endpoints,
    /** Paths of the endpoints relative to the issuer, for the HTTP layer's routes. */
    paths: BROKER_PATHS,
    /** The issuer URL. */
    issuer: config.issuer,

    /** Creates signing keys when needed and starts the background work (key rotation, revocation polling, approval expiry). */
    async start(): Promise<KeyRotationResult> {
      const result = await keyring.ensureSigningKeys();
      if (started) return result;
      started = true;
      revocations.start();
      scheduleKeys();
      approvalTimer = setInterval(() => {
        approvals.expireOverdue().catch(onError);
      }, APPROVAL_SWEEP_MS).unref();
      return result;
    },

    /** Stops the timers and waits for work in flight. */
    async close(): Promise<void> {
      started = false;
      if (keyTimer) clearTimeout(keyTimer);
      if (approvalTimer) clearInterval(approvalTimer);
      keyTimer = null;
      approvalTimer = null;
      await revocations.stop();
      await keyring.idle();
      await endpoint.drain();
      await signer.close();
    },

    // --- agent types -------------------------------------------------------------------------------------

    /**
     * Validates a policy (errors name file:line and field) and stores it as its agent type's policy; the name,
     * owner and description come from the policy. Unchanged policies write nothing.
     */
    async applyAgentType(
      input: AgentTypePolicyInput,
      actor: string,
    ): Promise<Saved<'agentType', AgentType> & { policy: BrokerPolicy }> {
      let parsed: { policy: BrokerPolicy; document: BrokerPolicyDocument };
      let source: string;
      let policyText: string | null;
      const expected =
        input.expectedAgentType === undefined ? {} : { expectedAgentType: input.expectedAgentType };
      if ('fileName' in input) {
        parsed = parseBrokerPolicy(input.fileName, input.text, expected);
        source = input.fileName;
        policyText = input.text;
      } else {
        parsed = parseBrokerPolicyValue(input.value, { where: 'policy', ...expected });
        source = input.source ?? 'api';
        policyText =
          typeof input.text === 'string' && input.text.length <= MAX_POLICY_CHARS && input.text.trim() !== ''
            ? input.text
            : null;
      }
      const saved = await store.upsertAgentType(
        {
          name: parsed.policy.agentType,
          owner: parsed.policy.owner,
          description: parsed.policy.description,
          policy: JSON.parse(JSON.stringify(parsed.document)) as Record<string, unknown>,
          policySource: source,
          policyText,
        },
        actorCtx(actor),
      );
      endpoint.forgetAgentType(saved.agentType.id);
      return { ...saved, policy: parsed.policy };
    },

    /** An agent type by id or name, or null. */
    getAgentType(idOrName: string): Promise<AgentType | null> {
      return store.getAgentType(idOrName);
    },

    /** Agent types ordered by name. */
    listAgentTypes(page: PageQuery = {}): Promise<Page<AgentType>> {
      return store.listAgentTypes(page);
    },

    /** The parsed policy of an agent type (by id or name). */
    async getPolicy(idOrName: string): Promise<BrokerPolicy> {
      return policyOf(await requireAgentType(idOrName));
    },

    // --- agents ------------------------------------------------------------------------------------------

    /**
     * Registers an agent of a type. The client secret, when asked for, is in the result once and never again
     * (only its scrypt hash is stored). Federated bindings must name configured issuers.
     */
    async registerAgent(typeName: string, input: AgentRegistration, actor: string): Promise<RegisteredAgent> {
      const type = await requireAgentType(typeName);
      const name = typeof input?.name === 'string' ? input.name.trim() : '';
      // eslint-disable-next-line no-control-regex
      if (name === '' || name.length > AGENT_NAME_MAX || /[\u0000-\u001f\u007f]/.test(name)) {
        throw new ValidationError(
          `name must be 1 to ${AGENT_NAME_MAX} characters without control characters`,
          {
            details: [{ path: 'name', message: 'missing, too long or with control characters' }],
          },
        );
      }
      const jwks =
        input.jwks === undefined || input.jwks === null ? null : await validateClientJwks(input.jwks, 'jwks');
      const federated = await checkFederated(input.federated);
      if (!input.withSecret && jwks === null && federated.length === 0) {
        throw new ValidationError(
          'the agent needs a way to log in: a client secret, a JWKS (private_key_jwt) or a federated binding',
          { details: [{ path: 'auth', message: 'no authentication method given' }] },
        );
      }
      const secret = input.withSecret ? newClientSecret() : null;
      const agent = await store.createAgent(
        {
          agentTypeId: type.id,
          name,
          auth: {
            secretHash: secret === null ? null : await hashClientSecret(secret),
            jwks: jwks as JsonWebKeySet | null,
            federated,
          },
        },
        actorCtx(actor),
      );
      return {
        agent,
        clientId: agent.clientId,
        ...(secret === null
          ? {}
          : { clientSecret: secret, clientSecretFingerprint: deps.fingerprinter.describe(secret) }),
      };
    },

    /** Replaces an agent's client secret; the new one is in the result once. */
    async resetClientSecret(ref: string, actor: string): Promise<RegisteredAgent> {
      const agent = await requireAgent(ref);
      const secret = newClientSecret();
      const updated = await store.updateAgent(
        agent.id,
        { auth: { secretHash: await hashClientSecret(secret) } },
        actorCtx(actor),
      );
      endpoint.forgetClient(agent.clientId);
      return {
        agent: updated,
        clientId: updated.clientId,
        clientSecret: secret,
        clientSecretFingerprint: deps.fingerprinter.describe(secret),
      };
    },

    /** An agent by id or client id, without its secret hash; null when absent. */
    async getAgent(ref: string): Promise<AgentSummary | null> {
      const agent = await findAgent(ref);
      return agent ? toAgentSummary(agent) : null;
    },

    /** Agents ordered by name; filter by agent type (id or name) and status. */
    async listAgents(
      filter: PageQuery & { agentType?: string; status?: AgentStatus } = {},
    ): Promise<Page<AgentSummary>> {
      const { agentType, ...rest } = filter;
      const agentTypeId = agentType === undefined ? undefined : (await requireAgentType(agentType)).id;
      return store.listAgents({ ...rest, ...(agentTypeId === undefined ? {} : { agentTypeId }) });
    },

    /**
     * Disables an agent: it can no longer authenticate, and the tokens it already holds are revoked (unless
     * `revokeTokens: false`).
     */
    async disableAgent(
      ref: string,
      actor: string,
      options: { reason?: string; revokeTokens?: boolean } = {},
    ): Promise<AgentSummary> {
      const agent = await requireAgent(ref);
      const updated = await store.updateAgent(agent.id, { status: 'disabled' }, actorCtx(actor));
      endpoint.forgetClient(agent.clientId);
      if (options.revokeTokens !== false) {
        await addRevocation(
          { kind: 'agent', value: agent.id, reason: options.reason ?? 'agent disabled' },
          actor,
        );
      }
      return updated;
    },

    /** Enables a disabled agent again (tokens revoked when it was disabled stay revoked). */
    async enableAgent(ref: string, actor: string): Promise<AgentSummary> {
      const agent = await requireAgent(ref);
      const updated = await store.updateAgent(agent.id, { status: 'active' }, actorCtx(actor));
      endpoint.forgetClient(agent.clientId);
      return updated;
    },

    /**
     * Saves a trusted workload-token issuer (GitHub Actions, a Kubernetes cluster, any OIDC issuer) with its JWKS
     * URL or inline JWKS and the audience its tokens must carry for Keyward.
     */
    async saveFederatedIssuer(
      input: FederatedIssuerRegistration,
      actor: string,
    ): Promise<Saved<'federatedIssuer', FederatedIssuer>> {
      const jwksUri = input.jwksUri ?? null;
      const jwks = input.jwks ?? null;
      if ((jwksUri === null) === (jwks === null)) {
        throw new ValidationError(
          "give the issuer's keys either as jwksUri or as jwks, not both or neither",
          {
            details: [{ path: 'jwksUri', message: 'exactly one of jwksUri and jwks is required' }],
          },
        );
      }
      if (jwks !== null) {
        const keys = (jwks as { keys?: unknown }).keys;
        if (!Array.isArray(keys) || keys.length === 0) {
          throw new ValidationError('jwks must be a JSON Web Key Set with at least one key', {
            details: [{ path: 'jwks.keys', message: 'missing or empty' }],
          });
        }
        const bad = keys.findIndex(
          (k: unknown) =>
            typeof k !== 'object' || k === null || hasPrivateMembers(k as Record<string, unknown>),
        );
        if (bad !== -1) {
          throw new ValidationError(`jwks.keys[${bad}] must be a public key`, {
            details: [
              {
                path: `jwks.keys[${bad}]`,
                message: 'holds private or symmetric key material, or is not a key',
              },
            ],
          });
        }
      }
      // The verifier's own checks (issuer, audience, https JWKS URL, key set) decide what is acceptable.
      createFederatedTokenVerifier({
        issuer: input.issuer,
        audience: input.audience,
        jwks: (jwks as JSONWebKeySet | null) ?? jwksUri ?? '',
      });
      const saved = await store.saveFederatedIssuer(
        { issuer: input.issuer, jwksUri, jwks: jwks as JsonWebKeySet | null, audience: input.audience },
        actorCtx(actor),
      );
      verifiers.delete(input.issuer);
      return saved;
    },

    /** Configured federated issuers, ordered by issuer. */
    listFederatedIssuers(): Promise<FederatedIssuer[]> {
      return store.listFederatedIssuers();
    },

    // --- keys ----------------------------------------------------------------------------------------------

    /** Applies the key rotation plan (run at start and on a timer); `rotateNow` retires the signer at once. */
    ensureSigningKeys: (options: { rotateNow?: boolean } = {}): Promise<KeyRotationResult> =>
      keyring.ensureSigningKeys(options),

    /** The public key set for `/.well-known/jwks.json` (pending, current and retired keys until they expire). */
    jwks: (): Promise<JSONWebKeySet> => keyring.jwks(),

    /** The signing keys' schedules (never the private keys), newest first. */
    signingKeys: () => keyring.keys(),

    // --- OAuth endpoints -------------------------------------------------------------------------------------

    /** The token endpoint (RFC 6749 §3.2, RFC 8693, RFC 9449, CIBA poll); never throws. */
    token: (req: TokenEndpointRequest): Promise<TokenEndpointResponse> => endpoint.token(req),

    /** Authenticates a client as the token endpoint does (for introspection by clients). */
    authenticateClient: (req: RevocationRequest): Promise<ClientAuthentication> =>
      endpoint.authenticateClient(req),

    /**
     * Token introspection (RFC 7662): active only for a token this broker signed that has not expired and is
     * not revoked. The HTTP layer must authenticate the caller (RFC 7662 §2.1).
     */
    async introspect(token: string): Promise<IntrospectionResponse> {
      if (typeof token !== 'string' || token === '') return { active: false };
      const result = await verifyOwn(token, { leewaySeconds: 0 });
      if (!result.ok) return { active: false };
      const c = result.claims;
      return {
        active: true,
        iss: c.iss,
        sub: c.sub,
        aud: c.aud,
        ...(c.scope === undefined ? {} : { scope: c.scope }),
        client_id: c.client_id,
        exp: c.exp,
        iat: c.iat,
        nbf: c.nbf,
        jti: c.jti,
        token_type: scheme(c),
        ...(c.act === undefined ? {} : { act: c.act }),
        ...(c.cnf === undefined ? {} : { cnf: { jkt: c.cnf.jkt } }),
        ...(c.task === undefined ? {} : { task: c.task }),
        ...(c.purpose === undefined ? {} : { purpose: c.purpose }),
        ...(c.approval === undefined ? {} : { approval: { ...c.approval } }),
      };
    },

    /**
     * Token revocation (RFC 7009): an authenticated client revokes one of its own tokens. Unknown, invalid and
     * expired tokens answer 200 and change nothing; a token of another client is refused.
     */
    async revokeToken(req: RevocationRequest): Promise<RevocationResponse> {
      try {
        const auth = await endpoint.authenticateClient(req);
        if (!auth.ok) return auth.response;
        const token = req.params.token;
        if (typeof token !== 'string' || token === '') {
          return oauthError(400, 'invalid_request', 'the token parameter is missing');
        }
        const ok = {
          status: 200 as const,
          body: {},
          headers: { 'cache-control': 'no-store', pragma: 'no-cache' },
        };
        const result = await verifyOwn(token, { leewaySeconds: 0, checkRevocation: false });
        if (!result.ok) return ok;
        const { agent } = auth.client;
        if (result.claims.client_id !== agent.clientId) {
          return oauthError(400, 'unauthorized_client', 'the token was not issued to this client');
        }
        const revocation = await store.addRevocation(
          {
            kind: 'jti',
            value: result.claims.jti,
            issuedBefore: null,
            expiresAt: new Date((result.claims.exp + LEEWAY_SECONDS) * 1000).toISOString(),
            reason: 'revoked by the client (RFC 7009)',
          },
          actorCtx(agent.id),
        );
        revocations.apply(revocation);
        return ok;
      } catch (err) {
        onError(err);
        return oauthError(500, 'server_error', 'the broker could not process the request; try again later');
      }
    },

    /**
     * Revokes tokens: one by jti, every token an agent or agent type was issued (or acted in) until now, every
     * token of a task until now, or every token issued before a time. Enforced in this process at once and in
     * every other within the revocation poll interval.
     */
    revoke: (input: RevokeInput, actor: string): Promise<Revocation> => addRevocation(input, actor),

    /**
     * Verifies a token presented to a resource (the proxy): signature, issuer, expiry, audience when given,
     * revocation, and for DPoP-bound tokens the proof (htm, htu, iat, ath, jti replay) made with the bound key.
     */
    verifyToken,

    /**
     * `verifyToken` in the shape the credential proxy takes (`createCredentialProxy({ verifyToken })`): the
     * proxy builds the WWW-Authenticate challenge itself from `error` and `description`.
     */
    verifyProxyToken,

    // --- upstreams and the proxy -----------------------------------------------------------------------------

    /**
     * Saves an API behind the credential-injecting proxy (`keyward upstreams add`): the definition is validated,
     * the credential sealed (purpose `vault`, bound to the name) and kept with its fingerprint and preview. The
     * result never holds the credential.
     */
    async saveUpstream(
      definition: unknown,
      actor: string,
      options: DescribeUpstreamOptions = {},
    ): Promise<Saved<'upstream', UpstreamSummary>> {
      const input = describeUpstreamInput(definition, deps.masterKey, deps.fingerprinter, options);
      return store.saveUpstream(input, actorCtx(actor));
    },

    /** Upstreams ordered by name, without their credentials. */
    listUpstreams: (): Promise<UpstreamSummary[]> => store.listUpstreams(),

    /** One upstream without its credential, or null. */
    async getUpstream(name: string): Promise<UpstreamSummary | null> {
      const upstream = await store.getUpstream(name);
      return upstream ? toUpstreamSummary(upstream) : null;
    },

    /**
     * The credential-injecting proxy wired to this broker: tokens checked by `verifyProxyToken`, credentials
     * opened from the vault, calls recorded in the event log. Close it at shutdown (its connection pool).
     */
    createProxy(options: BrokerProxyOptions): CredentialProxy {
      const vault = createUpstreamVault(deps.masterKey);
      const proxyLog = createEventBatcher(store);
      return createCredentialProxy({
        resourceMetadataUrl: (name) =>
          `${config.issuer}${BROKER_PATHS.protectedResourceMetadata}${BROKER_PATHS.proxy}/${name}`,
        ...options,
        getUpstream: (name) => store.getUpstream(name),
        verifyToken: (token, context) => verifyProxyToken(token, context),
        openSecret: (upstream) => vault.open(upstream),
        // Group commit: the start and outcome records of concurrent calls share transactions.
        appendEvent: async (event) => (await proxyLog.append([event]))[0],
        clock,
      });
    },

    // --- approvals -------------------------------------------------------------------------------------------

    /** Approval requests, newest first (overdue ones are expired first). */
    listApprovals: (filter: ApprovalFilter = {}): Promise<Page<Approval>> => approvals.list(filter),

    /** One approval request, or null. */
    getApproval: (id: string): Promise<Approval | null> => approvals.get(id),

    /** A person approves or denies a pending request; ConflictError when it was decided or expired. */
    decideApproval: (
      id: string,
      decision: 'approve' | 'deny',
      approver: string,
      reason: string | null = null,
    ): Promise<Approval> => approvals.decide(id, decision, approver, reason),

    /** Expires pending requests past their deadline (also runs on a timer once started). */
    expireApprovals: (): Promise<Approval[]> => approvals.expireOverdue(),

    // --- explain -------------------------------------------------------------------------------------------------

    /** Which rule allows or denies each requested scope and why (`keyward broker explain`). */
    async explain(input: ExplainInput): Promise<BrokerExplanation> {
      if ((input.agent === undefined) === (input.agentType === undefined)) {
        throw new ValidationError('name either an agent or an agent type to explain a request for', {
          details: [{ path: 'agent', message: 'give exactly one of agent and agentType' }],
        });
      }
      const agent = input.agent === undefined ? null : await requireAgent(input.agent);
      const type = await requireAgentType(agent ? agent.agentTypeId : input.agentType!);
      const at = input.at === undefined ? undefined : new Date(input.at);
      if (at !== undefined && Number.isNaN(at.getTime())) {
        throw new ValidationError('at must be a time such as 2026-01-01T10:00:00Z', {
          details: [{ path: 'at', message: 'not a timestamp' }],
        });
      }
      const claims =
        input.task === undefined && input.purpose === undefined
          ? undefined
          : { task: input.task ?? null, purpose: input.purpose ?? null };
      const explanation = explainPolicy(
        policyOf(type),
        {
          scope: input.scope,
          resource: input.resource,
          ...(input.sourceIp === undefined ? {} : { sourceIp: input.sourceIp }),
          ...(at === undefined ? {} : { now: at }),
          ...(input.dpop === undefined ? {} : { dpop: input.dpop }),
          ...(claims === undefined ? {} : { claims }),
        },
        { source: await policySourceOf(type) },
      );
      return {
        ...explanation,
        agentType: {
          id: type.id,
          name: type.name,
          policyVersion: type.policyVersion,
          policySource: type.policySource,
        },
        agent: agent ? toAgentSummary(agent) : null,
      };
    },

    // --- discovery -----------------------------------------------------------------------------------------------

    /** RFC 8414 metadata for `/.well-known/oauth-authorization-server`. */
    authorizationServerMetadata: (): AuthorizationServerMetadata =>
      authorizationServerMetadata(config.issuer),

    /**
     * RFC 9728 metadata of a resource registered in Keyward (named by an agent type's allow rule, or a proxy
     * upstream: `keyward:upstream:<name>` or `<issuer>/proxy/<name>`); null when no policy or upstream names it.
     */
    async protectedResourceMetadata(resource: string): Promise<ProtectedResourceMetadata | null> {
      if (typeof resource !== 'string' || resource === '') return null;
      // An upstream behind the proxy is named by its token audience (`keyward:upstream:<name>`) or its URL.
      const proxyPrefix = `${config.issuer}${BROKER_PATHS.proxy}/`;
      const audiencePrefix = upstreamAudience('');
      const upstreamName = resource.startsWith(audiencePrefix)
        ? resource.slice(audiencePrefix.length)
        : resource.startsWith(proxyPrefix)
          ? (resource.slice(proxyPrefix.length).split('/')[0] ?? '')
          : null;
      let known =
        upstreamName !== null &&
        upstreamName !== '' &&
        (await store.listUpstreams()).some((u) => u.name === upstreamName);
      const scopes = new Set<string>();
      const dpop: boolean[] = [];
      for (let offset = 0; ; offset += 1000) {
        const page = await store.listAgentTypes({ limit: 1000, offset });
        for (const type of page.items) {
          let policy: BrokerPolicy;
          try {
            policy = policyOf(type);
          } catch {
            continue;
          }
          // Policies name an upstream by its audience; the metadata may be asked for by its URL.
          const rules = policy.allow.filter(
            (r) =>
              resourceMatches(r.resource, resource) ||
              (!!upstreamName && resourceMatches(r.resource, upstreamAudience(upstreamName))),
          );
          if (rules.length === 0) continue;
          known = true;
          dpop.push(policy.tokens.requireDpop);
          for (const r of rules) for (const s of r.scopes) if (!isGlob(s)) scopes.add(s);
        }
        if (page.items.length < 1000) break;
      }
      if (!known) return null;
      return protectedResourceMetadata(config.issuer, resource, {
        scopes: [...scopes].sort(),
        dpopRequired: dpop.length > 0 && dpop.every(Boolean),
      });
    },

    /** Health of the revocation copy (for /readyz and /metrics). */
    revocationStatus: () => revocations.status(),
  };
}

/** The broker service's interface. */
export type BrokerService = ReturnType<typeof createBrokerService>;
