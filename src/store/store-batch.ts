/**
 * Adapter-independent half of applying an inventory batch: normalising and de-duplicating inputs, deciding
 * per record whether it is new, changed or unchanged, merging with what is stored, and building the events.
 * Each adapter supplies the lookups and the writes; this file decides what they are.
 */
import { canonicalJson } from '../core/canonical-json.js';
import { sha256Hex } from '../core/fingerprint.js';
import { ID_PREFIX, newId, newSequentialId } from '../core/ids.js';
import type {
  BatchContext,
  BatchResult,
  ChangeCounts,
  CredentialInput,
  GrantInput,
  IdentityInput,
  IdentityRef,
  InventoryBatch,
  LocationInput,
  PersonInput,
  ResourceInput,
} from '../core/inventory-batch.js';
import type {
  Credential,
  CredentialLocation,
  EventRecord,
  Grant,
  Identity,
  NewEvent,
  Person,
  Resource,
} from '../core/types.js';
import { ValidationError } from '../core/errors.js';
import { GENESIS_HASH, hashEvent, prepareEventData } from '../core/event-hash.js';

/** A stored record with the hash of the input it was last written from. */
export interface Stored<T> {
  record: T;
  contentHash: string;
}

/** What to do with one record. */
export interface Planned<T> {
  op: 'insert' | 'update' | 'none';
  record: T;
  contentHash: string;
}

/** Natural key of an identity. */
export function identityKey(ref: IdentityRef): string {
  return `${ref.provider}\u0000${ref.externalId}`;
}

/**
 * Natural key of a credential location, stored as `loc_key`. JSON rather than a NUL-separated string: it is
 * unambiguous, and PostgreSQL text cannot hold NUL characters.
 */
export function locationKey(loc: LocationInput): string {
  return JSON.stringify([loc.kind, loc.path, loc.line ?? null, loc.key ?? null]);
}

