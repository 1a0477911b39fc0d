/**
 * Adapter-independent half of the broker's persistence: checking and normalising what is written, deciding
 * whether an upsert inserts, updates or changes nothing, the approval state machine, and the events each write
 * appends. The adapters supply reads and writes inside their transactions; this file decides what they are.
 *
 * Event data never holds a secret hash or a sealed blob: a client secret shows up as `clientSecret: true`, an
 * upstream credential by fingerprint and preview.
 */
import {
  AGENT_STATUSES,
  BROKER_ID_PREFIX,
  REVOCATION_KINDS,
  type Agent,
  type AgentAuth,
  type AgentInput,
  type AgentPatch,
  type AgentType,
  type AgentTypeInput,
  type Approval,
  type ApprovalDecision,
  type ApprovalInput,
  type FederatedIssuer,
  type FederatedIssuerInput,
  type JsonWebKeySet,
  type Revocation,
  type RevocationInput,
  type SigningKey,
  type Upstream,
  type UpstreamInput,
} from '../core/broker-types.js';
import { canonicalJson } from '../core/canonical-json.js';
import { ConflictError, ValidationError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { NewEvent } from '../core/types.js';
import type { ChangeContext, SigningKeyPatch } from './store-types.js';

/** Actor of events the store appends on its own (approval deadlines passing). */
export const BROKER_ACTOR = 'broker';

/** Largest page of revocations or events one read returns. */
export const MAX_BROKER_READ = 10_000;

/** Clamps a read limit to 1–10,000. */
export function readLimit(limit: number): number {
  return Math.max(1, Math.min(Math.trunc(Number.isFinite(limit) ? limit : 1), MAX_BROKER_READ));
}

function invalid(path: string, message: string): ValidationError {
  return new ValidationError(`${path} ${message}`, { details: [{ path, message }] });
}

/** A timestamp in the one form the store compares as text: `2026-01-01T00:00:00.000Z`. */
export function isoTime(value: unknown, path: string): string {
  const t = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(t)) throw invalid(path, 'must be an ISO-8601 timestamp such as 2026-01-01T00:00:00.000Z');
  return new Date(t).toISOString();
}

/** `isoTime`, or null for null/undefined. */
export function isoTimeOrNull(value: unknown, path: string): string | null {
  return value === null || value === undefined ? null : isoTime(value, path);
}

function text(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(path, 'must be a non-empty string');
  return value;
}

function textOrNull(value: unknown, path: string): string | null {
  return value === null || value === undefined ? null : text(value, path);
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], path: string): T {
  if (typeof value !== 'string' || !allowed.includes(value as T))
    throw invalid(path, `must be one of ${allowed.join(', ')}`);
  return value as T;
}

function stringList(value: unknown, path: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw invalid(path, 'must be a list of strings');
  return [...(value as string[])];
}

/** A plain-JSON copy: what the store writes is exactly what it reads back. */
function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function jsonObject(value: unknown, path: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw invalid(path, 'must be an object');
  return jsonCopy(value as Record<string, unknown>);
}

function jwksOrNull(value: unknown, path: string): JsonWebKeySet | null {
  if (value === null || value === undefined) return null;
  const o = jsonObject(value, path);
  if (!Array.isArray(o.keys)) throw invalid(`${path}.keys`, 'must be a list of keys');
  return o as unknown as JsonWebKeySet;
}

const same = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

/** Names of the fields whose values differ. */
function changedFields<T extends object>(
  prev: T,
  next: T,
  fields: ReadonlyArray<keyof T & string>,
): string[] {
  return fields.filter((f) => !same(prev[f], next[f]));
}

/** What an upsert does. */
export interface UpsertPlan<T> {
  op: 'insert' | 'update' | 'none';
  record: T;
  /** Names of the fields that differ from what was stored (every field on insert). */
  changed: string[];
}

/** The `kid`s of a key set, for events. */
function kids(jwks: JsonWebKeySet | null): string[] | null {
  return jwks ? jwks.keys.map((k) => (typeof k.kid === 'string' ? k.kid : '')) : null;
}

// ---------------------------------------------------------------------------------------------------------
// Agent types

const AGENT_TYPE_FIELDS = ['owner', 'description', 'policy', 'policySource'] as const;

/** An agent type as stored: the record and the text its policy was applied from (null when unknown). */
export interface StoredAgentType {
  agentType: AgentType;
  policyText: string | null;
}

/** What `upsertAgentType` does, and the policy text to store with the record. */
export interface AgentTypePlan extends UpsertPlan<AgentType> {
  policyText: string | null;
}

