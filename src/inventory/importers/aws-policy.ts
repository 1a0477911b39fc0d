/**
 * IAM policy documents for the aws importer: decoding (the IAM API returns them URL-encoded, the CLI as JSON),
 * statements, trust policies, and turning a policy into grants.
 */
import { z } from 'zod';
import type { GrantInput, IdentityRef, ResourceInput } from '../../core/inventory-batch.js';
import type { IssueCollector, PathSegment } from './importer-support.js';

const stringOrList = z.union([z.string(), z.array(z.string())]);
const statementSchema = z.looseObject({
  Sid: z.string().optional(),
  Effect: z.enum(['Allow', 'Deny']),
  Action: stringOrList.optional(),
  NotAction: stringOrList.optional(),
  Resource: stringOrList.optional(),
  NotResource: stringOrList.optional(),
  Principal: z.union([z.literal('*'), z.record(z.string(), stringOrList)]).optional(),
  NotPrincipal: z.union([z.literal('*'), z.record(z.string(), stringOrList)]).optional(),
  Condition: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});
const documentSchema = z.looseObject({
  Version: z.string().optional(),
  Statement: z.union([statementSchema, z.array(statementSchema)]),
});

/** One statement of a policy, normalised to lists. */
export interface PolicyStatement {
  sid: string | null;
  effect: 'allow' | 'deny';
  actions: string[];
  notActions: string[];
  resources: string[];
  notResources: string[];
  /** Principal type → principals (`Service`, `Federated`, `AWS`, `*`), for trust policies. */
  principals: Record<string, string[]>;
  condition: Record<string, Record<string, unknown>> | null;
}

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/**
 * Reads a policy document given as an object, a JSON string, or a URL-encoded JSON string (RFC 3986, as the
 * IAM API returns it); records a problem at `path` and returns null when it is none of these.
 */
export function readPolicyStatements(
  raw: unknown,
  path: readonly PathSegment[],
  issues: IssueCollector,
): PolicyStatement[] | null {
  let doc: unknown = raw;
  if (typeof raw === 'string') {
    doc = undefined;
    for (const attempt of [(s: string) => s, (s: string) => decodeURIComponent(s)]) {
      try {
        doc = JSON.parse(attempt(raw.trim())) as unknown;
        break;
      } catch {
        // Try the next decoding.
      }
    }
    if (doc === undefined) {
      issues.addAt(path, 'not a JSON policy document (nor a URL-encoded one)');
      return null;
    }
  }
  const parsed = issues.check(documentSchema, doc, path);
  if (!parsed) return null;
  const statements = Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement];
  return statements.map((s) => ({
    sid: s.Sid ?? null,
    effect: s.Effect === 'Allow' ? 'allow' : 'deny',
    actions: list(s.Action),
    notActions: list(s.NotAction),
    resources: list(s.Resource),
    notResources: list(s.NotResource),
    principals:
      s.Principal === undefined
        ? {}
        : s.Principal === '*'
          ? { '*': ['*'] }
          : Object.fromEntries(Object.entries(s.Principal).map(([k, v]) => [k, list(v)])),
    condition: s.Condition ?? null,
  }));
}

/** True for an Allow statement granting every action on every resource. */
export function isAdminStatement(s: PolicyStatement): boolean {
  return s.effect === 'allow' && s.actions.some((a) => a === '*' || a === '*:*') && s.resources.includes('*');
}

/** True for the AWS managed AdministratorAccess policy in any partition. */
export function isAdministratorAccessArn(arn: string): boolean {
  return /^arn:aws[a-z-]*:iam::aws:policy\/AdministratorAccess$/.test(arn);
}

function summary(s: PolicyStatement): Record<string, unknown> {
  const out: Record<string, unknown> = { effect: s.effect };
  if (s.sid) out.sid = s.sid;
  if (s.actions.length) out.actions = s.actions;
  if (s.notActions.length) out.notActions = s.notActions;
  if (s.resources.length) out.resources = s.resources;
  if (s.notResources.length) out.notResources = s.notResources;
  if (s.condition) out.condition = s.condition;
  return out;
}

const uniq = (xs: string[]): string[] => [...new Set(xs)];

/**
 * Grants for one attached policy: one `allow` grant under `key` (actions and resources are the union over the
 * Allow statements; `!x` marks NotAction/NotResource; the exact statements are in attributes.statements), plus
 * a `deny` grant under `key#deny` when the policy has Deny statements. `statements` null means the document
 * is not in the export.
 */