function hashOf(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

function union(a: string[] | undefined, b: string[] | undefined): string[] {
  return [...new Set([...(a ?? []), ...(b ?? [])])];
}

function mergeLocations(a: LocationInput[] | undefined, b: LocationInput[] | undefined): LocationInput[] {
  const m = new Map<string, LocationInput>();
  for (const l of [...(a ?? []), ...(b ?? [])]) m.set(locationKey(l), l);
  return [...m.values()];
}

/** Later values win unless they are null/undefined; arrays are unioned and attribute objects merged. */
function mergeInputs<T extends object>(a: T, b: T): T {
  const out = { ...a } as Record<string, unknown>;
  for (const [k, v] of Object.entries(b)) {
    if (v === undefined || v === null) continue;
    const prev = out[k];
    if (Array.isArray(v) && Array.isArray(prev)) {
      out[k] =
        k === 'locations' ? mergeLocations(prev as LocationInput[], v as LocationInput[]) : union(prev, v);
    } else if (k === 'attributes' && prev && typeof prev === 'object') {
      out[k] = { ...(prev as object), ...(v as object) };
    } else out[k] = v;
  }
  return out as T;
}

function dedupe<T extends object>(items: T[], key: (t: T) => string): T[] {
  const m = new Map<string, T>();
  for (const it of items) {
    const k = key(it);
    const prev = m.get(k);
    m.set(k, prev ? mergeInputs(prev, it) : it);
  }
  return [...m.values()];
}

/** Merges repeated records in a batch (the same identity in two files of one export, say). */
export function dedupeBatch(batch: InventoryBatch): InventoryBatch {
  return {
    identities: dedupe(batch.identities, identityKey),
    credentials: dedupe(batch.credentials, (c) => `${identityKey(c.identity)}\u0000${c.fingerprint}`),
    grants: dedupe(batch.grants, (g) => `${identityKey(g.identity)}\u0000${g.key}`),
    resources: dedupe(batch.resources, (r) => `${r.provider}\u0000${r.name}`),
    people: dedupe(
      batch.people.map((p) => ({ ...p, email: p.email.trim().toLowerCase() })),
      (p) => p.email,
    ),
  };
}

/** Plans one identity against what is stored. Null fields in the input keep the stored value. */
export function planIdentity(
  input: IdentityInput,
  existing: Stored<Identity> | undefined,
  time: string,
): Planned<Identity> {
  const contentHash = hashOf(input);
  if (existing && existing.contentHash === contentHash)
    return { op: 'none', record: existing.record, contentHash };
  const prev = existing?.record;
  const record: Identity = {
    id: prev?.id ?? newId(ID_PREFIX.identity),
    name: input.name,
    kind: input.kindIsGuess && prev ? prev.kind : input.kind,
    provider: input.provider,
    externalId: input.externalId,
    environment: input.environment ?? prev?.environment ?? null,
    owner: input.owner ?? prev?.owner ?? null,
    sponsor: input.sponsor ?? prev?.sponsor ?? null,
    description: input.description ?? prev?.description ?? null,
    tags: union(prev?.tags, input.tags),
    attributes: { ...(prev?.attributes ?? {}), ...(input.attributes ?? {}) },
    createdAt: prev?.createdAt ?? input.createdAt ?? time,
    updatedAt: time,
    lastSeenAt: latest(prev?.lastSeenAt ?? null, input.lastSeenAt ?? null),
    riskScore: prev?.riskScore ?? null,
  };
  return { op: prev ? 'update' : 'insert', record, contentHash };
}

function latest(a: string | null, b: string | null): string | null {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}

/** Plans one credential. Locations are merged: a location seen again keeps its first-seen time. */
export function planCredential(
  input: CredentialInput,
  identityId: string,
  existing: Stored<Credential> | undefined,
  time: string,
): Planned<Credential> {
  const contentHash = hashOf(input);
  if (existing && existing.contentHash === contentHash)
    return { op: 'none', record: existing.record, contentHash };
  const prev = existing?.record;
  const locations = new Map<string, CredentialLocation>();
  for (const l of prev?.locations ?? []) locations.set(locationKey(l), l);
  for (const l of input.locations ?? []) {
    const k = locationKey(l);
    const old = locations.get(k);
    locations.set(k, {
      ...l,
      line: l.line ?? null,
      key: l.key ?? null,
      firstSeenAt: old?.firstSeenAt ?? time,
      lastSeenAt: time,
    });
  }
  const record: Credential = {
    id: prev?.id ?? newId(ID_PREFIX.credential),
    identityId,
    type: input.type,
    provider: input.provider,
    fingerprint: input.fingerprint,
    fingerprintSource: input.fingerprintSource,
    preview: input.preview,
    externalId: input.externalId ?? prev?.externalId ?? null,
    name: input.name ?? prev?.name ?? null,
    scopes: input.scopes ?? prev?.scopes ?? [],
    status: input.status ?? prev?.status ?? 'active',
    createdAt: input.createdAt ?? prev?.createdAt ?? null,
    expiresAt: input.expiresAt !== undefined ? input.expiresAt : (prev?.expiresAt ?? null),
    lastUsedAt: latest(prev?.lastUsedAt ?? null, input.lastUsedAt ?? null),
    lastRotatedAt: input.lastRotatedAt ?? prev?.lastRotatedAt ?? null,
    attributes: { ...(prev?.attributes ?? {}), ...(input.attributes ?? {}) },
    locations: [...locations.values()],
    recordedAt: prev?.recordedAt ?? time,
    updatedAt: time,
  };
  return { op: prev ? 'update' : 'insert', record, contentHash };
}

/** Plans one grant. */
export function planGrant(
  input: GrantInput,
  identityId: string,
  existing: Stored<Grant> | undefined,
  time: string,
): Planned<Grant> {
  const contentHash = hashOf(input);
  if (existing && existing.contentHash === contentHash)
    return { op: 'none', record: existing.record, contentHash };
  const prev = existing?.record;
  const record: Grant = {
    id: prev?.id ?? newId(ID_PREFIX.grant),
    identityId,
    effect: input.effect ?? 'allow',
    actions: input.actions,
    resources: input.resources,
    source: input.source,
    key: input.key,
    admin: input.admin ?? false,
    attributes: input.attributes ?? {},
    createdAt: prev?.createdAt ?? time,
    updatedAt: time,
  };
  return { op: prev ? 'update' : 'insert', record, contentHash };
}

/** Plans one resource. */
export function planResource(
  input: ResourceInput,
  existing: Stored<Resource> | undefined,
  time: string,
): Planned<Resource> {
  const contentHash = hashOf(input);
  if (existing && existing.contentHash === contentHash)
    return { op: 'none', record: existing.record, contentHash };
  const prev = existing?.record;
  const record: Resource = {
    id: prev?.id ?? newId(ID_PREFIX.resource),
    provider: input.provider,
    type: input.type,
    name: input.name,
    environment: input.environment ?? prev?.environment ?? null,
    attributes: { ...(prev?.attributes ?? {}), ...(input.attributes ?? {}) },
    createdAt: prev?.createdAt ?? time,
    updatedAt: time,
  };
  return { op: prev ? 'update' : 'insert', record, contentHash };
}

/** Plans one directory entry (email already lower-cased by dedupeBatch). */
export function planPerson(
  input: PersonInput,
  existing: Stored<Person> | undefined,
  time: string,
): Planned<Person> {
  const contentHash = hashOf(input);
  if (existing && existing.contentHash === contentHash)
    return { op: 'none', record: existing.record, contentHash };
  const prev = existing?.record;
  const record: Person = {
    id: prev?.id ?? newId(ID_PREFIX.person),
    email: input.email,
    name: input.name ?? prev?.name ?? null,
    status: input.status,
    department: input.department ?? prev?.department ?? null,
    manager: input.manager ?? prev?.manager ?? null,
    leftAt:
      input.status === 'active'
        ? null
        : (input.leftAt ?? prev?.leftAt ?? (input.status === 'left' ? time : null)),
    updatedAt: time,
  };
  return { op: prev ? 'update' : 'insert', record, contentHash };
}

/** Error for a credential or grant whose identity is neither in the batch nor stored. */
export function unknownIdentityError(
  what: 'credential' | 'grant',
  index: number,
  ref: IdentityRef,
): ValidationError {
  return new ValidationError(
    `${what} ${index} refers to identity ${ref.provider}:${ref.externalId}, which is neither in the batch nor stored`,
    {
      code: 'KW_INVALID_IMPORT',
      details: [{ path: `${what}s[${index}].identity`, message: 'unknown identity' }],
    },
  );
}

/** Tally of operations. */
export function countOps(plans: Array<{ op: Planned<unknown>['op'] }>): ChangeCounts {
  const c: ChangeCounts = { created: 0, updated: 0, unchanged: 0 };
  for (const p of plans) {
    if (p.op === 'insert') c.created++;
    else if (p.op === 'update') c.updated++;
    else c.unchanged++;
  }
  return c;
}

/** The events a batch appends: one per created or changed identity and credential, then a summary. */
export function batchEvents(
  ctx: BatchContext,
  identities: Planned<Identity>[],
  credentials: Planned<Credential>[],
  counts: Omit<BatchResult, 'eventSeq'>,
): NewEvent[] {
  const events: NewEvent[] = [];
  for (const p of identities) {
    if (p.op === 'none') continue;
    const r = p.record;
    events.push({
      time: ctx.time,
      type: p.op === 'insert' ? 'identity.created' : 'identity.updated',
      actor: ctx.actor,
      subject: r.id,
      data: {
        id: r.id,
        name: r.name,
        kind: r.kind,
        provider: r.provider,
        externalId: r.externalId,
        environment: r.environment,
        owner: r.owner,
      },
    });
  }
  for (const p of credentials) {
    if (p.op === 'none') continue;
    const r = p.record;
    events.push({
      time: ctx.time,
      type: p.op === 'insert' ? 'credential.created' : 'credential.updated',
      actor: ctx.actor,
      subject: r.identityId,
      data: {
        id: r.id,
        identityId: r.identityId,
        type: r.type,
        provider: r.provider,
        fingerprint: r.fingerprint,
        preview: r.preview,
      },
    });
  }
  events.push({
    time: ctx.time,
    type: 'inventory.batch.applied',
    actor: ctx.actor,
    subject: null,
    data: { source: ctx.source, counts },
  });
  return events;
}

/** Normalises paging input: limit 1–1000 (default 100), offset ≥ 0. */
export function pageBounds(q: { limit?: number; offset?: number } | undefined): {
  limit: number;
  offset: number;
} {
  const limit = Math.min(Math.max(Math.trunc(q?.limit ?? 100), 1), 1000);
  const offset = Math.max(Math.trunc(q?.offset ?? 0), 0);
  return { limit, offset };
}

/** Hash recorded for a record changed through the API (differs from any import's input hash). */
export function apiContentHash(record: unknown): string {
  return hashOf({ api: record });
}

/**
 * Events as they will read back from the store: data that JSON does not round-trip unchanged (a Date, say)
 * would otherwise be hashed in one form and stored in another, and look changed to every later verification.
 * Adapters apply it to events from outside; the events a batch builds are plain JSON already.
 */
export function normaliseEvents(events: NewEvent[]): NewEvent[] {
  return events.map((e) => ({ ...e, data: prepareEventData(e.data) }));
}

/** Assigns seq, id and hashes to new events, continuing the chain after `last`. */
export function chainEvents(events: NewEvent[], last: { seq: number; hash: string } | null): EventRecord[] {
  let seq = last?.seq ?? 0;
  let prevHash = last?.hash ?? GENESIS_HASH;
  return events.map((e) => {
    seq += 1;
    const body = {
      seq,
      id: newSequentialId(ID_PREFIX.event, seq),
      time: e.time,
      type: e.type,
      actor: e.actor,
      subject: e.subject,
      data: e.data,
      prevHash,
    };
    const hash = hashEvent(body);
    prevHash = hash;
    // A literal, not `{ ...body, hash }`: a member added to a spread copy costs a microsecond or two on this V8.
    return {
      seq,
      id: body.id,
      time: body.time,
      type: body.type,
      actor: body.actor,
      subject: body.subject,
      data: body.data,
      prevHash: body.prevHash,
      hash,
    };
  });
}
