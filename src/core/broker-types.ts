/**
 * Domain types of the credential broker: agent types (blueprints holding a policy), agents (OAuth clients),
 * federated issuers, signing keys, revocations, approvals, upstreams behind the proxy and the replay cache.
 * Every timestamp is an ISO-8601 UTC string (`2026-01-01T00:00:00.000Z`).
 *
 * Secrets never appear here in plaintext: a client secret is kept as a password hash (PHC string), a signing
 * key and an upstream credential as sealed (AES-256-GCM encrypted) blobs made by the broker's crypto.
 */

/** Id prefixes of broker records, so an id says what it points at. */
export const BROKER_ID_PREFIX = {
  agentType: 'aty',
  agent: 'agt',
  clientId: 'kwc',
  approval: 'apr',
  federatedIssuer: 'fis',
  upstream: 'ups',
} as const;

/** A JSON Web Key Set holding public keys only (RFC 7517 §5). */
export interface JsonWebKeySet {
  keys: Array<Record<string, unknown>>;
}

/** A blueprint of agents: its owner and the policy its agents' tokens are issued under. */
export interface AgentType {
  /** `aty_…` */
  id: string;
  /** Unique slug (lower-case letters, digits, hyphens). */
  name: string;
  /** Who answers for the agents of this type (a person or team). */
  owner: string;
  description: string | null;
  /** The parsed policy; the store keeps it as given and never interprets it. */
  policy: Record<string, unknown>;
  /** The policy file's name, or `api` when it came through the API. */
  policySource: string;
  /** 1 when created, +1 each time the policy changes. */
  policyVersion: number;
  createdAt: string;
  updatedAt: string;
}

/** What `upsertAgentType` takes: the type's natural key is its name. */
export interface AgentTypeInput {
  name: string;
  owner: string;
  description?: string | null;
  policy: Record<string, unknown>;
  policySource: string;
  /**
   * The policy's text as it was written (the YAML or JSON file, or the JSON body of an API call), so that
   * `explain` can name the line of each rule. Left out or null when unknown. Kept by the store but never part
   * of an `AgentType`: read it with `getAgentTypePolicyText`.
   */
  policyText?: string | null;
}

/** A federated login binding: tokens from this issuer whose claims equal these values log the agent in. */
export interface FederatedBinding {
  issuer: string;
  /** Claims that must match exactly (`sub`, `repository`, `kubernetes.io/namespace`, …). */
  claims: Record<string, string>;
}

/** How an agent authenticates to the token endpoint; any combination may be set. */
export interface AgentAuth {
  /**
   * Password hash (PHC string, scrypt or argon2) of the client secret, or null. Needed to verify a client; it
   * must never be sent over the API or written to a log (see `toAgentSummary`).
   */
  secretHash: string | null;
  /** Public keys for private_key_jwt client assertions (RFC 7523), or null. */
  jwks: JsonWebKeySet | null;
  federated: FederatedBinding[];
}

