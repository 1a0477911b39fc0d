/**
 * `aws iam get-account-authorization-details` output: users and roles become identities; their attached managed
 * policies, inline policies and group memberships become grants built from the policy documents.
 */
import { z } from 'zod';
import {
  emptyBatch,
  type GrantInput,
  type IdentityInput,
  type IdentityRef,
  type InventoryBatch,
  type ResourceInput,
} from '../../core/inventory-batch.js';
import type { IdentityKind } from '../../core/types.js';
import { toIsoOrNull } from '../../core/time.js';
import { KIND_TAG_KEYS, kindFromIamPath, parseIamArn } from './aws-identities.js';
import {
  ciProviderOf,
  isAdministratorAccessArn,
  policyGrants,
  readPolicyStatements,
  resourcesFromStatements,
  trustSummary,
  type PolicyStatement,
} from './aws-policy.js';
import {
  createIssueCollector,
  isIdentityKind,
  normaliseEnvironment,
  type IssueCollector,
  type PathSegment,
} from './importer-support.js';

const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO-8601 date');
const arnOf = (type: string): z.ZodString =>
  z
    .string()
    .regex(
      new RegExp(`^arn:aws[a-z-]*:iam::\\d{12}:${type}/.+$`),
      `expected an IAM ${type} ARN (arn:aws:iam::<account>:${type}/…)`,
    );
const policyArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/.+$/,
    'expected an IAM policy ARN (arn:aws:iam::<account|aws>:policy/…)',
  );
const tagSchema = z.object({ Key: z.string(), Value: z.string() });
const attachedSchema = z.looseObject({ PolicyName: z.string(), PolicyArn: policyArn });
const inlineSchema = z.looseObject({ PolicyName: z.string().min(1), PolicyDocument: z.unknown() });
const boundarySchema = z.looseObject({ PermissionsBoundaryArn: policyArn }).optional();

const userSchema = z.looseObject({
  Path: z.string().optional(),
  UserName: z.string().min(1),
  UserId: z.string().optional(),
  Arn: arnOf('user'),
  CreateDate: isoDate.optional(),
  UserPolicyList: z.array(inlineSchema).optional(),
  GroupList: z.array(z.string()).optional(),
  AttachedManagedPolicies: z.array(attachedSchema).optional(),
  PermissionsBoundary: boundarySchema,
  Tags: z.array(tagSchema).optional(),
});
const groupSchema = z.looseObject({
  Path: z.string().optional(),
  GroupName: z.string().min(1),
  Arn: arnOf('group'),
  GroupPolicyList: z.array(inlineSchema).optional(),
  AttachedManagedPolicies: z.array(attachedSchema).optional(),
});
const roleSchema = z.looseObject({
  Path: z.string().optional(),
  RoleName: z.string().min(1),
  RoleId: z.string().optional(),
  Arn: arnOf('role'),
  CreateDate: isoDate.optional(),
  AssumeRolePolicyDocument: z.unknown().optional(),
  InstanceProfileList: z.array(z.looseObject({ InstanceProfileName: z.string() })).optional(),
  RolePolicyList: z.array(inlineSchema).optional(),
  AttachedManagedPolicies: z.array(attachedSchema).optional(),
  PermissionsBoundary: boundarySchema,
  Tags: z.array(tagSchema).optional(),
  RoleLastUsed: z.looseObject({ LastUsedDate: isoDate.optional(), Region: z.string().optional() }).optional(),
  MaxSessionDuration: z.number().optional(),
});
const policySchema = z.looseObject({
  PolicyName: z.string().min(1),
  Arn: policyArn,
  DefaultVersionId: z.string().optional(),
  PolicyVersionList: z
    .array(
      z.looseObject({
        Document: z.unknown(),
        VersionId: z.string().optional(),
        IsDefaultVersion: z.boolean().optional(),
      }),
    )
    .optional(),
});

/** Top-level lists of the export. */
export const AUTHORIZATION_DETAILS_KEYS = [
  'UserDetailList',
  'GroupDetailList',
  'RoleDetailList',
  'Policies',
] as const;

interface ManagedPolicy {
  name: string;
  statements: PolicyStatement[] | null;
}

interface Group {
  name: string;
  attached: Array<{ PolicyName: string; PolicyArn: string }>;
  inline: Array<{ name: string; statements: PolicyStatement[] | null }>;
}

type Tags = Array<{ Key: string; Value: string }>;

function tagValue(tags: Tags | undefined, keys: readonly string[]): { value: string; index: number } | null {
  const wanted = keys.map((k) => k.toLowerCase());
  for (const key of wanted) {
    const index = (tags ?? []).findIndex((t) => t.Key.toLowerCase() === key && t.Value.trim() !== '');
    if (index !== -1) return { value: tags![index]!.Value.trim(), index };
  }
  return null;
}