/**
 * Plans `upsertAgentType`: insert, update (version +1 only when the policy differs) or nothing. A changed policy
 * text alone (`changed: ['policyText']`) is an update without a new version, so lines named by `explain` stay
 * those of the text last applied.
 */
export function planAgentType(
  input: AgentTypeInput,
  existing: StoredAgentType | undefined,
  time: string,
): AgentTypePlan {
  const t = isoTime(time, 'time');
  const fields = {
    name: text(input.name, 'name'),
    owner: text(input.owner, 'owner'),
    description: textOrNull(input.description, 'description'),
    policy: jsonObject(input.policy, 'policy'),
    policySource: text(input.policySource, 'policySource'),
  };
  const policyText = textOrNull(input.policyText, 'policyText');
  if (!existing) {
    const record: AgentType = {
      id: newId(BROKER_ID_PREFIX.agentType),
      ...fields,
      policyVersion: 1,
      createdAt: t,
      updatedAt: t,
    };
    const changed = [...AGENT_TYPE_FIELDS, ...(policyText === null ? [] : ['policyText'])];
    return { op: 'insert', record, changed, policyText };
  }
  const candidate: AgentType = { ...existing.agentType, ...fields };
  const changed = changedFields(existing.agentType, candidate, AGENT_TYPE_FIELDS);
  if (policyText !== existing.policyText) changed.push('policyText');
  if (changed.length === 0) return { op: 'none', record: existing.agentType, changed, policyText };
  const record: AgentType = {
    ...candidate,
    policyVersion: existing.agentType.policyVersion + (changed.includes('policy') ? 1 : 0),
    updatedAt: t,
  };
  return { op: 'update', record, changed, policyText };
}

