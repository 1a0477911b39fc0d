/**
 * The `kubernetes` importer: the JSON List of
 * `kubectl get serviceaccounts,secrets,roles,rolebindings,clusterroles,clusterrolebindings -A -o json`
 * (Namespace items too, when included, for environment and owner labels). ServiceAccounts become workload
 * identities, their token and referenced Secrets become credentials, and role bindings become grants.
 */
import { z } from 'zod';
import {
  emptyBatch,
  type GrantInput,
  type IdentityInput,
  type InventoryBatch,
  type LocationInput,
  type ResourceInput,
} from '../../core/inventory-batch.js';
import type { Fingerprinter } from '../../core/fingerprint.js';
import type { CredentialType } from '../../core/types.js';
import { toIsoOrNull } from '../../core/time.js';
import { classifyTokenFormat, detectCredential, guessProvider } from './credential-detector.js';
import { parseJsonText } from './importer-json.js';
import {
  createIssueCollector,
  isIdentityKind,
  decodeText,
  describeJsonType,
  environmentFromName,
  importError,
  normaliseEnvironment,
  pickCaseInsensitive,
  type IssueCollector,
  type PathSegment,
} from './importer-support.js';
import type { Importer, ImporterContext, ImportSource } from './importer-types.js';

const stringMap = z.record(z.string(), z.string()).nullish();
const metadataSchema = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().min(1).optional(),
  uid: z.string().optional(),
  labels: stringMap,
  annotations: stringMap,
  creationTimestamp: z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), 'expected an RFC 3339 timestamp')
    .nullish(),
});
const itemSchema = z.looseObject({ kind: z.string().min(1), metadata: metadataSchema });
const nameRefs = z.array(z.looseObject({ name: z.string().min(1) })).nullish();
const serviceAccountSchema = z.looseObject({
  metadata: metadataSchema,
  secrets: nameRefs,
  imagePullSecrets: nameRefs,
  automountServiceAccountToken: z.boolean().optional(),
});
const secretSchema = z.looseObject({
  metadata: metadataSchema,
  type: z.string().optional(),
  data: z.record(z.string(), z.string().nullable()).nullish(),
});
const ruleSchema = z.looseObject({
  apiGroups: z.array(z.string()).nullish(),
  resources: z.array(z.string()).nullish(),
  resourceNames: z.array(z.string()).nullish(),
  nonResourceURLs: z.array(z.string()).nullish(),
  verbs: z.array(z.string()),
});
const roleSchema = z.looseObject({ metadata: metadataSchema, rules: z.array(ruleSchema).nullish() });
const bindingSchema = z.looseObject({
  metadata: metadataSchema,
  roleRef: z.looseObject({ kind: z.enum(['Role', 'ClusterRole']), name: z.string().min(1) }),
  subjects: z
    .array(
      z.looseObject({ kind: z.string().min(1), name: z.string().min(1), namespace: z.string().optional() }),
    )
    .nullish(),
});

type Metadata = z.infer<typeof metadataSchema>;
type Rule = z.infer<typeof ruleSchema>;
type Secret = z.infer<typeof secretSchema> & { path: PathSegment[] };

const SA_TOKEN_TYPE = 'kubernetes.io/service-account-token';
const SA_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
const ENV_KEYS = ['keyward.io/environment', 'environment', 'env', 'app.kubernetes.io/environment'];
const OWNER_KEYS = ['keyward.io/owner', 'owner', 'owner-email', 'contact'];
// Data keys that are never secret: the cluster CA and namespace in token secrets, the user of basic-auth secrets.
const NON_SECRET_DATA_KEYS = new Set(['ca.crt', 'namespace', 'username', 'user']);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Secret types whose data keys have a known credential type. */
const TYPED_SECRET_KEYS: Record<string, Record<string, CredentialType>> = {
  'kubernetes.io/tls': { 'tls.key': 'private-key', 'tls.crt': 'certificate' },
  'kubernetes.io/basic-auth': { password: 'password' },
  'kubernetes.io/ssh-auth': { 'ssh-privatekey': 'private-key' },
  'kubernetes.io/dockerconfigjson': { '.dockerconfigjson': 'basic-auth' },
  'kubernetes.io/dockercfg': { '.dockercfg': 'basic-auth' },
};

