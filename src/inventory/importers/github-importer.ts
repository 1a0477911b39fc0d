/**
 * The `github` importer: GitHub REST API listings saved as JSON — App installations of an organization, deploy
 * keys of repositories, and fine-grained personal access tokens granted to an organization — alone or combined.
 */
import { z } from 'zod';
import {
  emptyBatch,
  type GrantInput,
  type IdentityRef,
  type InventoryBatch,
  type ResourceInput,
} from '../../core/inventory-batch.js';
import type { Fingerprinter } from '../../core/fingerprint.js';
import { toIsoOrNull } from '../../core/time.js';
import { parseJsonText } from './importer-json.js';
import {
  createIssueCollector,
  decodeText,
  describeJsonType,
  describeReference,
  importError,
  type IssueCollector,
  type PathSegment,
} from './importer-support.js';
import type { Importer, ImporterContext, ImportSource } from './importer-types.js';

const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO-8601 timestamp');
const permissionMap = z.record(z.string(), z.string());
const repoName = z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'expected "owner/repo"');
const repoList = z.array(z.union([repoName, z.looseObject({ full_name: repoName })])).optional();

const installationSchema = z.looseObject({
  id: z.number().int(),
  account: z.looseObject({ login: z.string().min(1), type: z.string().optional() }).nullable(),
  app_id: z.number().int().optional(),
  app_slug: z.string().min(1),
  target_type: z.string().optional(),
  repository_selection: z.enum(['all', 'selected']),
  permissions: permissionMap,
  events: z.array(z.string()).optional(),
  created_at: isoDate.optional(),
  updated_at: isoDate.optional(),
  suspended_at: isoDate.nullish(),
  suspended_by: z.looseObject({ login: z.string() }).nullish(),
  html_url: z.string().optional(),
  repositories: repoList,
});
const deployKeySchema = z.looseObject({
  id: z.number().int(),
  key: z
    .string()
    .regex(
      /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp\d+|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+=*(\s|$)/,
      'expected an SSH public key ("ssh-ed25519 AAAA…")',
    ),
  title: z.string(),
  read_only: z.boolean(),
  verified: z.boolean().optional(),
  created_at: isoDate.optional(),
  last_used: isoDate.nullish(),
  added_by: z.string().nullish(),
  enabled: z.boolean().optional(),
});
const patSchema = z.looseObject({
  id: z.number().int(),
  owner: z.looseObject({ login: z.string().min(1) }),
  repository_selection: z.enum(['none', 'all', 'subset']),
  repositories_url: z.string().optional(),
  permissions: z.looseObject({
    organization: permissionMap.optional(),
    repository: permissionMap.optional(),
    other: permissionMap.optional(),
  }),
  access_granted_at: isoDate.optional(),
  token_expired: z.boolean(),
  token_expires_at: isoDate.nullable(),
  token_last_used_at: isoDate.nullable(),
  token_id: z.number().int(),
  token_name: z.string().optional(),
  repositories: repoList,
});

const ORG_PERMISSIONS = /^(organization_|members$|team_discussions$)/;
const ADMIN_PERMISSIONS = new Set(['administration', 'organization_administration']);
const CI_TITLE =
  /(^|[^a-z])(ci|cd|ci\/cd|cicd|pipelines?|jenkins|circleci|buildkite|travis|teamcity|drone|bamboo|actions|argo|argocd|flux|fluxcd|spinnaker|tekton|builds?|codebuild|gitlab)([^a-z]|$)/i;

/** The shapes of GitHub JSON this importer reads, for error messages and docs. */
export const GITHUB_SHAPES = [
  '{ "total_count": n, "installations": [...] } (GET /orgs/{org}/installations)',
  '{ "repository": "owner/repo", "deploy_keys": [...] } (GET /repos/{owner}/{repo}/keys)',
  '{ "owner/repo": [...deploy keys], ... }',
  '[...] of fine-grained PATs (GET /orgs/{org}/personal-access-tokens)',
  '{ "org": "acme", "installations": ..., "deploy_keys": ..., "personal_access_tokens": [...] }',
];

function repoNames(list: Array<string | { full_name: string }> | undefined): string[] | null {
  return list ? list.map((r) => (typeof r === 'string' ? r : r.full_name)) : null;
}

