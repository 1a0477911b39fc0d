/**
 * The zod schemas of the HTTP API: request schemas validate what clients send, response schemas document
 * what the API returns. The OpenAPI document is generated from these same schemas.
 */
import { z } from 'zod';
import {
  CREDENTIAL_TYPES,
  FINDING_STATUSES,
  IDENTITY_KINDS,
  OWASP_NHI_IDS,
  SEVERITIES,
  type Credential,
  type EventRecord,
  type Grant,
  type Identity,
  type Person,
  type Resource,
  type StoredFinding,
} from '../core/types.js';
import { ERROR_CODES } from '../core/errors.js';
import type { IdentityGraph, ImportResult, RiskBreakdown } from '../inventory/index.js';
import { IMPORTER_KINDS } from '../inventory/index.js';

/** Named schemas that become `components.schemas` entries in the OpenAPI document. */
export const apiSchemaRegistry = z.registry<{ id: string }>();

/** Registers a schema under a component name and returns it. */
function named<S extends z.ZodType>(id: string, schema: S): S {
  apiSchemaRegistry.add(schema, { id });
  return schema;
}

/**
 * A whole number in a query string or path: digits only (no `1e3`, no empty string), then range-checked.
 */
function intParam(min: number, max: number) {
  return z.preprocess(
    (v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v),
    z
      .number({ error: 'must be a whole number' })
      .int({ error: 'must be a whole number' })
      .min(min, { error: `must be at least ${min}` })
      .max(max, { error: `must be at most ${max}` }),
  );
}

const limitParam = intParam(1, 1000).optional().describe('Page size, 1–1000 (default 100)');
const offsetParam = intParam(0, Number.MAX_SAFE_INTEGER)
  .optional()
  .describe('How many matches to skip (default 0)');
// NUL and other C0 control characters (but tab) are rejected: PostgreSQL text cannot hold NUL, and none belongs
// in a name, owner or filter.
const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(max)
    // eslint-disable-next-line no-control-regex
    .regex(/^[^\u0000-\u0008\u000a-\u001f\u007f]*$/, { error: 'must not contain control characters' });

// ── Errors ────────────────────────────────────────────────────────────────────────────────────────────────

/** The body of every error response. */
export const errorBodySchema = named(
  'Error',
  z
    .object({
      code: z.enum(ERROR_CODES).describe('Stable machine-readable code; branch on this, not on the message'),
      message: z.string().describe('What went wrong and what to do, for a person'),
      details: z
        .array(
          z.object({
            path: z.string().describe('Where: `query.limit`, `body.owner`, `params.id`, a file position'),
            message: z.string(),
          }),
        )
        .describe('One entry per problem found in the input (empty when there is nothing more to say)'),
      requestId: z.string().describe('Echoes `x-request-id`; quote it when reporting a problem'),
    })
    .describe('Error response'),
);

/** The body of an error response. */
export type ErrorBody = z.infer<typeof errorBodySchema>;

// ── Domain objects (responses) ────────────────────────────────────────────────────────────────────────────

const isoTime = z.string().describe('ISO-8601 UTC timestamp');
const nullableTime = isoTime.nullable();
const attributes = z.record(z.string(), z.unknown());

/** An identity as the API returns it. */
export const identitySchema: z.ZodType<Identity> = named(
  'Identity',
  z.object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(IDENTITY_KINDS),
    provider: z.string(),
    externalId: z.string(),
    environment: z.string().nullable(),
    owner: z.string().nullable(),
    sponsor: z.string().nullable(),
    description: z.string().nullable(),
    tags: z.array(z.string()),
    attributes,
    createdAt: isoTime,
    updatedAt: isoTime,
    lastSeenAt: nullableTime,
    riskScore: z.number().int().min(0).max(100).nullable(),
  }),
);

const locationSchema = z.object({
  kind: z.enum(['file', 'env', 'config', 'system']),
  path: z.string(),
  line: z.number().int().nullable(),
  key: z.string().nullable(),
  firstSeenAt: isoTime,
  lastSeenAt: isoTime,
});