interface Namespace {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

function registryProvider(hosts: string[]): string {
  for (const h of hosts) {
    if (/\.dkr\.ecr\.[^.]+\.amazonaws\.com/.test(h)) return 'aws';
    if (/(^|\.)gcr\.io$|-docker\.pkg\.dev$/.test(h)) return 'google';
    if (/^ghcr\.io$/.test(h)) return 'github';
    if (/azurecr\.io$/.test(h)) return 'azure';
  }
  return 'docker';
}

/** Registry host → password (or the password inside `auth`) of a docker config JSON; null when it does not parse. */
function dockerAuths(
  decoded: string,
): Array<{ registry: string; username: string | null; password: string }> | null {
  let doc: unknown;
  try {
    doc = JSON.parse(decoded) as unknown;
  } catch {
    return null;
  }
  // .dockerconfigjson wraps the registries in "auths"; the older .dockercfg does not.
  const auths = doc && typeof doc === 'object' && 'auths' in doc ? (doc as { auths: unknown }).auths : doc;
  if (!auths || typeof auths !== 'object' || Array.isArray(auths)) return null;
  const out: Array<{ registry: string; username: string | null; password: string }> = [];
  for (const [host, entry] of Object.entries(auths as Record<string, unknown>)) {
    if (!entry || typeof entry !== 'object') continue;
    const e = entry as Record<string, unknown>;
    let username = typeof e.username === 'string' ? e.username : null;
    let password = typeof e.password === 'string' ? e.password : null;
    if (password === null && typeof e.auth === 'string') {
      const pair = Buffer.from(e.auth, 'base64').toString('utf8');
      const colon = pair.indexOf(':');
      if (colon !== -1) {
        username = username ?? pair.slice(0, colon);
        password = pair.slice(colon + 1);
      }
    }
    const registry = host.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    if (password) out.push({ registry, username, password });
  }
  return out;
}

function decodeBase64(value: string): string {
  const bytes = Buffer.from(value, 'base64');
  // Binary values (keystores) are fingerprinted in their base64 form.
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) && !text.includes('\u0000') ? text : value;
}

function rulesToGrantParts(
  rules: Rule[],
  scope: string,
): { actions: string[]; resources: string[]; admin: boolean } {
  const actions = new Set<string>();
  const resources = new Set<string>();
  let admin = false;
  for (const r of rules) {
    for (const v of r.verbs) actions.add(v);
    const names = r.resourceNames?.length ? r.resourceNames : ['*'];
    for (const res of r.resources ?? []) for (const n of names) resources.add(`k8s:${scope}/${res}/${n}`);
    for (const url of r.nonResourceURLs ?? []) resources.add(`k8s:nonresource:${url}`);
    if (r.verbs.includes('*') && (r.resources ?? []).includes('*')) admin = true;
  }
  return { actions: [...actions], resources: [...resources], admin };
}

function ruleSummary(r: Rule): Record<string, unknown> {
  const out: Record<string, unknown> = { verbs: r.verbs };
  if (r.apiGroups?.length) out.apiGroups = r.apiGroups;
  if (r.resources?.length) out.resources = r.resources;
  if (r.resourceNames?.length) out.resourceNames = r.resourceNames;
  if (r.nonResourceURLs?.length) out.nonResourceURLs = r.nonResourceURLs;
  return out;
}

class KubernetesBatchBuilder {
  readonly batch = emptyBatch();
  private readonly identities = new Map<string, IdentityInput>();
  readonly namespaces = new Map<string, Namespace>();

  constructor(
    private readonly fingerprinter: Fingerprinter,
    private readonly issues: IssueCollector,
  ) {}

  seeNamespace(ns: string): Namespace {
    let n = this.namespaces.get(ns);
    if (!n) {
      n = { labels: {}, annotations: {} };
      this.namespaces.set(ns, n);
    }
    return n;
  }