function records(
  top: Record<string, unknown>,
  key: string,
  issues: IssueCollector,
): Array<[number, unknown]> {
  const v = top[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    issues.addAt([key], `expected an array, got ${v === null ? 'null' : typeof v}`);
    return [];
  }
  return v.map((item, i) => [i, item]);
}

/** Reads the identity fields tags carry: environment, owner, description, kind override, tag strings. */
function fromTags(
  tags: Tags | undefined,
  path: readonly PathSegment[],
  issues: IssueCollector,
): {
  environment: string | null;
  owner: string | null;
  description: string | null;
  kind: IdentityKind | null;
  tags: string[];
} {
  const kindTag = tagValue(tags, KIND_TAG_KEYS);
  let kind: IdentityKind | null = null;
  if (kindTag) {
    const v = kindTag.value.toLowerCase();
    if (isIdentityKind(v)) kind = v;
    else
      issues.addAt(
        [...path, 'Tags', kindTag.index, 'Value'],
        'expected an identity kind (ai-agent, service-account, ci-pipeline, bot, mcp-server, workload, app, user-key, other)',
      );
  }
  return {
    environment: normaliseEnvironment(tagValue(tags, ['environment', 'env', 'keyward:environment'])?.value),
    owner: tagValue(tags, ['owner', 'keyward:owner', 'keyward.io/owner', 'owner-email'])?.value ?? null,
    description: tagValue(tags, ['description'])?.value ?? null,
    kind,
    tags: (tags ?? []).map((t) => `${t.Key}=${t.Value}`),
  };
}

/**
 * Parses the JSON of `aws iam get-account-authorization-details` into identities, grants and resources.
 * @example parseAuthorizationDetails('auth.json', JSON.parse(text))
 */