export const AGENT_STATUSES = ['active', 'disabled'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

/** An agent instance: one OAuth client of an agent type. */
export interface Agent {
  /** `agt_…` */
  id: string;
  /** The OAuth client_id, `kwc_…`, unique. */
  clientId: string;
  agentTypeId: string;
  /** Unique within its agent type. */
  name: string;
  status: AgentStatus;
  auth: AgentAuth;
  createdAt: string;
  updatedAt: string;
  lastUsedAt: string | null;
}

/** What `createAgent` takes; the store assigns the id, and the client id unless one is given. */
export interface AgentInput {
  agentTypeId: string;
  name: string;
  status?: AgentStatus;
  auth: AgentAuth;
  /** A `kwc_…` client id to keep (restoring an agent); absent: a new random one. */
  clientId?: string;
}

/** Changes to an agent; absent fields stay as they are, `auth` fields are replaced one by one. */
export interface AgentPatch {
  name?: string;
  status?: AgentStatus;
  auth?: Partial<AgentAuth>;
}

/** An agent as listings and the API show it: whether a secret is set, never its hash. */
export type AgentSummary = Omit<Agent, 'auth'> & {
  auth: { hasSecret: boolean; jwks: JsonWebKeySet | null; federated: FederatedBinding[] };
};

/** Drops the secret hash from an agent, keeping whether one is set. */
export function toAgentSummary(agent: Agent): AgentSummary {
  const { auth, ...rest } = agent;
  return {
    ...rest,
    auth: { hasSecret: auth.secretHash !== null, jwks: auth.jwks, federated: auth.federated },
  };
}

/** A workload-identity issuer (GitHub Actions OIDC, a Kubernetes cluster, any OIDC issuer) trusted for login. */
export interface FederatedIssuer {
  /** `fis_…` */
  id: string;
  /** The `iss` claim, unique. */
  issuer: string;
  /** Where to fetch its public keys, or null when they are given inline. */
  jwksUri: string | null;
  /** Its public keys inline (from a file), or null. */
  jwks: JsonWebKeySet | null;
  /** The `aud` its tokens must carry for Keyward. */
  audience: string;
  createdAt: string;
  updatedAt: string;
}

/** What `saveFederatedIssuer` takes: keyed by the issuer URL. */
export interface FederatedIssuerInput {
  issuer: string;
  jwksUri?: string | null;
  jwks?: JsonWebKeySet | null;
  audience: string;
}

/** A token signing key; the private half is sealed and opaque to the store. */
export interface SigningKey {
  kid: string;
  alg: 'EdDSA';
  publicJwk: Record<string, unknown>;
  /** The private key sealed with AES-256-GCM under the master key; never sent over the API. */
  sealedPrivateKey: string;
  createdAt: string;
  /** From when it may sign. */
  activatesAt: string;
  /** When it stops signing (null: not scheduled). */
  retiresAt: string | null;
  /** When it leaves the JWKS: `retiresAt` + the longest token lifetime (null: not scheduled). */
  expiresAt: string | null;
}

/** A signing key without its sealed private half. */
export type SigningKeyInfo = Omit<SigningKey, 'sealedPrivateKey'>;

/** Drops the sealed private key. */
export function toSigningKeyInfo(key: SigningKey): SigningKeyInfo {
  const { sealedPrivateKey: _sealed, ...info } = key;
  return info;
}

export const REVOCATION_KINDS = ['jti', 'agent', 'agent-type', 'task', 'issued-before'] as const;
export type RevocationKind = (typeof REVOCATION_KINDS)[number];

/** One entry of the revocation deny-list. */
export interface Revocation {
  /** Assigned by the store, increasing in commit order, so other processes can poll "since seq". */
  seq: number;
  kind: RevocationKind;
  /** The jti, agent id, agent type id or task id; `*` for issued-before. */
  value: string;
  /**
   * Tokens issued before this time are revoked. Required for `issued-before`; for the other kinds null means
   * every matching token, whenever issued.
   */
  issuedBefore: string | null;
  /** When the entry can be forgotten: the latest expiry of any token it can match. */
  expiresAt: string;
  reason: string | null;
  actor: string;
  createdAt: string;
}

/** What `addRevocation` takes; actor and time come from the change context. */
export interface RevocationInput {
  kind: RevocationKind;
  value: string;
  issuedBefore?: string | null;
  expiresAt: string;
  reason?: string | null;
}

export const APPROVAL_STATUSES = ['pending', 'approved', 'denied', 'expired'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** A request for a person to allow scopes that policy puts behind approval. */
export interface Approval {
  /** `apr_…` */
  id: string;
  agentId: string;
  agentTypeId: string;
  scopes: string[];
  resource: string | null;
  task: string | null;
  purpose: string | null;
  status: ApprovalStatus;
  requestedAt: string;
  /** Deadline for a decision; no decision by then means denied (`expired`). */
  expiresAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  reason: string | null;
  /** The jti of the token issued from it; set once, so an approval is used for one token only. */
  tokenJti: string | null;
}

/** What `createApproval` takes; the agent type is taken from the agent. */
export interface ApprovalInput {
  agentId: string;
  scopes: string[];
  resource?: string | null;
  task?: string | null;
  purpose?: string | null;
  expiresAt: string;
}

/** A person's answer to a pending approval. */
export interface ApprovalDecision {
  status: 'approved' | 'denied';
  decidedBy: string;
  reason?: string | null;
  time: string;
}

/** How the proxy presents the upstream credential. */
export interface UpstreamAuth {
  kind: 'header' | 'basic' | 'bearer';
  /** For `header`: the header's name (`X-Api-Key`). */
  headerName?: string;
}

/** Which methods and paths a scope may use on an upstream. */
export interface UpstreamRoute {
  scope: string;
  methods: string[];
  paths: string[];
}

/** An API behind the credential-injecting proxy, with its vaulted credential. */
export interface Upstream {
  /** `ups_…` */
  id: string;
  /** Unique slug: `/proxy/<name>/…`. */
  name: string;
  baseUrl: string;
  auth: UpstreamAuth;
  /** The upstream credential sealed with AES-256-GCM under the master key; never sent over the API. */
  sealedSecret: string;
  /** Keyed fingerprint of the credential. */
  secretFingerprint: string;
  /** Redacted preview of the credential (`sk-a…9xYz`). */
  secretPreview: string;
  routes: UpstreamRoute[];
  createdAt: string;
  updatedAt: string;
}

/** What `saveUpstream` takes: keyed by name. */
export type UpstreamInput = Omit<Upstream, 'id' | 'createdAt' | 'updatedAt'>;

/** An upstream without its sealed credential. */
export type UpstreamSummary = Omit<Upstream, 'sealedSecret'>;

/** Drops the sealed credential. */
export function toUpstreamSummary(upstream: Upstream): UpstreamSummary {
  const { sealedSecret: _sealed, ...summary } = upstream;
  return summary;
}

/** A jti seen in a DPoP proof or client assertion, remembered until the proof could no longer be accepted. */
export interface ReplayEntry {
  /** What kind of jti (`dpop`, `client-assertion`), so equal jtis of different kinds never collide. */
  namespace: string;
  jti: string;
  expiresAt: string;
}

/**
 * The outcome of an upsert keyed by a natural key, the record under `key`:
 * `{ agentType, created, changed }`, `{ upstream, created, changed }`, …
 */
export type Saved<K extends string, T> = { [P in K]: T } & {
  /** A new record was inserted. */
  created: boolean;
  /** Something was written (true when created); false when the input matched what was stored. */
  changed: boolean;
};