class GithubBatchBuilder {
  readonly batch = emptyBatch();
  private readonly resources = new Map<string, ResourceInput>();
  private readonly identities = new Set<string>();

  constructor(private readonly fingerprinter: Fingerprinter) {}

  private resource(r: ResourceInput): string {
    if (!this.resources.has(r.name)) this.resources.set(r.name, r);
    return r.name;
  }

  private repositoryResources(org: string, selection: string, repos: string[] | null): string[] {
    if (selection === 'all') {
      return [
        this.resource({
          provider: 'github',
          type: 'github:repositories',
          name: `github:${org}/*`,
          attributes: { org },
        }),
      ];
    }
    return (repos ?? []).map((r) =>
      this.resource({ provider: 'github', type: 'github:repository', name: `github:${r}` }),
    );
  }

  private permissionGrants(args: {
    identity: IdentityRef;
    keyPrefix: string;
    source: string;
    org: string;
    permissions: Record<string, string>;
    repoResources: string[];
    attributes: Record<string, unknown>;
  }): GrantInput[] {
    return Object.entries(args.permissions).map(([permission, level]) => {
      const orgLevel = ORG_PERMISSIONS.test(permission);
      const resources = orgLevel
        ? [this.resource({ provider: 'github', type: 'github:organization', name: `github:${args.org}` })]
        : args.repoResources;
      return {
        identity: args.identity,
        key: `${args.keyPrefix}${permission}`,
        effect: 'allow',
        actions: [`${permission}:${level}`],
        resources,
        source: args.source,
        admin: ADMIN_PERMISSIONS.has(permission) && level === 'write',
        attributes: { permission, level, ...args.attributes },
      };
    });
  }

  addInstallation(inst: z.infer<typeof installationSchema>, org: string): void {
    const externalId = `installation:${inst.id}`;
    const identity = { provider: 'github', externalId };
    const repos = repoNames(inst.repositories);
    this.batch.identities.push({
      provider: 'github',
      externalId,
      name: inst.app_slug,
      kind: 'app',
      description: `GitHub App ${inst.app_slug} installed on ${org}`,
      createdAt: toIsoOrNull(inst.created_at),
      attributes: {
        installationId: inst.id,
        ...(inst.app_id !== undefined ? { appId: inst.app_id } : {}),
        appSlug: inst.app_slug,
        account: org,
        ...(inst.target_type ? { targetType: inst.target_type } : {}),
        repositorySelection: inst.repository_selection,
        ...(repos ? { repositories: repos } : {}),
        events: inst.events ?? [],
        ...(inst.suspended_at ? { suspendedAt: toIsoOrNull(inst.suspended_at) } : {}),
        ...(inst.suspended_by ? { suspendedBy: inst.suspended_by.login } : {}),
        ...(inst.html_url ? { htmlUrl: inst.html_url } : {}),
      },
    });
    this.batch.grants.push(
      ...this.permissionGrants({
        identity,
        keyPrefix: 'permission:',
        source: externalId,
        org,
        permissions: inst.permissions,
        repoResources: this.repositoryResources(org, inst.repository_selection, repos),
        attributes: { repositorySelection: inst.repository_selection },
      }),
    );
  }

  addDeployKey(repo: string, key: z.infer<typeof deployKeySchema>): void {
    const externalId = `deploy-key:${key.id}`;
    const identity = { provider: 'github', externalId };
    // The key without its comment: `ssh-ed25519 AAAA…`.
    const publicKey = key.key.trim().split(/\s+/).slice(0, 2).join(' ');
    const repoResource = this.resource({
      provider: 'github',
      type: 'github:repository',
      name: `github:${repo}`,
    });
    this.batch.identities.push({
      provider: 'github',
      externalId,
      name: `${repo}:${key.title}`,
      kind: CI_TITLE.test(key.title) ? 'ci-pipeline' : 'bot',
      description: `Deploy key "${key.title}" on ${repo}`,
      createdAt: toIsoOrNull(key.created_at),
      lastSeenAt: toIsoOrNull(key.last_used),
      attributes: {
        repository: repo,
        deployKeyId: key.id,
        readOnly: key.read_only,
        ...(key.verified !== undefined ? { verified: key.verified } : {}),
        ...(key.added_by ? { addedBy: key.added_by } : {}),
      },
    });
    this.batch.credentials.push({
      identity,
      type: 'deploy-key',
      provider: 'github',
      ...this.fingerprinter.describe(publicKey),
      fingerprintSource: 'value',
      externalId: String(key.id),
      name: key.title,
      status: key.enabled === false ? 'inactive' : 'active',
      createdAt: toIsoOrNull(key.created_at),
      lastUsedAt: toIsoOrNull(key.last_used),
      attributes: { keyType: publicKey.split(' ')[0], readOnly: key.read_only, repository: repo },
      locations: [{ kind: 'system', path: `github:${repo}`, line: null, key: `deploy_keys/${key.id}` }],
    });
    this.batch.grants.push({
      identity,
      key: 'deploy-key:contents',
      effect: 'allow',
      actions: [key.read_only ? 'contents:read' : 'contents:write'],
      resources: [repoResource],
      source: externalId,
      admin: false,
      attributes: { readOnly: key.read_only },
    });
  }

