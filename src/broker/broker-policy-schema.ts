/**
 * The broker policy file format as a zod schema (strict: unknown fields are errors), the checks that span fields
 * (approval scopes are allowed scopes, defaultTtl ≤ maxTtl, …), and the conversion between the document (what
 * a person writes: `maxTtl: 15m`) and the normalised model (`maxTtlSeconds: 900`) of broker-policy.ts.
 */
import { z } from 'zod';
import {
  AGENT_TYPE_NAME,
  DEFAULT_APPROVAL_TIMEOUT_SECONDS,
  DEFAULT_MAX_TTL_SECONDS,
  MAX_AGENT_TYPE_NAME_LENGTH,
  MAX_APPROVAL_TIMEOUT_SECONDS,
  MAX_CHAIN_DEPTH_CAP,
  MAX_TTL_CAP_SECONDS,
  TOKEN_CLAIMS,
  WEEKDAYS,
  formatDuration,
  isGlob,
  isScopeToken,
  isValidTimeZone,
  parseCidr,
  parseClockTime,
  parseDuration,
  resourceProblem,
  scopeMatches,
  type BrokerPolicy,
} from './broker-policy.js';

/** Limits that keep a policy small enough to decide on quickly; real policies stay far below them. */
export const POLICY_LIMITS = {
  rules: 500,
  scopesPerRule: 500,
  cidrs: 1000,
  timeWindows: 50,
  issuers: 50,
  text: 1000,
} as const;

const DURATION_HINT = 'expected a duration with a unit, such as 90s, 15m or 1h30m';

/** A list whose items must not repeat; the repeat is reported at its own index. */
function uniqueList<T extends z.ZodType<string>>(item: T, what: string, max: number) {
  return z
    .array(item, { error: `expected a list of ${what}` })
    .max(max, `must not list more than ${max} ${what}`)
    .superRefine((list, ctx) => {
      const seen = new Map<string, number>();
      list.forEach((v, i) => {
        const first = seen.get(v);
        if (first !== undefined) {
          ctx.addIssue({ code: 'custom', path: [i], message: `'${v}' is listed twice (also at [${first}])` });
        } else seen.set(v, i);
      });
    });
}

function duration(cap: number, capText: string) {
  return z.string({ error: DURATION_HINT }).superRefine((text, ctx) => {
    const seconds = parseDuration(text);
    if (seconds === null)
      ctx.addIssue({ code: 'custom', message: `'${text}' is not a duration; ${DURATION_HINT}` });
    else if (seconds === 0) ctx.addIssue({ code: 'custom', message: 'must be longer than 0s' });
    else if (seconds > cap) ctx.addIssue({ code: 'custom', message: `must be at most ${capText}` });
  });
}

const nonEmptyText = (max: number) =>
  z
    .string({ error: 'expected text' })
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`);

const scopePattern = z.string({ error: 'expected a scope (text)' }).superRefine((text, ctx) => {
  if (text === '') ctx.addIssue({ code: 'custom', message: 'must not be empty' });
  else if (!isScopeToken(text)) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be a scope: printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3)',
    });
  }
});

const resourcePattern = z
  .string({ error: 'expected a resource URI or pattern (text)' })
  .superRefine((text, ctx) => {
    if (text === '') ctx.addIssue({ code: 'custom', message: 'must not be empty' });
    if (text === '' || text === '*') return;
    if (!isGlob(text)) {
      const problem = resourceProblem(text);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
      return;
    }
    if (/[\s\p{Cc}#]/u.test(text)) {
      ctx.addIssue({ code: 'custom', message: 'must not contain whitespace, control characters or #' });
    } else if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(text)) {
      ctx.addIssue({
        code: 'custom',
        message: 'a pattern must start with a scheme, such as https://*.example.com/*, or be * alone',
      });
    }
  });

const cidr = z.string({ error: 'expected a CIDR such as 10.0.0.0/8 (text)' }).superRefine((text, ctx) => {
  const r = parseCidr(text);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: r.message });
});

const issuer = z.string({ error: 'expected an issuer URI (text)' }).superRefine((text, ctx) => {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(text) || !URL.canParse(text) || /\s/.test(text)) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be an issuer URI such as https://token.actions.githubusercontent.com',
    });
  }
});

export const tokensSchema = z
  .strictObject({
    maxTtl: duration(MAX_TTL_CAP_SECONDS, '24h (the broker never issues longer-lived tokens)').optional(),
    defaultTtl: duration(MAX_TTL_CAP_SECONDS, '24h (the broker never issues longer-lived tokens)').optional(),
    requireDpop: z.boolean({ error: 'expected true or false' }).optional(),
    requireClaims: uniqueList(z.enum(TOKEN_CLAIMS), 'claims', TOKEN_CLAIMS.length).optional(),
  })
  .superRefine((t, ctx) => {
    const max = parseDuration(t.maxTtl ?? '') ?? DEFAULT_MAX_TTL_SECONDS;
    const def = parseDuration(t.defaultTtl ?? '');
    if (def !== null && def > max && max <= MAX_TTL_CAP_SECONDS) {
      const maxText = t.maxTtl === undefined ? `${formatDuration(max)}, the default` : t.maxTtl;
      ctx.addIssue({
        code: 'custom',
        path: ['defaultTtl'],
        message: `${t.defaultTtl} is longer than tokens.maxTtl (${maxText}); shorten defaultTtl or raise maxTtl`,
      });
    }
  });

export const allowRuleSchema = z
  .strictObject({
    resource: resourcePattern,
    scopes: uniqueList(scopePattern, 'scopes', POLICY_LIMITS.scopesPerRule).min(
      1,
      'must list at least one scope',
    ),
    approval: uniqueList(scopePattern, 'scopes', POLICY_LIMITS.scopesPerRule).optional(),
    approvalTimeout: duration(MAX_APPROVAL_TIMEOUT_SECONDS, '24h').optional(),
    description: nonEmptyText(POLICY_LIMITS.text).optional(),
  })
  .superRefine((rule, ctx) => {
    const scopes = Array.isArray(rule.scopes) ? rule.scopes : [];
    (rule.approval ?? []).forEach((a, i) => {
      if (typeof a !== 'string' || scopes.some((s) => typeof s === 'string' && scopeMatches(s, a))) return;
      ctx.addIssue({
        code: 'custom',
        path: ['approval', i],
        message: `'${a}' is not one of this rule's scopes; list it under scopes too (approval only marks allowed scopes)`,
      });
    });
    if (rule.approvalTimeout !== undefined && (rule.approval ?? []).length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['approvalTimeout'],
        message: 'is set but approval lists no scopes; remove it or list the scopes that need approval',
      });
    }
  });