/** A credential as the API returns it (a fingerprint and a redacted preview, never the value). */
export const credentialSchema: z.ZodType<Credential> = named(
  'Credential',
  z.object({
    id: z.string(),
    identityId: z.string(),
    type: z.enum(CREDENTIAL_TYPES),
    provider: z.string(),
    fingerprint: z.string().describe('HMAC-SHA-256 (hex) under the installation key'),
    fingerprintSource: z.enum(['value', 'reference']),
    preview: z.string().describe('Redacted preview, e.g. `ghp_…a1B2`'),
    externalId: z.string().nullable(),
    name: z.string().nullable(),
    scopes: z.array(z.string()),
    status: z.enum(['active', 'inactive']),
    createdAt: nullableTime,
    expiresAt: nullableTime,
    lastUsedAt: nullableTime,
    lastRotatedAt: nullableTime,
    attributes,
    locations: z.array(locationSchema),
    recordedAt: isoTime,
    updatedAt: isoTime,
  }),
);

/** A grant as the API returns it. */
export const grantSchema: z.ZodType<Grant> = named(
  'Grant',
  z.object({
    id: z.string(),
    identityId: z.string(),
    effect: z.enum(['allow', 'deny']),
    actions: z.array(z.string()),
    resources: z.array(z.string()),
    source: z.string(),
    key: z.string(),
    admin: z.boolean(),
    attributes,
    createdAt: isoTime,
    updatedAt: isoTime,
  }),
);

/** A resource as the API returns it. */
export const resourceSchema: z.ZodType<Resource> = named(
  'Resource',
  z.object({
    id: z.string(),
    provider: z.string(),
    type: z.string(),
    name: z.string(),
    environment: z.string().nullable(),
    attributes,
    createdAt: isoTime,
    updatedAt: isoTime,
  }),
);

/** A directory person as the API returns it. */
export const personSchema: z.ZodType<Person> = named(
  'Person',
  z.object({
    id: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    status: z.enum(['active', 'suspended', 'left']),
    department: z.string().nullable(),
    manager: z.string().nullable(),
    leftAt: nullableTime,
    updatedAt: isoTime,
  }),
);

/** A posture finding as the API returns it. */
export const findingSchema: z.ZodType<StoredFinding> = named(
  'Finding',
  z.object({
    id: z.string(),
    ruleId: z.string(),
    owasp: z.enum(OWASP_NHI_IDS),
    severity: z.enum(SEVERITIES),
    title: z.string(),
    message: z.string(),
    remediation: z.string(),
    identityId: z.string(),
    credentialId: z.string().nullable(),
    evidence: attributes,
    firstSeenAt: isoTime,
    lastSeenAt: isoTime,
    status: z
      .enum(FINDING_STATUSES)
      .describe(
        'open: to fix; accepted: a risk someone accepted (kept across posture runs); resolved: marked fixed',
      ),
    statusReason: z.string().nullable().describe('Why the status was last changed'),
    statusBy: z.string().nullable().describe('Who last changed the status (`api:admin`, `posture`)'),
    statusAt: nullableTime.describe('When the status was last changed'),
  }),
);

/** Body of POST /findings/{id}/status. */
export const findingStatusBody = z.strictObject({
  status: z.enum(FINDING_STATUSES).describe('The new status'),
  reason: z
    .string()
    .max(500)
    .refine((s) => s.trim().length > 0, { error: 'must not be blank' })
    .describe('Why (1–500 characters); recorded with the finding and in the event log'),
});

/** A record of the hash-chained event log. */
export const eventSchema: z.ZodType<EventRecord> = named(
  'Event',
  z.object({
    seq: z.number().int().min(1),
    id: z.string(),
    time: isoTime,
    type: z.string(),
    actor: z.string(),
    subject: z.string().nullable(),
    data: attributes,
    prevHash: z.string(),
    hash: z.string(),
  }),
);

/** An identity's risk score and the factors behind it. */
export const riskBreakdownSchema: z.ZodType<RiskBreakdown> = named(
  'RiskBreakdown',
  z.object({
    identityId: z.string(),
    score: z.number().min(0).max(100),
    factors: z.array(z.object({ name: z.string(), points: z.number(), detail: z.string() })),
  }),
);

/** An identity with everything attached to it. */
export const identityDetailSchema = named(
  'IdentityDetail',
  z.object({
    identity: identitySchema,
    credentials: z.array(credentialSchema),
    grants: z.array(grantSchema),
    findings: z.array(findingSchema),
    risk: riskBreakdownSchema,
  }),
);

const graphNodeSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('identity'),
    id: z.string(),
    label: z.string(),
    kind: z.enum(IDENTITY_KINDS),
    provider: z.string(),
    environment: z.string().nullable(),
    owner: z.string().nullable(),
    riskScore: z.number().nullable(),
  }),
  z.object({
    type: z.literal('credential'),
    id: z.string(),
    label: z.string(),
    credentialType: z.enum(CREDENTIAL_TYPES),
    provider: z.string(),
    preview: z.string(),
    fingerprint: z.string().describe('First 12 hex characters of the keyed fingerprint'),
    status: z.enum(['active', 'inactive']),
    expiresAt: nullableTime,
  }),
  z.object({
    type: z.literal('grant'),
    id: z.string(),
    label: z.string(),
    effect: z.enum(['allow', 'deny']),
    actions: z.array(z.string()),
    resources: z.array(z.string()),
    admin: z.boolean(),
  }),
  z.object({
    type: z.literal('resource'),
    id: z.string(),
    label: z.string(),
    resourceType: z.string(),
    provider: z.string(),
    environment: z.string().nullable(),
  }),
  z.object({
    type: z.literal('pattern'),
    id: z.string().describe('`pattern:<pattern>`'),
    label: z.string(),
  }),
]);

/** The reachability graph of one identity (identity → credentials → grants → resources). */
export const identityGraphSchema: z.ZodType<IdentityGraph> = named(
  'IdentityGraph',
  z.object({
    identityId: z.string(),
    nodes: z.array(graphNodeSchema),
    edges: z.array(
      z.object({
        type: z
          .enum(['holds', 'granted', 'allows', 'denies'])
          .describe(
            '`holds` identity→credential, `granted` identity→grant, `allows`/`denies` grant→resource or pattern',
          ),
        from: z.string(),
        to: z.string(),
        actions: z.array(z.string()).optional().describe("On `allows`/`denies`: the grant's actions"),
        pattern: z
          .string()
          .optional()
          .describe('On `allows`/`denies`: the grant resource pattern that reached the target'),
        reach: z
          .enum(['all', 'part'])
          .optional()
          .describe(
            'On edges to resources: `all` when the pattern matches the name, `part` when only things inside it',
          ),
      }),
    ),
  }),
);

/** Metadata of a posture rule. */
export const postureRuleSchema = named(
  'PostureRule',
  z.object({
    id: z.string(),
    title: z.string(),
    owasp: z.enum(OWASP_NHI_IDS),
    severity: z.enum(SEVERITIES),
    tags: z.array(z.string()),
    docs: z.string(),
  }),
);

const findingCountsSchema = named(
  'FindingsRunResult',
  z.object({
    open: z.number().int().describe('Findings open after the run'),
    created: z.number().int().describe('Findings new in this run'),
    resolved: z.number().int().describe('Findings no longer reported'),
  }),
);

/** Counts returned by POST /findings/refresh. */
export const findingsRefreshSchema = findingCountsSchema;

const changeCounts = z.object({
  created: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
});

/** The outcome of an import. */
export const importResultSchema: z.ZodType<ImportResult> = named(
  'ImportResult',
  z.object({
    kind: z.enum(IMPORTER_KINDS),
    file: z.string(),
    sha256: z.string().describe('SHA-256 (hex) of the imported bytes'),
    bytes: z.number().int(),
    changes: z.object({
      identities: changeCounts,
      credentials: changeCounts,
      grants: changeCounts,
      resources: changeCounts,
      people: changeCounts,
      eventSeq: z.number().int().describe('Sequence number of the summary event of this import'),
    }),
    findings: findingCountsSchema,
  }),
);

/** A page of a listing: `total` counts every match, not only this page. */
function pageOf(id: string, item: z.ZodType) {
  return named(
    id,
    z.object({
      items: z.array(item),
      total: z.number().int().describe('Every match, not only this page'),
      limit: z.number().int(),
      offset: z.number().int(),
    }),
  );
}