  addPat(pat: z.infer<typeof patSchema>, org: string): void {
    const login = pat.owner.login;
    const externalId = `user:${login}`;
    const identity = { provider: 'github', externalId };
    if (!this.identities.has(externalId)) {
      this.identities.add(externalId);
      this.batch.identities.push({
        provider: 'github',
        externalId,
        name: login,
        kind: 'user-key',
        owner: login,
        description: `Fine-grained personal access tokens of ${login}`,
        attributes: { login },
      });
    }
    const source = `github-pat:${pat.token_id}`;
    this.batch.credentials.push({
      identity,
      type: 'pat',
      provider: 'github',
      ...describeReference(this.fingerprinter, source),
      externalId: String(pat.token_id),
      name: pat.token_name ?? null,
      status: pat.token_expired ? 'inactive' : 'active',
      expiresAt: toIsoOrNull(pat.token_expires_at),
      lastUsedAt: toIsoOrNull(pat.token_last_used_at),
      attributes: {
        fineGrained: true,
        org,
        patGrantId: pat.id,
        repositorySelection: pat.repository_selection,
        expired: pat.token_expired,
        ...(pat.access_granted_at ? { accessGrantedAt: toIsoOrNull(pat.access_granted_at) } : {}),
      },
      locations: [
        { kind: 'system', path: `github:${org}`, line: null, key: `personal-access-tokens/${pat.id}` },
      ],
    });
    const repoResources = this.repositoryResources(
      org,
      pat.repository_selection,
      repoNames(pat.repositories),
    );
    const common = { identity, source, org, attributes: { tokenId: pat.token_id } };
    this.batch.grants.push(
      ...this.permissionGrants({
        ...common,
        keyPrefix: `pat:${pat.token_id}:`,
        permissions: pat.permissions.organization ?? {},
        repoResources,
      }),
      ...this.permissionGrants({
        ...common,
        keyPrefix: `pat:${pat.token_id}:`,
        permissions: pat.permissions.repository ?? {},
        repoResources,
      }),
    );
  }

  finish(): InventoryBatch {
    this.batch.resources.push(...[...this.resources.values()].sort((a, b) => a.name.localeCompare(b.name)));
    return this.batch;
  }
}

function each(value: unknown, path: PathSegment[], issues: IssueCollector): Array<[PathSegment[], unknown]> {
  if (!Array.isArray(value)) {
    issues.addAt(path, `expected an array, got ${describeJsonType(value)}`);
    return [];
  }
  return value.map((v, i) => [[...path, i], v]);
}