export const denyRuleSchema = z.strictObject({
  resource: resourcePattern,
  scopes: uniqueList(scopePattern, 'scopes', POLICY_LIMITS.scopesPerRule).min(
    1,
    'must list at least one scope',
  ),
  description: nonEmptyText(POLICY_LIMITS.text).optional(),
});

export const timeWindowSchema = z
  .strictObject({
    days: uniqueList(z.enum(WEEKDAYS), 'days', 7).min(1, 'must list at least one day'),
    from: z
      .string({ error: 'expected a time such as "08:00" (quote it)' })
      .refine((t) => parseClockTime(t) !== null, {
        error: 'expected a time from 00:00 to 23:59 (HH:MM, 24-hour clock)',
      }),
    to: z
      .string({ error: 'expected a time such as "18:00" (quote it)' })
      .refine((t) => parseClockTime(t, true) !== null, {
        error: 'expected a time from 00:01 to 24:00 (HH:MM, 24-hour clock)',
      }),
    timezone: z
      .string({ error: 'expected an IANA time zone name such as Europe/Berlin' })
      .refine(isValidTimeZone, { error: 'unknown time zone; use an IANA name such as Europe/Berlin or UTC' })
      .optional(),
  })
  .superRefine((w, ctx) => {
    if (typeof w.from === 'string' && w.from === w.to) {
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: 'equals from, so the window is empty; for a whole day write from: "00:00" and to: "24:00"',
      });
    }
  });

export const conditionsSchema = z.strictObject({
  sourceCidrs: uniqueList(cidr, 'CIDRs', POLICY_LIMITS.cidrs)
    .min(1, 'must list at least one CIDR; remove the field to allow any source address')
    .optional(),
  timeWindows: z
    .array(timeWindowSchema, { error: 'expected a list of time windows' })
    .min(1, 'must list at least one time window; remove the field to allow any time')
    .max(POLICY_LIMITS.timeWindows, `must not list more than ${POLICY_LIMITS.timeWindows} time windows`)
    .optional(),
});

export const exchangeSchema = z
  .strictObject({
    allowed: z.boolean({ error: 'expected true or false' }).optional(),
    maxChainDepth: z
      .number({ error: 'expected a whole number' })
      .int('expected a whole number')
      .min(1, 'must be at least 1')
      .max(MAX_CHAIN_DEPTH_CAP, `must be at most ${MAX_CHAIN_DEPTH_CAP}`)
      .optional(),
    subjectIssuers: uniqueList(issuer, 'issuers', POLICY_LIMITS.issuers).optional(),
  })
  .superRefine((e, ctx) => {
    if (e.allowed === true && (e.subjectIssuers ?? []).length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: e.subjectIssuers === undefined ? [] : ['subjectIssuers'],
        message: 'allowed is true, so subjectIssuers must list the issuers whose tokens may be exchanged',
      });
    }
  });

/** The policy document as written in YAML or JSON. */
export const brokerPolicyDocumentSchema = z.strictObject({
  agentType: z
    .string({ error: 'expected the agent type name (text)' })
    .max(MAX_AGENT_TYPE_NAME_LENGTH, `must be at most ${MAX_AGENT_TYPE_NAME_LENGTH} characters`)
    .regex(AGENT_TYPE_NAME, 'must be lower-case letters, digits and single hyphens, such as support-agent'),
  owner: nonEmptyText(200),
  description: nonEmptyText(POLICY_LIMITS.text).optional(),
  tokens: tokensSchema.optional(),
  allow: z
    .array(allowRuleSchema, { error: 'expected a list of allow rules' })
    .max(POLICY_LIMITS.rules, `must not list more than ${POLICY_LIMITS.rules} rules`),
  deny: z
    .array(denyRuleSchema, { error: 'expected a list of deny rules' })
    .max(POLICY_LIMITS.rules, `must not list more than ${POLICY_LIMITS.rules} rules`)
    .optional(),
  conditions: conditionsSchema.optional(),
  exchange: exchangeSchema.optional(),
});