  addServiceAccount(meta: Metadata, sa: z.infer<typeof serviceAccountSchema>, path: PathSegment[]): void {
    const ns = meta.namespace ?? 'default';
    const nsInfo = this.seeNamespace(ns);
    const annotations = meta.annotations ?? {};
    const labels = meta.labels ?? {};
    const kindValue = pickCaseInsensitive(annotations, ['keyward.io/kind']);
    let kind: IdentityInput['kind'] = 'workload';
    if (kindValue !== null) {
      if (isIdentityKind(kindValue)) kind = kindValue;
      else
        this.issues.addAt(
          [...path, 'metadata', 'annotations', 'keyward.io/kind'],
          'expected an identity kind (workload, ai-agent, bot, …)',
        );
    }
    const environment =
      normaliseEnvironment(
        pickCaseInsensitive(annotations, ENV_KEYS) ?? pickCaseInsensitive(labels, ENV_KEYS),
      ) ??
      normaliseEnvironment(
        pickCaseInsensitive(nsInfo.annotations, ENV_KEYS) ?? pickCaseInsensitive(nsInfo.labels, ENV_KEYS),
      ) ??
      environmentFromName(ns);
    const owner =
      pickCaseInsensitive(annotations, OWNER_KEYS) ??
      pickCaseInsensitive(labels, OWNER_KEYS) ??
      pickCaseInsensitive(nsInfo.annotations, OWNER_KEYS) ??
      pickCaseInsensitive(nsInfo.labels, OWNER_KEYS);
    const attributes: Record<string, unknown> = { namespace: ns, serviceAccount: meta.name };
    if (meta.uid) attributes.uid = meta.uid;
    if (sa.automountServiceAccountToken !== undefined)
      attributes.automountServiceAccountToken = sa.automountServiceAccountToken;
    if (sa.secrets?.length) attributes.secrets = sa.secrets.map((s) => s.name);
    if (sa.imagePullSecrets?.length) attributes.imagePullSecrets = sa.imagePullSecrets.map((s) => s.name);
    // Workload identity federation: the cloud identity this ServiceAccount acts as.
    const awsRole = annotations['eks.amazonaws.com/role-arn'];
    const gcpSa = annotations['iam.gke.io/gcp-service-account'];
    const azureClient = annotations['azure.workload.identity/client-id'];
    if (awsRole) attributes.awsRoleArn = awsRole;
    if (gcpSa) attributes.gcpServiceAccount = gcpSa;
    if (azureClient) attributes.azureClientId = azureClient;
    this.putIdentity({
      provider: 'kubernetes',
      externalId: `${ns}/${meta.name}`,
      name: `${ns}/${meta.name}`,
      kind,
      environment,
      owner,
      description: pickCaseInsensitive(annotations, ['keyward.io/description', 'description']),
      tags: Object.entries(labels).map(([k, v]) => `${k}=${v}`),
      createdAt: toIsoOrNull(meta.creationTimestamp),
      attributes,
    });
  }

  private putIdentity(identity: IdentityInput): void {
    if (!this.identities.has(identity.externalId)) this.batch.identities.push(identity);
    else {
      const i = this.batch.identities.findIndex((x) => x.externalId === identity.externalId);
      this.batch.identities[i] = identity;
    }
    this.identities.set(identity.externalId, identity);
  }

  /** The identity of a ServiceAccount named by a secret or binding; a stub when the export does not hold it. */
  ensureServiceAccount(ns: string, name: string, via: string): { provider: string; externalId: string } {
    const externalId = `${ns}/${name}`;
    if (!this.identities.has(externalId)) {
      this.seeNamespace(ns);
      this.putIdentity({
        provider: 'kubernetes',
        externalId,
        name: externalId,
        kind: 'workload',
        environment: environmentFromName(ns),
        attributes: { namespace: ns, serviceAccount: name, notInExport: true, referencedBy: via },
      });
    }
    return { provider: 'kubernetes', externalId };
  }

  addTokenSecret(secret: Secret): void {
    const meta = secret.metadata;
    const ns = meta.namespace ?? 'default';
    const saName = meta.annotations?.[SA_NAME_ANNOTATION];
    if (!saName) {
      this.issues.addAt(
        [...secret.path, 'metadata', 'annotations', SA_NAME_ANNOTATION],
        'a service-account-token Secret must name its ServiceAccount',
      );
      return;
    }
    const token = this.decoded(secret, 'token');
    if (token === null) return;
    const jwt = classifyTokenFormat(token);
    const ref = this.ensureServiceAccount(ns, saName, `secret ${meta.name}`);
    this.batch.credentials.push({
      identity: ref,
      type: 'service-account-token',
      provider: 'kubernetes',
      ...this.fingerprinter.describe(token),
      fingerprintSource: 'value',
      externalId: null,
      name: meta.name,
      status: 'active',
      createdAt: toIsoOrNull(meta.creationTimestamp),
      expiresAt: jwt?.expiresAt ?? null,
      attributes: { secretName: meta.name, namespace: ns, legacyToken: true, ...(jwt?.attributes ?? {}) },
      locations: [{ kind: 'system', path: `k8s:${ns}/secret/${meta.name}`, line: null, key: 'token' }],
    });
  }