function orgFromPats(pats: unknown[]): string | null {
  for (const p of pats) {
    const url = p && typeof p === 'object' ? (p as Record<string, unknown>).repositories_url : undefined;
    const m = typeof url === 'string' ? /\/orgs\/([^/]+)\/personal-access-tokens\//.exec(url) : null;
    if (m) return m[1]!;
  }
  return null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function parse(source: ImportSource, ctx: ImporterContext): InventoryBatch {
  const { fileName } = source;
  const text = decodeText(source, 'GitHub REST API JSON (installations, deploy keys or fine-grained PATs)');
  const doc = parseJsonText(fileName, text);
  const issues = createIssueCollector(fileName);
  const b = new GithubBatchBuilder(ctx.fingerprinter);
  const unknownShape = (): Error =>
    importError(
      fileName,
      `not a GitHub listing this importer reads; expected one of: ${GITHUB_SHAPES.join('; ')}`,
    );

  const readInstallations = (value: unknown, path: PathSegment[], org: string | null): void => {
    const list = isObject(value) && 'installations' in value ? value.installations : value;
    const listPath = isObject(value) && 'installations' in value ? [...path, 'installations'] : path;
    for (const [p, raw] of each(list, listPath, issues)) {
      const inst = issues.check(installationSchema, raw, p);
      if (!inst) continue;
      const owner = inst.account?.login ?? org;
      if (!owner) {
        issues.addAt([...p, 'account'], 'the installation has no account; add "org" at the top of the file');
        continue;
      }
      b.addInstallation(inst, owner);
    }
  };
  const readDeployKeys = (repo: string, value: unknown, path: PathSegment[]): void => {
    for (const [p, raw] of each(value, path, issues)) {
      const key = issues.check(deployKeySchema, raw, p);
      if (key) b.addDeployKey(repo, key);
    }
  };
  const readDeployKeyMap = (value: Record<string, unknown>, path: PathSegment[]): void => {
    for (const [repo, keys] of Object.entries(value)) {
      if (!repoName.safeParse(repo).success) {
        issues.addAt([...path, repo], 'expected a repository name "owner/repo" as the key');
        continue;
      }
      readDeployKeys(repo, keys, [...path, repo]);
    }
  };
  const readPats = (value: unknown, path: PathSegment[], org: string | null): void => {
    const list = Array.isArray(value) ? value : [];
    const owner = org ?? orgFromPats(list);
    if (Array.isArray(value) && list.length > 0 && !owner) {
      issues.addAt(
        path,
        'cannot tell the organization; wrap the list as { "org": "<org>", "personal_access_tokens": [...] }',
      );
      return;
    }
    for (const [p, raw] of each(value, path, issues)) {
      const pat = issues.check(patSchema, raw, p);
      if (pat) b.addPat(pat, owner!);
    }
  };

  if (Array.isArray(doc)) {
    const first = doc.find(isObject);
    if (doc.length === 0) return b.finish();
    if (first && 'token_id' in first) readPats(doc, [], null);
    else if (first && ('app_slug' in first || 'app_id' in first)) readInstallations(doc, [], null);
    else if (first && 'key' in first && 'read_only' in first) {
      throw importError(
        fileName,
        'a bare list of deploy keys does not say its repository; wrap it as { "repository": "owner/repo", "deploy_keys": [...] }',
      );
    } else throw unknownShape();
  } else if (isObject(doc)) {
    const keys = Object.keys(doc);
    const combined = ['installations', 'deploy_keys', 'personal_access_tokens'].some((k) => k in doc);
    if (combined) {
      let org: string | null = null;
      if ('org' in doc) {
        if (typeof doc.org === 'string' && doc.org.trim() !== '') org = doc.org.trim();
        else issues.addAt(['org'], 'expected the organization login as a string');
      }
      if ('installations' in doc) readInstallations(doc.installations, ['installations'], org);
      if ('deploy_keys' in doc) {
        const dk = doc.deploy_keys;
        if (Array.isArray(dk)) {
          const repo = repoName.safeParse(doc.repository);
          if (repo.success) readDeployKeys(repo.data, dk, ['deploy_keys']);
          else
            issues.addAt(['repository'], 'a "deploy_keys" array needs "repository": "owner/repo" beside it');
        } else if (isObject(dk)) readDeployKeyMap(dk, ['deploy_keys']);
        else
          issues.addAt(
            ['deploy_keys'],
            `expected an array or an object of "owner/repo": [...], got ${describeJsonType(dk)}`,
          );
      }
      if ('personal_access_tokens' in doc)
        readPats(doc.personal_access_tokens, ['personal_access_tokens'], org);
    } else if (keys.length > 0 && keys.every((k) => k.includes('/') && Array.isArray(doc[k]))) {
      readDeployKeyMap(doc, []);
    } else throw unknownShape();
  } else {
    throw importError(fileName, `expected a JSON object or array, got ${describeJsonType(doc)}`);
  }
  issues.throwIfAny();
  return b.finish();
}

/** Imports GitHub App installations, deploy keys and fine-grained PATs. */
export const githubImporter: Importer = {
  kind: 'github',
  description:
    'GitHub REST API JSON: org App installations, repository deploy keys, fine-grained PATs granted to the org (or all in one file)',
  parse,
};