/** `broker.agent-type.applied`, with the policy itself so that later reports can tell when scopes were added. */
export function agentTypeEvent(plan: UpsertPlan<AgentType>, ctx: ChangeContext): NewEvent {
  const r = plan.record;
  return {
    time: r.updatedAt,
    type: 'broker.agent-type.applied',
    actor: ctx.actor,
    subject: r.id,
    data: {
      id: r.id,
      name: r.name,
      owner: r.owner,
      description: r.description,
      policySource: r.policySource,
      policyVersion: r.policyVersion,
      created: plan.op === 'insert',
      changed: plan.changed,
      policy: r.policy,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Agents

function checkAuth(auth: AgentAuth, path: string): AgentAuth {
  if (auth === null || typeof auth !== 'object') throw invalid(path, 'must be an object');
  const federated = auth.federated ?? [];
  if (!Array.isArray(federated)) throw invalid(`${path}.federated`, 'must be a list');
  return {
    secretHash: textOrNull(auth.secretHash, `${path}.secretHash`),
    jwks: jwksOrNull(auth.jwks, `${path}.jwks`),
    federated: federated.map((f, i) => {
      const p = `${path}.federated[${i}]`;
      const claims = jsonObject(f?.claims ?? {}, `${p}.claims`);
      for (const [k, v] of Object.entries(claims))
        if (typeof v !== 'string') throw invalid(`${p}.claims.${k}`, 'must be a string');
      return { issuer: text(f?.issuer, `${p}.issuer`), claims: claims as Record<string, string> };
    }),
  };
}

/** A new agent from its input; the id and (unless given) the client id are fresh random ones. */
export function newAgent(input: AgentInput, time: string): Agent {
  const t = isoTime(time, 'time');
  const clientId = input.clientId ?? newId(BROKER_ID_PREFIX.clientId);
  if (typeof clientId !== 'string' || !/^kwc_[0-9a-z_-]{8,100}$/.test(clientId))
    throw invalid('clientId', 'must be kwc_ followed by 8–100 lower-case letters, digits, - or _');
  return {
    id: newId(BROKER_ID_PREFIX.agent),
    clientId,
    agentTypeId: text(input.agentTypeId, 'agentTypeId'),
    name: text(input.name, 'name'),
    status: oneOf(input.status ?? 'active', AGENT_STATUSES, 'status'),
    auth: checkAuth(input.auth, 'auth'),
    createdAt: t,
    updatedAt: t,
    lastUsedAt: null,
  };
}

/** How an agent can log in, for events: never the secret's hash, only whether there is one. */
function authSummary(auth: AgentAuth): Record<string, unknown> {
  return { clientSecret: auth.secretHash !== null, jwksKids: kids(auth.jwks), federated: auth.federated };
}

function agentData(a: Agent): Record<string, unknown> {
  return {
    id: a.id,
    clientId: a.clientId,
    agentTypeId: a.agentTypeId,
    name: a.name,
    status: a.status,
    auth: authSummary(a.auth),
  };
}

/** `broker.agent.registered`. */
export function agentRegisteredEvent(a: Agent, ctx: ChangeContext): NewEvent {
  return {
    time: a.createdAt,
    type: 'broker.agent.registered',
    actor: ctx.actor,
    subject: a.id,
    data: agentData(a),
  };
}

/** The agent after a patch, and which fields changed (`auth.secretHash`, …). */
export function planAgentUpdate(
  prev: Agent,
  patch: AgentPatch,
  time: string,
): { next: Agent; changed: string[] } {
  const t = isoTime(time, 'time');
  if (patch === null || typeof patch !== 'object') throw invalid('patch', 'must be an object');
  const auth = patch.auth
    ? checkAuth(
        {
          secretHash: patch.auth.secretHash === undefined ? prev.auth.secretHash : patch.auth.secretHash,
          jwks: patch.auth.jwks === undefined ? prev.auth.jwks : patch.auth.jwks,
          federated: patch.auth.federated === undefined ? prev.auth.federated : patch.auth.federated,
        },
        'auth',
      )
    : prev.auth;
  const candidate: Agent = {
    ...prev,
    name: patch.name === undefined ? prev.name : text(patch.name, 'name'),
    status: patch.status === undefined ? prev.status : oneOf(patch.status, AGENT_STATUSES, 'status'),
    auth,
  };
  const changed = [
    ...changedFields(prev, candidate, ['name', 'status']),
    ...changedFields(prev.auth, candidate.auth, ['secretHash', 'jwks', 'federated']).map((f) => `auth.${f}`),
  ];
  return { next: changed.length ? { ...candidate, updatedAt: t } : prev, changed };
}

/** `broker.agent.disabled` / `broker.agent.enabled` when the status changed, else `broker.agent.updated`. */
export function agentUpdatedEvent(prev: Agent, next: Agent, changed: string[], ctx: ChangeContext): NewEvent {
  const type =
    prev.status === next.status
      ? 'broker.agent.updated'
      : next.status === 'disabled'
        ? 'broker.agent.disabled'
        : 'broker.agent.enabled';
  return {
    time: next.updatedAt,
    type,
    actor: ctx.actor,
    subject: next.id,
    data: { ...agentData(next), changed },
  };
}

/** ConflictError for a taken unique value. */
export function takenError(what: string, field: string, value: string, scope?: string): ConflictError {
  return new ConflictError(`${what} ${field} "${value}" is already taken${scope ? ` ${scope}` : ''}`, {
    details: [{ path: field, message: `already exists${scope ? ` ${scope}` : ''}` }],
  });
}

// ---------------------------------------------------------------------------------------------------------
// Federated issuers

const ISSUER_FIELDS = ['jwksUri', 'jwks', 'audience'] as const;

/** Plans `saveFederatedIssuer`. */
export function planFederatedIssuer(
  input: FederatedIssuerInput,
  existing: FederatedIssuer | undefined,
  time: string,
): UpsertPlan<FederatedIssuer> {
  const t = isoTime(time, 'time');
  const fields = {
    issuer: text(input.issuer, 'issuer'),
    jwksUri: textOrNull(input.jwksUri, 'jwksUri'),
    jwks: jwksOrNull(input.jwks, 'jwks'),
    audience: text(input.audience, 'audience'),
  };
  return upsert(existing, fields, ISSUER_FIELDS, t, () => newId(BROKER_ID_PREFIX.federatedIssuer));
}

/** `broker.federated-issuer.saved`. */
export function federatedIssuerEvent(plan: UpsertPlan<FederatedIssuer>, ctx: ChangeContext): NewEvent {
  const r = plan.record;
  return {
    time: r.updatedAt,
    type: 'broker.federated-issuer.saved',
    actor: ctx.actor,
    subject: null,
    data: {
      id: r.id,
      issuer: r.issuer,
      jwksUri: r.jwksUri,
      jwksKids: kids(r.jwks),
      audience: r.audience,
      created: plan.op === 'insert',
      changed: plan.changed,
    },
  };
}

/** Generic upsert for records with id, createdAt and updatedAt. */
function upsert<T extends { id: string; createdAt: string; updatedAt: string }, F extends object>(
  existing: T | undefined,
  fields: F,
  compared: ReadonlyArray<keyof T & keyof F & string>,
  time: string,
  makeId: () => string,
): UpsertPlan<T> {
  if (!existing) {
    const record = { id: makeId(), ...fields, createdAt: time, updatedAt: time } as unknown as T;
    return { op: 'insert', record, changed: [...compared] };
  }
  const candidate = { ...existing, ...fields } as T;
  const changed = changedFields(existing, candidate, compared);
  if (changed.length === 0) return { op: 'none', record: existing, changed };
  return { op: 'update', record: { ...candidate, updatedAt: time }, changed };
}

// ---------------------------------------------------------------------------------------------------------
// Upstreams

const UPSTREAM_FIELDS = [
  'baseUrl',
  'auth',
  'sealedSecret',
  'secretFingerprint',
  'secretPreview',
  'routes',
] as const;

/** Plans `saveUpstream`. */
export function planUpstream(
  input: UpstreamInput,
  existing: Upstream | undefined,
  time: string,
): UpsertPlan<Upstream> {
  const t = isoTime(time, 'time');
  const auth = jsonObject(input.auth, 'auth');
  oneOf(auth.kind, ['header', 'basic', 'bearer'], 'auth.kind');
  if (auth.kind === 'header') text(auth.headerName, 'auth.headerName');
  if (!Array.isArray(input.routes)) throw invalid('routes', 'must be a list');
  const routes = input.routes.map((r, i) => ({
    scope: text(r?.scope, `routes[${i}].scope`),
    methods: stringList(r?.methods, `routes[${i}].methods`),
    paths: stringList(r?.paths, `routes[${i}].paths`),
  }));
  const fields = {
    name: text(input.name, 'name'),
    baseUrl: text(input.baseUrl, 'baseUrl'),
    auth: auth as unknown as Upstream['auth'],
    sealedSecret: text(input.sealedSecret, 'sealedSecret'),
    secretFingerprint: text(input.secretFingerprint, 'secretFingerprint'),
    secretPreview: text(input.secretPreview, 'secretPreview'),
    routes,
  };
  return upsert(existing, fields, UPSTREAM_FIELDS, t, () => newId(BROKER_ID_PREFIX.upstream));
}

/** `broker.upstream.saved`: the credential by fingerprint and preview, never the sealed blob. */
export function upstreamEvent(plan: UpsertPlan<Upstream>, ctx: ChangeContext): NewEvent {
  const r = plan.record;
  return {
    time: r.updatedAt,
    type: 'broker.upstream.saved',
    actor: ctx.actor,
    subject: null,
    data: {
      id: r.id,
      name: r.name,
      baseUrl: r.baseUrl,
      auth: r.auth,
      secretFingerprint: r.secretFingerprint,
      secretPreview: r.secretPreview,
      routes: r.routes,
      created: plan.op === 'insert',
      changed: plan.changed,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Signing keys

/** Checks a new signing key and normalises its times. */
export function checkSigningKey(key: SigningKey): SigningKey {
  if (key === null || typeof key !== 'object') throw invalid('key', 'must be an object');
  return {
    kid: text(key.kid, 'kid'),
    alg: oneOf(key.alg, ['EdDSA'] as const, 'alg'),
    publicJwk: jsonObject(key.publicJwk, 'publicJwk'),
    sealedPrivateKey: text(key.sealedPrivateKey, 'sealedPrivateKey'),
    createdAt: isoTime(key.createdAt, 'createdAt'),
    activatesAt: isoTime(key.activatesAt, 'activatesAt'),
    retiresAt: isoTimeOrNull(key.retiresAt, 'retiresAt'),
    expiresAt: isoTimeOrNull(key.expiresAt, 'expiresAt'),
  };
}

function keyData(k: SigningKey): Record<string, unknown> {
  return {
    kid: k.kid,
    alg: k.alg,
    publicJwk: k.publicJwk,
    activatesAt: k.activatesAt,
    retiresAt: k.retiresAt,
    expiresAt: k.expiresAt,
  };
}

/** `broker.key.created`: the public key and schedule, never the sealed private key. */
export function keyCreatedEvent(k: SigningKey, ctx: ChangeContext): NewEvent {
  return {
    time: isoTime(ctx.time, 'time'),
    type: 'broker.key.created',
    actor: ctx.actor,
    subject: null,
    data: keyData(k),
  };
}

/** The key after a schedule change, and which fields changed. */
export function planKeyUpdate(
  prev: SigningKey,
  patch: SigningKeyPatch,
): { next: SigningKey; changed: string[] } {
  if (patch === null || typeof patch !== 'object') throw invalid('patch', 'must be an object');
  const next: SigningKey = {
    ...prev,
    retiresAt: patch.retiresAt === undefined ? prev.retiresAt : isoTimeOrNull(patch.retiresAt, 'retiresAt'),
    expiresAt: patch.expiresAt === undefined ? prev.expiresAt : isoTimeOrNull(patch.expiresAt, 'expiresAt'),
  };
  return { next, changed: changedFields(prev, next, ['retiresAt', 'expiresAt']) };
}

/** `broker.key.retired` when the key now has a retirement time, else `broker.key.updated`. */
export function keyUpdatedEvent(k: SigningKey, changed: string[], ctx: ChangeContext): NewEvent {
  return {
    time: isoTime(ctx.time, 'time'),
    type: k.retiresAt !== null && changed.includes('retiresAt') ? 'broker.key.retired' : 'broker.key.updated',
    actor: ctx.actor,
    subject: null,
    data: { ...keyData(k), changed },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Revocations

/** A revocation without its seq, checked: `issued-before` needs value `*` and a time. */
export function newRevocation(input: RevocationInput, ctx: ChangeContext): Omit<Revocation, 'seq'> {
  if (input === null || typeof input !== 'object') throw invalid('revocation', 'must be an object');
  const kind = oneOf(input.kind, REVOCATION_KINDS, 'kind');
  const value = text(input.value, 'value');
  const issuedBefore = isoTimeOrNull(input.issuedBefore, 'issuedBefore');
  if (kind === 'issued-before') {
    if (value !== '*') throw invalid('value', 'must be * for an issued-before revocation');
    if (issuedBefore === null) throw invalid('issuedBefore', 'is required for an issued-before revocation');
  }
  return {
    kind,
    value,
    issuedBefore,
    expiresAt: isoTime(input.expiresAt, 'expiresAt'),
    reason: textOrNull(input.reason, 'reason'),
    actor: text(ctx.actor, 'actor'),
    createdAt: isoTime(ctx.time, 'time'),
  };
}

/** `broker.revocation.added`; an agent or agent type revocation concerns that record. */
export function revocationEvent(r: Revocation): NewEvent {
  return {
    time: r.createdAt,
    type: 'broker.revocation.added',
    actor: r.actor,
    subject: r.kind === 'agent' || r.kind === 'agent-type' ? r.value : null,
    data: {
      seq: r.seq,
      kind: r.kind,
      value: r.value,
      issuedBefore: r.issuedBefore,
      expiresAt: r.expiresAt,
      reason: r.reason,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Approvals

/** A new pending approval for an agent. */
export function newApproval(input: ApprovalInput, agent: Agent, time: string): Approval {
  return {
    id: newId(BROKER_ID_PREFIX.approval),
    agentId: agent.id,
    agentTypeId: agent.agentTypeId,
    scopes: stringList(input.scopes, 'scopes'),
    resource: textOrNull(input.resource, 'resource'),
    task: textOrNull(input.task, 'task'),
    purpose: textOrNull(input.purpose, 'purpose'),
    status: 'pending',
    requestedAt: isoTime(time, 'time'),
    expiresAt: isoTime(input.expiresAt, 'expiresAt'),
    decidedAt: null,
    decidedBy: null,
    reason: null,
    tokenJti: null,
  };
}

function approvalData(a: Approval): Record<string, unknown> {
  return {
    id: a.id,
    agentId: a.agentId,
    agentTypeId: a.agentTypeId,
    scopes: a.scopes,
    resource: a.resource,
    task: a.task,
    purpose: a.purpose,
    status: a.status,
    expiresAt: a.expiresAt,
  };
}

/** `broker.approval.requested`. */
export function approvalRequestedEvent(a: Approval, ctx: ChangeContext): NewEvent {
  return {
    time: a.requestedAt,
    type: 'broker.approval.requested',
    actor: ctx.actor,
    subject: a.agentId,
    data: approvalData(a),
  };
}

function notPending(a: Approval): ConflictError {
  return new ConflictError(`approval ${a.id} is ${a.status}: only a pending request can be decided`, {
    details: [{ path: 'status', message: `is ${a.status}, not pending` }],
  });
}

/** The approval after a person's decision; ConflictError unless it is pending and before its deadline. */
export function planDecision(prev: Approval, decision: ApprovalDecision): Approval {
  if (decision === null || typeof decision !== 'object') throw invalid('decision', 'must be an object');
  const status = oneOf(decision.status, ['approved', 'denied'] as const, 'status');
  const decidedBy = text(decision.decidedBy, 'decidedBy');
  const reason = textOrNull(decision.reason, 'reason');
  const time = isoTime(decision.time, 'time');
  if (prev.status !== 'pending') throw notPending(prev);
  if (prev.expiresAt <= time)
    throw new ConflictError(`approval ${prev.id} expired at ${prev.expiresAt}: it can no longer be decided`, {
      details: [{ path: 'expiresAt', message: `passed at ${prev.expiresAt}` }],
    });
  return { ...prev, status, decidedAt: time, decidedBy, reason };
}

/** `broker.approval.decided`; the actor is the person who decided. */
export function approvalDecidedEvent(a: Approval): NewEvent {
  return {
    time: a.decidedAt!,
    type: 'broker.approval.decided',
    actor: a.decidedBy!,
    subject: a.agentId,
    data: { ...approvalData(a), decidedBy: a.decidedBy, reason: a.reason },
  };
}

/** Reason recorded on requests nobody decided in time. */
export const EXPIRED_REASON = 'no decision before the deadline';

/** A pending approval past its deadline, marked expired (which counts as denied). */
export function expiredApproval(prev: Approval, now: string): Approval {
  return { ...prev, status: 'expired', decidedAt: now, decidedBy: null, reason: EXPIRED_REASON };
}

/** `broker.approval.expired`. */
export function approvalExpiredEvent(a: Approval): NewEvent {
  return {
    time: a.decidedAt!,
    type: 'broker.approval.expired',
    actor: BROKER_ACTOR,
    subject: a.agentId,
    data: { ...approvalData(a), reason: a.reason },
  };
}

/** The approval once a token was issued from it; ConflictError unless approved and not used yet. */
export function planApprovalUse(prev: Approval, jti: string): Approval {
  const j = text(jti, 'jti');
  if (prev.status !== 'approved')
    throw new ConflictError(
      `approval ${prev.id} is ${prev.status}: only an approved request yields a token`,
      {
        details: [{ path: 'status', message: `is ${prev.status}, not approved` }],
      },
    );
  if (prev.tokenJti !== null)
    throw new ConflictError(`approval ${prev.id} was already used for a token`, {
      details: [{ path: 'tokenJti', message: 'already set: an approval yields one token' }],
    });
  return { ...prev, tokenJti: j };
}

/** `broker.approval.used`. */
export function approvalUsedEvent(a: Approval, ctx: ChangeContext): NewEvent {
  return {
    time: isoTime(ctx.time, 'time'),
    type: 'broker.approval.used',
    actor: ctx.actor,
    subject: a.agentId,
    data: { id: a.id, agentId: a.agentId, scopes: a.scopes, tokenJti: a.tokenJti },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Replay cache and event reads

/** How often one store instance prunes expired replay entries. */
export const REPLAY_PRUNE_INTERVAL_MS = 60_000;

/** Checks the arguments of `checkAndRecordReplay`. */
export function checkReplay(
  namespace: string,
  jti: string,
  expiresAt: string,
  now: string,
): { namespace: string; jti: string; expiresAt: string; now: string } {
  return {
    namespace: text(namespace, 'namespace'),
    jti: text(jti, 'jti'),
    expiresAt: isoTime(expiresAt, 'expiresAt'),
    now: isoTime(now, 'now'),
  };
}

/** Checks the event types of `readEventsByType` (at most 100). */
export function checkEventTypes(types: string[]): string[] {
  const list = stringList(types, 'types');
  if (list.length > 100) throw invalid('types', 'must list at most 100 event types');
  return [...new Set(list)];
}

/**
 * The pacing decision of one poll: the previous poll (or the request time) and interval as stored, and what to
 * store now. A poll sooner than the interval after the previous one slows the client down by `stepSeconds`.
 */
export function planApprovalPoll(
  row: Record<string, unknown>,
  atMs: number,
  pace: { intervalSeconds: number; stepSeconds: number },
): { slowDown: boolean; intervalSeconds: number } {
  const last =
    row.last_poll_ms === null || row.last_poll_ms === undefined
      ? Date.parse(String(row.requested_at))
      : Number(row.last_poll_ms);
  const interval =
    row.poll_interval === null || row.poll_interval === undefined
      ? pace.intervalSeconds
      : Number(row.poll_interval);
  const slowDown = atMs - last < interval * 1000;
  return { slowDown, intervalSeconds: slowDown ? interval + pace.stepSeconds : interval };
}