export function parseAuthorizationDetails(fileName: string, top: Record<string, unknown>): InventoryBatch {
  const issues = createIssueCollector(fileName);
  const batch = emptyBatch();
  const usedStatements: PolicyStatement[] = [];

  const policies = new Map<string, ManagedPolicy>();
  for (const [i, raw] of records(top, 'Policies', issues)) {
    const p = issues.check(policySchema, raw, ['Policies', i]);
    if (!p) continue;
    const versions = p.PolicyVersionList ?? [];
    let vi = versions.findIndex((v) => v.IsDefaultVersion === true);
    if (vi === -1)
      vi = versions.findIndex((v) => v.VersionId !== undefined && v.VersionId === p.DefaultVersionId);
    if (vi === -1 && versions.length > 0) vi = 0;
    const statements =
      vi === -1
        ? null
        : readPolicyStatements(
            versions[vi]!.Document,
            ['Policies', i, 'PolicyVersionList', vi, 'Document'],
            issues,
          );
    policies.set(p.Arn, { name: p.PolicyName, statements });
  }

  const inlineStatements = (
    list: Array<{ PolicyName: string; PolicyDocument: unknown }> | undefined,
    path: PathSegment[],
    field: string,
  ): Array<{ name: string; statements: PolicyStatement[] | null }> =>
    (list ?? []).map((p, j) => ({
      name: p.PolicyName,
      statements: readPolicyStatements(p.PolicyDocument, [...path, field, j, 'PolicyDocument'], issues),
    }));

  const groups = new Map<string, Group>();
  for (const [i, raw] of records(top, 'GroupDetailList', issues)) {
    const g = issues.check(groupSchema, raw, ['GroupDetailList', i]);
    if (!g) continue;
    groups.set(g.GroupName, {
      name: g.GroupName,
      attached: g.AttachedManagedPolicies ?? [],
      inline: inlineStatements(g.GroupPolicyList, ['GroupDetailList', i], 'GroupPolicyList'),
    });
  }

  const managedGrants = (
    identity: IdentityRef,
    attached: Array<{ PolicyName: string; PolicyArn: string }>,
    prefix: string,
    extra: Record<string, unknown>,
  ): GrantInput[] =>
    attached.flatMap((a) => {
      const policy = policies.get(a.PolicyArn);
      if (policy?.statements) usedStatements.push(...policy.statements);
      const key = `${prefix}${a.PolicyArn}`;
      return policyGrants({
        identity,
        key,
        source: key,
        statements: policy?.statements ?? null,
        knownAdmin: isAdministratorAccessArn(a.PolicyArn),
        attributes: {
          policyName: a.PolicyName,
          policyType: a.PolicyArn.includes(':iam::aws:policy/') ? 'aws-managed' : 'customer-managed',
          ...extra,
        },
      });
    });

  const inlineGrants = (
    identity: IdentityRef,
    inline: Array<{ name: string; statements: PolicyStatement[] | null }>,
    prefix: string,
    extra: Record<string, unknown>,
  ): GrantInput[] =>
    inline.flatMap((p) => {
      if (p.statements === null) return [];
      usedStatements.push(...p.statements);
      const key = `${prefix}inline:${p.name}`;
      return policyGrants({
        identity,
        key,
        source: key,
        statements: p.statements,
        attributes: { policyName: p.name, policyType: 'inline', ...extra },
      });
    });

  for (const [i, raw] of records(top, 'UserDetailList', issues)) {
    const path: PathSegment[] = ['UserDetailList', i];
    const u = issues.check(userSchema, raw, path);
    if (!u) continue;
    const arn = parseIamArn(u.Arn)!;
    const t = fromTags(u.Tags, path, issues);
    const iamPath = u.Path ?? arn.path;
    const identity: IdentityInput = {
      provider: 'aws',
      externalId: u.Arn,
      name: u.UserName,
      kind: t.kind ?? kindFromIamPath(iamPath) ?? 'service-account',
      environment: t.environment,
      owner: t.owner,
      description: t.description,
      tags: t.tags,
      createdAt: toIsoOrNull(u.CreateDate),
      attributes: {
        accountId: arn.accountId,
        iamType: 'user',
        path: iamPath,
        ...(u.UserId ? { userId: u.UserId } : {}),
        groups: u.GroupList ?? [],
        ...(u.PermissionsBoundary
          ? { permissionsBoundary: u.PermissionsBoundary.PermissionsBoundaryArn }
          : {}),
      },
    };
    batch.identities.push(identity);
    const ref = { provider: 'aws', externalId: u.Arn };
    batch.grants.push(...managedGrants(ref, u.AttachedManagedPolicies ?? [], '', {}));
    batch.grants.push(
      ...inlineGrants(ref, inlineStatements(u.UserPolicyList, path, 'UserPolicyList'), '', {}),
    );
    for (const groupName of u.GroupList ?? []) {
      const g = groups.get(groupName);
      if (!g) continue;
      batch.grants.push(...managedGrants(ref, g.attached, `group:${g.name}:`, { viaGroup: g.name }));
      batch.grants.push(...inlineGrants(ref, g.inline, `group:${g.name}:`, { viaGroup: g.name }));
    }
  }

  for (const [i, raw] of records(top, 'RoleDetailList', issues)) {
    const path: PathSegment[] = ['RoleDetailList', i];
    const r = issues.check(roleSchema, raw, path);
    if (!r) continue;
    const arn = parseIamArn(r.Arn)!;
    const t = fromTags(r.Tags, path, issues);
    const trustStatements =
      r.AssumeRolePolicyDocument === undefined
        ? []
        : (readPolicyStatements(r.AssumeRolePolicyDocument, [...path, 'AssumeRolePolicyDocument'], issues) ??
          []);
    const trust = trustSummary(trustStatements);
    const ci = trust.federated.map(ciProviderOf).find((c) => c !== null) ?? null;
    const bedrock = trust.services.some((s) => /^bedrock(-agentcore)?\.amazonaws\.com$/.test(s));
    const iamPath = r.Path ?? arn.path;
    const kind: IdentityKind = t.kind ?? (ci ? 'ci-pipeline' : bedrock ? 'ai-agent' : 'workload');
    const identity: IdentityInput = {
      provider: 'aws',
      externalId: r.Arn,
      name: r.RoleName,
      kind,
      environment: t.environment,
      owner: t.owner,
      description: t.description,
      tags: t.tags,
      createdAt: toIsoOrNull(r.CreateDate),
      lastSeenAt: toIsoOrNull(r.RoleLastUsed?.LastUsedDate),
      attributes: {
        accountId: arn.accountId,
        iamType: 'role',
        path: iamPath,
        ...(r.RoleId ? { roleId: r.RoleId } : {}),
        trust,
        ...(ci ? { ciProvider: ci } : {}),
        ...(iamPath.startsWith('/aws-service-role/') ? { serviceLinked: true } : {}),
        ...(r.InstanceProfileList?.length
          ? { instanceProfiles: r.InstanceProfileList.map((p) => p.InstanceProfileName) }
          : {}),
        ...(r.PermissionsBoundary
          ? { permissionsBoundary: r.PermissionsBoundary.PermissionsBoundaryArn }
          : {}),
        ...(r.RoleLastUsed?.Region ? { lastUsedRegion: r.RoleLastUsed.Region } : {}),
      },
    };
    batch.identities.push(identity);
    const ref = { provider: 'aws', externalId: r.Arn };
    batch.grants.push(...managedGrants(ref, r.AttachedManagedPolicies ?? [], '', {}));
    batch.grants.push(
      ...inlineGrants(ref, inlineStatements(r.RolePolicyList, path, 'RolePolicyList'), '', {}),
    );
  }

  issues.throwIfAny();
  const resources = new Map<string, ResourceInput>();
  for (const r of resourcesFromStatements(usedStatements)) resources.set(r.name, r);
  batch.resources.push(...[...resources.values()].sort((a, b) => a.name.localeCompare(b.name)));
  return batch;
}