export const identityPageSchema = pageOf('IdentityPage', identitySchema);
export const credentialPageSchema = pageOf('CredentialPage', credentialSchema);
export const grantPageSchema = pageOf('GrantPage', grantSchema);
export const resourcePageSchema = pageOf('ResourcePage', resourceSchema);
export const personPageSchema = pageOf('PersonPage', personSchema);
export const findingPageSchema = pageOf('FindingPage', findingSchema);
export const postureRulePageSchema = pageOf('PostureRulePage', postureRuleSchema);

/** A page of the event log; `offset` equals `after` because sequence numbers have no gaps. */
export const eventPageSchema = named(
  'EventPage',
  z.object({
    items: z.array(eventSchema),
    total: z.number().int().describe('Events in the log'),
    limit: z.number().int(),
    offset: z.number().int().describe('Same as `after`'),
    next: z
      .number()
      .int()
      .nullable()
      .describe(
        'Pass as `after` (or, with `order=desc`, as `before`) to read the next page; null when this page reaches the end',
      ),
  }),
);

/** The outcome of verifying the hash chain of the event log. */
export const auditVerificationSchema = named(
  'AuditVerification',
  z.discriminatedUnion('ok', [
    z.object({
      ok: z.literal(true),
      checked: z.number().int().describe('Records confirmed intact (all of them)'),
      lastSeq: z.number().int(),
      lastHash: z
        .string()
        .describe('Hash of the last record; record it elsewhere to detect truncation later'),
    }),
    z.object({
      ok: z.literal(false),
      checked: z.number().int().describe('Records confirmed intact before the first problem'),
      problem: z.object({
        seq: z.number().int(),
        kind: z.enum(['changed', 'missing', 'reordered']),
        message: z.string(),
      }),
    }),
  ]),
);

/** Liveness response. */
export const healthSchema = named('Health', z.object({ status: z.literal('ok') }));

/** Readiness response. */
export const readySchema = named(
  'Ready',
  z.object({ status: z.literal('ready'), store: z.enum(['sqlite', 'postgres']) }),
);

// ── Requests ─────────────────────────────────────────────────────────────────────────────────────────────

const tagsInput = z.array(text(100)).max(100).describe('Free-form labels (at most 100)');
const attributesInput = z
  .record(z.string(), z.unknown())
  .describe('Provider-specific facts worth keeping; never put a secret value here');

/** Path parameter `{id}` of identity routes: an identity id or a unique identity name. */
export const identityRefParams = z.strictObject({
  id: text(500).describe('Identity id (`idn_…`) or its exact name when the name is unique'),
});

/** Path parameter `{id}` of routes that take a record id. */
export const idParams = z.strictObject({ id: text(200).describe('Record id') });

/** Query of GET /identities. */
export const identityListQuery = z.strictObject({
  kind: z.enum(IDENTITY_KINDS).optional().describe('Only identities of this kind'),
  provider: text(100).optional().describe('Only identities of this provider'),
  environment: text(100).optional().describe('Only identities in this environment'),
  owner: text(320).optional().describe('Only identities with this owner (case-insensitive)'),
  tag: text(100).optional().describe('Only identities carrying this tag'),
  q: text(200).optional().describe('Case-insensitive substring of the name or external id'),
  minRisk: intParam(0, 100).optional().describe('Only identities with a risk score at or above this'),
  sort: z.enum(['name', 'risk']).optional().describe('`name` (default) or `risk` (highest first)'),
  limit: limitParam,
  offset: offsetParam,
});

/** Body of POST /identities. */
export const createIdentityBody = named(
  'CreateIdentity',
  z.strictObject({
    name: text(200).describe('Display name'),
    kind: z.enum(IDENTITY_KINDS),
    owner: text(320).describe('The accountable person (email or name); required through the API'),
    provider: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, {
        error: 'must be lowercase letters, digits, `.`, `_` or `-` (at most 64)',
      })
      .optional()
      .describe('Where the identity lives (default `keyward`)'),
    externalId: text(500).optional().describe('Stable key inside the provider (default: the name)'),
    environment: text(100).nullable().optional(),
    sponsor: text(320).nullable().optional().describe('The business sponsor who asked for the identity'),
    description: text(2000).nullable().optional(),
    tags: tagsInput.optional(),
    attributes: attributesInput.optional(),
  }),
);