  /** Decodes one data value; records a problem and returns null when it is not base64. */
  private decoded(secret: Secret, key: string): string | null {
    const raw = secret.data?.[key];
    if (raw === undefined || raw === null || raw === '') return null;
    if (!BASE64.test(raw) || raw.length % 4 !== 0) {
      this.issues.addAt(
        [...secret.path, 'data', key],
        'not valid base64 (kubectl -o json prints Secret data base64-encoded)',
      );
      return null;
    }
    const v = decodeBase64(raw);
    return v.trim() === '' ? null : v;
  }

  addReferencedSecret(
    saRef: { provider: string; externalId: string },
    secret: Secret,
    referencedAs: string,
  ): void {
    const meta = secret.metadata;
    const ns = meta.namespace ?? 'default';
    const type = secret.type ?? 'Opaque';
    const typed = TYPED_SECRET_KEYS[type] ?? {};
    for (const key of Object.keys(secret.data ?? {})) {
      if (NON_SECRET_DATA_KEYS.has(key)) continue;
      const value = this.decoded(secret, key);
      if (value === null) continue;
      const location = (suffix = ''): LocationInput => ({
        kind: 'system',
        path: `k8s:${ns}/secret/${meta.name}`,
        line: null,
        key: `${key}${suffix}`,
      });
      const base = { secretName: meta.name, secretType: type, dataKey: key, referencedAs };
      const push = (
        credType: CredentialType,
        provider: string,
        secret: string,
        name: string,
        loc: LocationInput,
        attributes: Record<string, unknown>,
      ): void => {
        this.batch.credentials.push({
          identity: saRef,
          type: credType,
          provider,
          ...this.fingerprinter.describe(secret),
          fingerprintSource: 'value',
          externalId: null,
          name,
          status: 'active',
          createdAt: toIsoOrNull(meta.creationTimestamp),
          attributes: { ...base, ...attributes },
          locations: [loc],
        });
      };
      const auths = typed[key] === 'basic-auth' ? dockerAuths(value) : null;
      if (auths) {
        // One credential per registry login, so a token reused as a registry password is recognised.
        for (const a of auths) {
          const d = detectCredential(a.password, { keyName: 'password', hints: [a.registry] });
          const known = d && d.reason !== 'key name password' ? d : null;
          push(
            known?.type ?? 'basic-auth',
            known?.provider ?? registryProvider([a.registry]),
            known?.secret ?? a.password,
            `${meta.name}/${a.registry}`,
            location(`:auths.${a.registry}`),
            {
              registry: a.registry,
              ...(a.username ? { username: a.username } : {}),
              ...(known?.attributes ?? {}),
            },
          );
        }
        continue;
      }
      if (typed[key] !== undefined) {
        push(typed[key], 'kubernetes', value, `${meta.name}/${key}`, location(), {});
        continue;
      }
      const d = detectCredential(value, { keyName: key, hints: [meta.name] });
      const guessed = guessProvider(key, meta.name);
      push(
        d?.type ?? 'other',
        d && d.provider !== 'unknown' ? d.provider : guessed === 'unknown' ? 'kubernetes' : guessed,
        d?.secret ?? value,
        `${meta.name}/${key}`,
        location(),
        d?.attributes ?? {},
      );
    }
  }

  addGrant(grant: GrantInput): void {
    this.batch.grants.push(grant);
  }

  serviceAccountsIn(ns: string | null): Array<{ provider: string; externalId: string }> {
    return [...this.identities.values()]
      .filter((i) => ns === null || i.attributes?.namespace === ns)
      .map((i) => ({ provider: i.provider, externalId: i.externalId }));
  }

  finish(): InventoryBatch {
    const resources: ResourceInput[] = [...this.namespaces.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([ns, info]) => ({
        provider: 'kubernetes',
        type: 'k8s:namespace',
        name: `k8s:${ns}`,
        environment:
          normaliseEnvironment(
            pickCaseInsensitive(info.annotations, ENV_KEYS) ?? pickCaseInsensitive(info.labels, ENV_KEYS),
          ) ?? environmentFromName(ns),
        attributes: { namespace: ns },
      }));
    this.batch.resources.push(...resources);
    return this.batch;
  }
}

