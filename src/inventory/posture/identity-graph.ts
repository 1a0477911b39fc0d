/** The graph of one identity: identity → credentials, identity → grants → resources. */
import { NotFoundError } from '../../core/errors.js';
import type { InventorySnapshot } from '../../core/inventory-batch.js';
import type { Credential, Grant, Identity, Resource } from '../../core/types.js';
import { canMatchWithPrefix, matchesPattern } from '../../core/glob-match.js';
import { fingerprintPrefix } from './posture-context.js';

/** The identity at the centre of the graph. */
export interface IdentityGraphIdentityNode {
  type: 'identity';
  id: string;
  label: string;
  kind: Identity['kind'];
  provider: string;
  environment: string | null;
  owner: string | null;
  riskScore: number | null;
}

/** A credential the identity holds (never its value: preview and fingerprint prefix only). */
export interface IdentityGraphCredentialNode {
  type: 'credential';
  id: string;
  /** The credential's name, or its type when it has none. */
  label: string;
  credentialType: Credential['type'];
  provider: string;
  preview: string;
  /** First 12 hex characters of the keyed fingerprint. */
  fingerprint: string;
  status: Credential['status'];
  expiresAt: string | null;
}

/** A grant of the identity. */
export interface IdentityGraphGrantNode {
  type: 'grant';
  id: string;
  /** The grant's source (policy ARN, role binding, app installation). */
  label: string;
  effect: Grant['effect'];
  actions: string[];
  resources: string[];
  admin: boolean;
}

/** A known resource some grant pattern reaches. */
export interface IdentityGraphResourceNode {
  type: 'resource';
  id: string;
  /** The resource name grants match against. */
  label: string;
  resourceType: string;
  provider: string;
  environment: string | null;
}

/** A grant resource pattern that reaches no known resource (id `pattern:<pattern>`). */
export interface IdentityGraphPatternNode {
  type: 'pattern';
  id: string;
  label: string;
}

/** Any node of an identity graph, told apart by `type`. */
export type IdentityGraphNode =
  | IdentityGraphIdentityNode
  | IdentityGraphCredentialNode
  | IdentityGraphGrantNode
  | IdentityGraphResourceNode
  | IdentityGraphPatternNode;

/** `holds` identity→credential, `granted` identity→grant, `allows`/`denies` grant→resource or pattern. */
export interface IdentityGraphEdge {
  type: 'holds' | 'granted' | 'allows' | 'denies';
  from: string;
  to: string;
  /** On `allows`/`denies`: the grant's actions. */
  actions?: string[];
  /** On `allows`/`denies`: the grant resource pattern that reached the target. */
  pattern?: string;
  /**
   * On edges to resources: `all` when the pattern matches the resource's name, `part` when it only matches
   * things inside it (`k8s:prod/secrets/*` reaches part of `k8s:prod`).
   */
  reach?: 'all' | 'part';
}

/** A plain graph structure (the CLI and the dashboard render it). */
export interface IdentityGraph {
  identityId: string;
  nodes: IdentityGraphNode[];
  edges: IdentityGraphEdge[];
}

/** How a grant resource pattern reaches a resource name, or null when it does not. */
export function patternReach(pattern: string, resourceName: string): 'all' | 'part' | null {
  if (matchesPattern(pattern, resourceName)) return 'all';
  return canMatchWithPrefix(pattern, `${resourceName}/`) ? 'part' : null;
}

/** The resources a pattern reaches. A bare `*` only reaches resources of the identity's own provider. */
function reachedResources(
  pattern: string,
  identity: Identity,
  resources: readonly Resource[],
  byName: ReadonlyMap<string, Resource[]>,
): Array<{ resource: Resource; reach: 'all' | 'part' }> {
  const out: Array<{ resource: Resource; reach: 'all' | 'part' }> = [];
  if (pattern === '*') {
    // A bare `*` is relative to the system that issued the grant: an IAM `*` does not reach GitHub repositories.
    for (const r of resources) if (r.provider === identity.provider) out.push({ resource: r, reach: 'all' });
    return out;
  }
  if (!pattern.includes('*') && !pattern.includes('?')) {
    // A literal pattern: its exact resource, plus every resource it lies under (`a/b/c` lies under `a/b`, `a`).
    for (const r of byName.get(pattern) ?? []) out.push({ resource: r, reach: 'all' });
    for (let i = pattern.lastIndexOf('/'); i > 0; i = pattern.lastIndexOf('/', i - 1)) {
      for (const r of byName.get(pattern.slice(0, i)) ?? []) out.push({ resource: r, reach: 'part' });
    }
    return out;
  }
  for (const r of resources) {
    const reach = patternReach(pattern, r.name);
    if (reach !== null) out.push({ resource: r, reach });
  }
  return out;
}