/** Body of PATCH /identities/{id}: absent fields stay as they are; `tags` and `attributes` replace. */
export const patchIdentityBody = named(
  'PatchIdentity',
  z
    .strictObject({
      name: text(200).optional(),
      kind: z.enum(IDENTITY_KINDS).optional(),
      owner: text(320)
        .optional()
        .describe('Cannot be cleared: every identity managed through the API has one'),
      environment: text(100).nullable().optional(),
      sponsor: text(320).nullable().optional(),
      description: text(2000).nullable().optional(),
      tags: tagsInput.optional().describe('Replaces the tags'),
      attributes: attributesInput.optional().describe('Replaces the attributes'),
    })
    .refine((p) => Object.values(p).some((v) => v !== undefined), {
      error: 'send at least one field to change',
    }),
);

/** Query of GET /credentials. */
export const credentialListQuery = z.strictObject({
  identityId: text(200).optional().describe('Only credentials of this identity'),
  type: z.enum(CREDENTIAL_TYPES).optional(),
  fingerprint: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, { error: 'must be 64 hex characters' })
    .transform((s) => s.toLowerCase())
    .optional()
    .describe('Only credentials with this fingerprint (finds reuse of one secret)'),
  limit: limitParam,
  offset: offsetParam,
});

/** Query of GET /grants. */
export const grantListQuery = z.strictObject({
  identityId: text(200).optional().describe('Only grants of this identity'),
  limit: limitParam,
  offset: offsetParam,
});

/** Query of GET /resources. */
export const resourceListQuery = z.strictObject({
  provider: text(100).optional(),
  type: text(100).optional().describe('`aws:s3-bucket`, `k8s:namespace`, …'),
  limit: limitParam,
  offset: offsetParam,
});

/** Query of GET /people. */
export const personListQuery = z.strictObject({
  status: z.enum(['active', 'suspended', 'left']).optional(),
  limit: limitParam,
  offset: offsetParam,
});

/** Query of GET /findings. */
export const findingListQuery = z.strictObject({
  minSeverity: z.enum(SEVERITIES).optional().describe('Only findings at or above this severity'),
  owasp: z.enum(OWASP_NHI_IDS).optional().describe('Only findings of this OWASP NHI Top 10 category'),
  identityId: text(200).optional(),
  ruleId: text(200).optional(),
  status: z.enum(FINDING_STATUSES).optional().describe('Only findings with this status'),
  limit: limitParam,
  offset: offsetParam,
});

/** Query of routes that only page. */
export const pageQuery = z.strictObject({ limit: limitParam, offset: offsetParam });

/** Query of GET /events. */
export const eventListQuery = z.strictObject({
  after: intParam(0, Number.MAX_SAFE_INTEGER)
    .optional()
    .describe('Return events with a sequence number above this (default 0: from the start)'),
  before: intParam(1, Number.MAX_SAFE_INTEGER)
    .optional()
    .describe('Return events with a sequence number below this (pages `order=desc` listings)'),
  subject: text(200).optional().describe('Only events about this subject (an identity id, an agent id)'),
  order: z.enum(['asc', 'desc']).optional().describe('`asc` (default): oldest first; `desc`: newest first'),
  limit: limitParam,
});

/** Path parameter of POST /imports/{kind}. */
export const importParams = z.strictObject({
  kind: z.enum(IMPORTER_KINDS).describe('Export format of the file'),
});

/** Query of POST /imports/{kind}. */
export const importQuery = z.strictObject({
  filename: z
    .string()
    .min(1, {
      error: 'is required: the name of the file, as it appears in findings and locations',
      abort: true,
    })
    .max(1024, { abort: true })
    // eslint-disable-next-line no-control-regex
    .regex(/^[^\u0000-\u001f\u007f]+$/, { error: 'must not contain control characters', abort: true })
    .refine((s) => s.trim().length > 0, { error: 'must not be blank' })
    .describe('Name of the imported file (used in findings, credential locations and the event log)'),
  cluster: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, {
      error: 'must be 1–63 lowercase letters, digits, ".", "_" or "-"',
    })
    .optional()
    .describe(
      'kubernetes imports: the cluster the export came from, so equal names in two clusters stay apart',
    ),
});

/** An empty query (routes without query parameters reject unknown ones). */
export const noQuery = z.strictObject({});