function parse(source: ImportSource, ctx: ImporterContext): InventoryBatch {
  const { fileName } = source;
  const text = decodeText(
    source,
    'the JSON of `kubectl get serviceaccounts,secrets,roles,rolebindings,clusterroles,clusterrolebindings -A -o json`',
  );
  const doc = parseJsonText(fileName, text);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw importError(
      fileName,
      `expected a Kubernetes List object ({"kind": "List", "items": [...]}), got ${describeJsonType(doc)}`,
    );
  }
  const top = doc as Record<string, unknown>;
  let items: unknown[];
  if (Array.isArray(top.items)) items = top.items;
  else if (typeof top.kind === 'string' && top.metadata && !('items' in top)) items = [top];
  else {
    throw importError(
      fileName,
      'expected a Kubernetes List object with an "items" array (kubectl get … -o json)',
      [{ path: `${fileName}: items`, message: `expected an array, got ${describeJsonType(top.items)}` }],
    );
  }
  const issues = createIssueCollector(fileName);
  const b = new KubernetesBatchBuilder(ctx.fingerprinter, issues);
  const pathOf = (i: number): PathSegment[] => (items === top.items ? ['items', i] : []);

  const sas: Array<{ item: z.infer<typeof serviceAccountSchema>; path: PathSegment[] }> = [];
  const secrets = new Map<string, Secret>();
  const roles = new Map<string, Rule[]>();
  const clusterRoles = new Map<string, Rule[]>();
  const bindings: Array<{ kind: string; item: z.infer<typeof bindingSchema>; path: PathSegment[] }> = [];

  items.forEach((raw, i) => {
    const path = pathOf(i);
    const base = issues.check(itemSchema, raw, path);
    if (!base) return;
    const ns = base.metadata.namespace;
    if (ns) b.seeNamespace(ns);
    switch (base.kind) {
      case 'Namespace': {
        const info = b.seeNamespace(base.metadata.name);
        info.labels = base.metadata.labels ?? {};
        info.annotations = base.metadata.annotations ?? {};
        break;
      }
      case 'ServiceAccount': {
        const sa = issues.check(serviceAccountSchema, raw, path);
        if (sa) sas.push({ item: sa, path });
        break;
      }
      case 'Secret': {
        const s = issues.check(secretSchema, raw, path);
        if (s) secrets.set(`${ns ?? 'default'}/${s.metadata.name}`, { ...s, path });
        break;
      }
      case 'Role':
      case 'ClusterRole': {
        const r = issues.check(roleSchema, raw, path);
        if (!r) break;
        if (base.kind === 'Role') roles.set(`${ns ?? 'default'}/${r.metadata.name}`, r.rules ?? []);
        else clusterRoles.set(r.metadata.name, r.rules ?? []);
        break;
      }
      case 'RoleBinding':
      case 'ClusterRoleBinding': {
        const bi = issues.check(bindingSchema, raw, path);
        if (bi) bindings.push({ kind: base.kind, item: bi, path });
        break;
      }
      default:
        break;
    }
  });

  for (const { item, path } of sas) b.addServiceAccount(item.metadata, item, path);
  for (const s of secrets.values()) if (s.type === SA_TOKEN_TYPE) b.addTokenSecret(s);
  for (const { item } of sas) {
    const ns = item.metadata.namespace ?? 'default';
    const ref = { provider: 'kubernetes', externalId: `${ns}/${item.metadata.name}` };
    const refs = [
      ...(item.secrets ?? []).map((s) => ({ name: s.name, as: 'secret' })),
      ...(item.imagePullSecrets ?? []).map((s) => ({ name: s.name, as: 'imagePullSecret' })),
    ];
    const done = new Set<string>();
    for (const r of refs) {
      const secret = secrets.get(`${ns}/${r.name}`);
      // Token secrets are attached through their annotation above; missing secrets are listed in attributes only.
      if (!secret || secret.type === SA_TOKEN_TYPE || done.has(r.name)) continue;
      done.add(r.name);
      b.addReferencedSecret(ref, secret, r.as);
    }
  }

  for (const { kind, item, path } of bindings) {
    const bns = item.metadata.namespace ?? 'default';
    const namespaced = kind === 'RoleBinding';
    const scope = namespaced ? bns : '*';
    const key = namespaced
      ? `rolebinding:${bns}/${item.metadata.name}`
      : `clusterrolebinding:${item.metadata.name}`;
    const roleRef = item.roleRef;
    const rules =
      roleRef.kind === 'Role' ? roles.get(`${bns}/${roleRef.name}`) : clusterRoles.get(roleRef.name);
    const isClusterAdmin = roleRef.kind === 'ClusterRole' && roleRef.name === 'cluster-admin';
    const parts = rules
      ? rulesToGrantParts(rules, scope)
      : isClusterAdmin
        ? { actions: ['*'], resources: [`k8s:${scope}/*/*`], admin: true }
        : { actions: [], resources: [], admin: false };
    const subjects = new Map<string, { provider: string; externalId: string; via?: string }>();
    (item.subjects ?? []).forEach((s, j) => {
      if (s.kind === 'ServiceAccount') {
        const sns = s.namespace ?? (namespaced ? bns : undefined);
        if (sns === undefined) {
          issues.addAt(
            [...path, 'subjects', j, 'namespace'],
            'a ServiceAccount subject of a ClusterRoleBinding needs a namespace',
          );
          return;
        }
        const ref = b.ensureServiceAccount(sns, s.name, key);
        subjects.set(ref.externalId, ref);
      } else if (s.kind === 'Group' && /^system:serviceaccounts(:|$)/.test(s.name)) {
        const ns =
          s.name === 'system:serviceaccounts' ? null : s.name.slice('system:serviceaccounts:'.length);
        for (const ref of b.serviceAccountsIn(ns))
          if (!subjects.has(ref.externalId)) subjects.set(ref.externalId, { ...ref, via: s.name });
      }
    });
    for (const subject of subjects.values()) {
      b.addGrant({
        identity: { provider: subject.provider, externalId: subject.externalId },
        key,
        effect: 'allow',
        actions: parts.actions,
        resources: parts.resources,
        source: key,
        admin: isClusterAdmin || parts.admin,
        attributes: {
          bindingKind: kind,
          roleRef: `${roleRef.kind}/${roleRef.name}`,
          ...(rules ? { rules: rules.map(ruleSummary) } : { roleMissing: !isClusterAdmin }),
          ...(subject.via ? { viaGroup: subject.via } : {}),
        },
      });
    }
  }
  issues.throwIfAny();
  const batch = b.finish();
  return source.options?.cluster ? scopeToCluster(batch, source.options.cluster) : batch;
}

