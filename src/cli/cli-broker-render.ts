/** What the broker commands print for people: listings of agent types, agents, upstreams and approvals. */
import type { AgentSummary, AgentType, Approval, UpstreamSummary } from '../core/broker-types.js';
import { formatTime, renderTable, type Cell, type RenderOptions } from './cli-render.js';

/** `created`, `changed` or `unchanged` for the outcome of an upsert. */
export function savedVerb(saved: {
  created: boolean;
  changed: boolean;
}): 'created' | 'changed' | 'unchanged' {
  if (saved.created) return 'created';
  return saved.changed ? 'changed' : 'unchanged';
}

/** The agent type listing: name, owner, policy version, policy source, last change. */
export function renderAgentTypes(types: readonly AgentType[], opts: RenderOptions): string {
  if (opts.tty && types.length === 0)
    return 'no agent types; add one with `keyward agent-types apply <policy.yaml>`\n';
  return renderTable(
    [
      { header: 'name' },
      { header: 'owner' },
      { header: 'version', align: 'right' },
      { header: 'source' },
      { header: 'updated' },
    ],
    types.map((t) => [
      t.name,
      t.owner,
      String(t.policyVersion),
      t.policySource,
      formatTime(t.updatedAt, opts),
    ]),
    opts,
  );
}

/** How an agent logs in, e.g. `secret+jwks`. */
export function agentAuthMethods(agent: AgentSummary): string {
  const methods: string[] = [];
  if (agent.auth.hasSecret) methods.push('secret');
  if (agent.auth.jwks !== null) methods.push('jwks');
  if (agent.auth.federated.length > 0) methods.push('federated');
  return methods.length === 0 ? '-' : methods.join('+');
}

/** The agent listing: id, name, agent type, client_id, status, login methods, last use. */
export function renderAgents(
  agents: readonly AgentSummary[],
  typeNames: ReadonlyMap<string, string>,
  opts: RenderOptions,
): string {
  if (opts.tty && agents.length === 0) return 'no agents match\n';
  const rows: Cell[][] = agents.map((a) => [
    a.id,
    a.name,
    typeNames.get(a.agentTypeId) ?? a.agentTypeId,
    a.clientId,
    a.status === 'active' ? a.status : { text: a.status, style: 'yellow' },
    agentAuthMethods(a),
    formatTime(a.lastUsedAt, opts),
  ]);
  return renderTable(
    [
      { header: 'id' },
      { header: 'name' },
      { header: 'type' },
      { header: 'client_id' },
      { header: 'status' },
      { header: 'auth' },
      { header: 'last used' },
    ],
    rows,
    opts,
  );
}

/** The upstream listing: name, base URL, auth kind, credential preview, routes as `scope METHODS path`. */
export function renderUpstreams(upstreams: readonly UpstreamSummary[], opts: RenderOptions): string {
  if (opts.tty && upstreams.length === 0) return 'no upstreams; add one with `keyward upstreams add`\n';
  return renderTable(
    [
      { header: 'name' },
      { header: 'base url' },
      { header: 'auth' },
      { header: 'credential' },
      { header: 'routes' },
    ],
    upstreams.map((u) => [
      u.name,
      u.baseUrl,
      u.auth.kind === 'header' ? `header ${u.auth.headerName ?? ''}`.trim() : u.auth.kind,
      u.secretPreview,
      u.routes.map((r) => `${r.scope} ${r.methods.join(',')} ${r.paths.join(',')}`).join('; '),
    ]),
    opts,
  );
}

/** The approval listing: id, status, agent, scopes, resource, requested, deadline, decided by. */
export function renderApprovals(approvals: readonly Approval[], opts: RenderOptions): string {
  if (opts.tty && approvals.length === 0) return 'no approval requests match\n';
  const rows: Cell[][] = approvals.map((a) => [
    a.id,
    a.status === 'pending' ? { text: a.status, style: 'yellow' } : a.status,
    a.agentId,
    a.scopes.join(' '),
    a.resource ?? '-',
    formatTime(a.requestedAt, opts),
    formatTime(a.expiresAt, opts),
    a.decidedBy ?? '-',
  ]);
  return renderTable(
    [
      { header: 'id' },
      { header: 'status' },
      { header: 'agent' },
      { header: 'scopes' },
      { header: 'resource' },
      { header: 'requested' },
      { header: 'expires' },
      { header: 'decided by' },
    ],
    rows,
    opts,
  );
}