/** A policy document that passed the schema. */
export type BrokerPolicyDocument = z.output<typeof brokerPolicyDocumentSchema>;

/**
 * The fields each part of the document accepts, keyed by the path with indexes written `[]` (`allow[]`); used to
 * suggest a field name when an unknown one is found.
 */
export const POLICY_FIELDS: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(brokerPolicyDocumentSchema.shape),
  tokens: Object.keys(tokensSchema.shape),
  'allow[]': Object.keys(allowRuleSchema.shape),
  'deny[]': Object.keys(denyRuleSchema.shape),
  conditions: Object.keys(conditionsSchema.shape),
  'conditions.timeWindows[]': Object.keys(timeWindowSchema.shape),
  exchange: Object.keys(exchangeSchema.shape),
};

/** Turns a validated document into the normalised model: durations in seconds, defaults filled in. */
export function toBrokerPolicy(doc: BrokerPolicyDocument): BrokerPolicy {
  const seconds = (d: string | undefined): number | null => (d === undefined ? null : parseDuration(d));
  const maxTtlSeconds = seconds(doc.tokens?.maxTtl) ?? DEFAULT_MAX_TTL_SECONDS;
  return {
    agentType: doc.agentType,
    owner: doc.owner,
    description: doc.description ?? null,
    tokens: {
      maxTtlSeconds,
      defaultTtlSeconds: seconds(doc.tokens?.defaultTtl) ?? Math.min(DEFAULT_MAX_TTL_SECONDS, maxTtlSeconds),
      requireDpop: doc.tokens?.requireDpop ?? false,
      requireClaims: [...(doc.tokens?.requireClaims ?? [])],
    },
    allow: doc.allow.map((r) => {
      const approval = [...(r.approval ?? [])];
      return {
        resource: r.resource,
        scopes: [...r.scopes],
        approval,
        approvalTimeoutSeconds:
          approval.length === 0 ? null : (seconds(r.approvalTimeout) ?? DEFAULT_APPROVAL_TIMEOUT_SECONDS),
        description: r.description ?? null,
      };
    }),
    deny: (doc.deny ?? []).map((r) => ({
      resource: r.resource,
      scopes: [...r.scopes],
      description: r.description ?? null,
    })),
    conditions: {
      sourceCidrs: doc.conditions?.sourceCidrs ? [...doc.conditions.sourceCidrs] : null,
      timeWindows: doc.conditions?.timeWindows
        ? doc.conditions.timeWindows.map((w) => ({
            days: [...w.days],
            from: w.from,
            to: w.to,
            timezone: w.timezone ?? 'UTC',
          }))
        : null,
    },
    exchange: {
      allowed: doc.exchange?.allowed ?? false,
      maxChainDepth: doc.exchange?.maxChainDepth ?? 1,
      subjectIssuers: [...(doc.exchange?.subjectIssuers ?? [])],
    },
  };
}

/**
 * Writes a policy back in the document format with every field explicit, e.g. to store it or show it; parsing
 * the result gives an equal policy.
 */
export function policyToDocument(policy: BrokerPolicy): BrokerPolicyDocument {
  const doc: BrokerPolicyDocument = {
    agentType: policy.agentType,
    owner: policy.owner,
    ...(policy.description === null ? {} : { description: policy.description }),
    tokens: {
      maxTtl: formatDuration(policy.tokens.maxTtlSeconds),
      defaultTtl: formatDuration(policy.tokens.defaultTtlSeconds),
      requireDpop: policy.tokens.requireDpop,
      requireClaims: [...policy.tokens.requireClaims],
    },
    allow: policy.allow.map((r) => ({
      resource: r.resource,
      scopes: [...r.scopes],
      ...(r.approval.length === 0
        ? {}
        : { approval: [...r.approval], approvalTimeout: formatDuration(r.approvalTimeoutSeconds!) }),
      ...(r.description === null ? {} : { description: r.description }),
    })),
    deny: policy.deny.map((r) => ({
      resource: r.resource,
      scopes: [...r.scopes],
      ...(r.description === null ? {} : { description: r.description }),
    })),
    conditions: {
      ...(policy.conditions.sourceCidrs ? { sourceCidrs: [...policy.conditions.sourceCidrs] } : {}),
      ...(policy.conditions.timeWindows
        ? { timeWindows: policy.conditions.timeWindows.map((w) => ({ ...w, days: [...w.days] })) }
        : {}),
    },
    exchange: {
      allowed: policy.exchange.allowed,
      maxChainDepth: policy.exchange.maxChainDepth,
      subjectIssuers: [...policy.exchange.subjectIssuers],
    },
  };
  return doc;
}