/**
 * Qualifies every name in a batch with the cluster: identity external ids and names become
 * `<cluster>/<namespace>/<name>`, and `k8s:` resource names, grant patterns and secret locations become
 * `k8s:<cluster>:…`, so two clusters with the same namespace and ServiceAccount names never merge.
 */
export function scopeToCluster(batch: InventoryBatch, cluster: string): InventoryBatch {
  const ref = (r: { provider: string; externalId: string }) => ({
    ...r,
    externalId: `${cluster}/${r.externalId}`,
  });
  const k8s = (s: string): string => (s.startsWith('k8s:') ? `k8s:${cluster}:${s.slice(4)}` : s);
  return {
    identities: batch.identities.map((i) => ({
      ...i,
      externalId: `${cluster}/${i.externalId}`,
      name: i.name === i.externalId ? `${cluster}/${i.name}` : i.name,
      attributes: { ...i.attributes, cluster },
    })),
    credentials: batch.credentials.map((c) => ({
      ...c,
      identity: ref(c.identity),
      locations: c.locations?.map((l) => ({ ...l, path: k8s(l.path) })),
    })),
    grants: batch.grants.map((g) => ({ ...g, identity: ref(g.identity), resources: g.resources.map(k8s) })),
    resources: batch.resources.map((r) => ({
      ...r,
      name: k8s(r.name),
      attributes: { ...r.attributes, cluster },
    })),
    people: batch.people,
  };
}

/** Imports a kubectl JSON List of ServiceAccounts, Secrets, Roles and bindings. */
export const kubernetesImporter: Importer = {
  kind: 'kubernetes',
  options: ['cluster'],
  description:
    'Kubernetes: `kubectl get serviceaccounts,secrets,roles,rolebindings,clusterroles,clusterrolebindings -A -o json` (ServiceAccounts, tokens, secrets, RBAC grants)',
  parse,
};