export function policyGrants(args: {
  identity: IdentityRef;
  key: string;
  source: string;
  statements: PolicyStatement[] | null;
  attributes: Record<string, unknown>;
  knownAdmin?: boolean;
}): GrantInput[] {
  const { identity, key, source, statements, attributes } = args;
  const knownAdmin = args.knownAdmin ?? false;
  if (statements === null) {
    return [
      {
        identity,
        key,
        effect: 'allow',
        actions: knownAdmin ? ['*'] : [],
        resources: knownAdmin ? ['*'] : [],
        source,
        admin: knownAdmin,
        attributes: { ...attributes, documentAvailable: false },
      },
    ];
  }
  const grants: GrantInput[] = [];
  const allow = statements.filter((s) => s.effect === 'allow');
  const deny = statements.filter((s) => s.effect === 'deny');
  const union = (ss: PolicyStatement[]): { actions: string[]; resources: string[] } => ({
    actions: uniq(ss.flatMap((s) => [...s.actions, ...s.notActions.map((a) => `!${a}`)])),
    resources: uniq(ss.flatMap((s) => [...s.resources, ...s.notResources.map((r) => `!${r}`)])),
  });
  if (allow.length > 0 || deny.length === 0) {
    grants.push({
      identity,
      key,
      effect: 'allow',
      ...union(allow),
      source,
      admin: knownAdmin || allow.some(isAdminStatement),
      attributes: { ...attributes, statements: allow.map(summary) },
    });
  }
  if (deny.length > 0) {
    grants.push({
      identity,
      key: `${key}#deny`,
      effect: 'deny',
      ...union(deny),
      source,
      admin: false,
      attributes: { ...attributes, statements: deny.map(summary) },
    });
  }
  return grants;
}

/** Concrete AWS resources named by Allow statements (ARNs without wildcards; an S3 object pattern names its bucket). */
export function resourcesFromStatements(statements: PolicyStatement[]): ResourceInput[] {
  const out = new Map<string, ResourceInput>();
  for (const s of statements) {
    if (s.effect !== 'allow') continue;
    for (const r of s.resources) {
      const m = /^arn:(aws[a-z-]*):([a-z0-9-]+):([^:]*):([^:]*):(.+)$/.exec(r);
      if (!m) continue;
      let name = r;
      if (m[2] === 's3' && /^[^/*?$]+\/\*$/.test(m[5]!)) name = r.slice(0, -2);
      if (/[*?]|\$\{/.test(name)) continue;
      out.set(name, {
        provider: 'aws',
        type: `aws:${m[2]}`,
        name,
        attributes: { ...(m[4] ? { accountId: m[4] } : {}), ...(m[3] ? { region: m[3] } : {}) },
      });
    }
  }
  return [...out.values()];
}

/** Who a role's trust policy lets assume it. */
export interface TrustSummary {
  services: string[];
  federated: string[];
  aws: string[];
  /** `sub` claims allowed for web-identity federation (`repo:acme/api:ref:refs/heads/main`). */
  oidcSubjects: string[];
  /** True when the trust policy has a `"Principal": "*"` Allow statement. */
  anyone: boolean;
}

/** Summarises a trust policy's Allow statements. */
export function trustSummary(statements: PolicyStatement[]): TrustSummary {
  const t: TrustSummary = { services: [], federated: [], aws: [], oidcSubjects: [], anyone: false };
  for (const s of statements) {
    if (s.effect !== 'allow') continue;
    t.services.push(...(s.principals.Service ?? []));
    t.federated.push(...(s.principals.Federated ?? []));
    t.aws.push(...(s.principals.AWS ?? []));
    if (s.principals['*'] || (s.principals.AWS ?? []).includes('*')) t.anyone = true;
    for (const operator of Object.values(s.condition ?? {})) {
      for (const [k, v] of Object.entries(operator)) {
        if (!k.endsWith(':sub')) continue;
        for (const sub of Array.isArray(v) ? v : [v]) if (typeof sub === 'string') t.oidcSubjects.push(sub);
      }
    }
  }
  return {
    services: uniq(t.services),
    federated: uniq(t.federated),
    aws: uniq(t.aws),
    oidcSubjects: uniq(t.oidcSubjects),
    anyone: t.anyone,
  };
}

// OIDC issuers of CI systems (the host part of an IAM OIDC provider ARN).
const CI_OIDC_PROVIDERS: Array<{ re: RegExp; ci: string }> = [
  { re: /^token\.actions\.githubusercontent\.com/, ci: 'github-actions' },
  { re: /^gitlab\.com|^gitlab\./, ci: 'gitlab-ci' },
  { re: /^oidc\.circleci\.com/, ci: 'circleci' },
  { re: /^app\.terraform\.io/, ci: 'terraform-cloud' },
  { re: /^api\.bitbucket\.org/, ci: 'bitbucket-pipelines' },
  { re: /^vstoken\.dev\.azure\.com/, ci: 'azure-pipelines' },
  { re: /^token\.buildkite\.com|^agent\.buildkite\.com/, ci: 'buildkite' },
];

/** The CI system a federated principal belongs to (`github-actions` for token.actions.githubusercontent.com), or null. */
export function ciProviderOf(federated: string): string | null {
  const host = federated.includes('oidc-provider/')
    ? federated.slice(federated.indexOf('oidc-provider/') + 14)
    : federated;
  return CI_OIDC_PROVIDERS.find((p) => p.re.test(host))?.ci ?? null;
}