/**
 * Builds the graph of one identity: its credentials, its grants, and the resources each grant reaches by
 * matching its resource patterns (glob: `*`, `?`) against resource names; patterns that reach no known
 * resource become `pattern` nodes. Throws NotFoundError when the identity is not in the snapshot.
 * @example
 * const graph = buildIdentityGraph(await store.loadSnapshot(), identity.id);
 * graph.edges.filter((e) => e.type === 'allows');
 */
export function buildIdentityGraph(snapshot: InventorySnapshot, identityId: string): IdentityGraph {
  const identity = snapshot.identities.find((i) => i.id === identityId);
  if (!identity) throw new NotFoundError(`no identity with id "${identityId}"`);

  const nodes: IdentityGraphNode[] = [
    {
      type: 'identity',
      id: identity.id,
      label: identity.name,
      kind: identity.kind,
      provider: identity.provider,
      environment: identity.environment,
      owner: identity.owner,
      riskScore: identity.riskScore,
    },
  ];
  const edges: IdentityGraphEdge[] = [];

  for (const c of snapshot.credentials) {
    if (c.identityId !== identityId) continue;
    nodes.push({
      type: 'credential',
      id: c.id,
      label: c.name ?? c.type,
      credentialType: c.type,
      provider: c.provider,
      preview: c.preview,
      fingerprint: fingerprintPrefix(c.fingerprint),
      status: c.status,
      expiresAt: c.expiresAt,
    });
    edges.push({ type: 'holds', from: identity.id, to: c.id });
  }

  const grants = snapshot.grants.filter((g) => g.identityId === identityId);
  for (const g of grants) {
    nodes.push({
      type: 'grant',
      id: g.id,
      label: g.source,
      effect: g.effect,
      actions: g.actions,
      resources: g.resources,
      admin: g.admin,
    });
    edges.push({ type: 'granted', from: identity.id, to: g.id });
  }

  const byName = new Map<string, Resource[]>();
  for (const r of snapshot.resources) {
    const list = byName.get(r.name);
    if (list) list.push(r);
    else byName.set(r.name, [r]);
  }
  const targets = new Map<string, IdentityGraphNode>();
  const reachedCache = new Map<string, Array<{ resource: Resource; reach: 'all' | 'part' }>>();
  for (const g of grants) {
    const edgeType = g.effect === 'allow' ? 'allows' : 'denies';
    // One edge per grant and target; a pattern reaching all of a resource wins over one reaching part of it.
    const grantEdges = new Map<string, IdentityGraphEdge>();
    for (const pattern of g.resources) {
      let reached = reachedCache.get(pattern);
      if (!reached) {
        reached = reachedResources(pattern, identity, snapshot.resources, byName);
        reachedCache.set(pattern, reached);
      }
      if (reached.length === 0) {
        const id = `pattern:${pattern}`;
        if (!targets.has(id)) targets.set(id, { type: 'pattern', id, label: pattern });
        if (!grantEdges.has(id))
          grantEdges.set(id, { type: edgeType, from: g.id, to: id, actions: g.actions, pattern });
        continue;
      }
      for (const { resource: r, reach } of reached) {
        if (!targets.has(r.id)) {
          targets.set(r.id, {
            type: 'resource',
            id: r.id,
            label: r.name,
            resourceType: r.type,
            provider: r.provider,
            environment: r.environment,
          });
        }
        const prev = grantEdges.get(r.id);
        if (prev && (prev.reach === 'all' || reach === 'part')) continue;
        grantEdges.set(r.id, { type: edgeType, from: g.id, to: r.id, actions: g.actions, pattern, reach });
      }
    }
    for (const e of grantEdges.values()) edges.push(e);
  }
  for (const node of targets.values()) nodes.push(node);
  return { identityId, nodes, edges };
}
