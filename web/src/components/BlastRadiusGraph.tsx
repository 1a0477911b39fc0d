/**
 * The blast radius of one identity as an SVG in four columns (identity → credentials → grants → resources),
 * laid out by `layoutGraph`. Every node is a focusable button: selecting one (click, Enter or Space)
 * highlights the paths through it and shows its details beside the graph. Arrow keys move between nodes
 * (Up/Down in a column, Right/Left along an edge), Escape clears the selection. The SVG scales to the width
 * of its container and scrolls when tall (or when the screen is too narrow to read it).
 */
import { useMemo, useRef, useState } from 'react';
import type { KeyboardEvent, ReactNode } from 'react';
import { GRAPH_COLUMNS, connectedTo, layoutGraph } from '../lib/graph-layout.js';
import type { PlacedNode } from '../lib/graph-layout.js';
import { formatTime, riskBand } from '../lib/format.js';
import type { GraphNode, IdentityGraph } from '../lib/types-inventory.js';
import { fitText } from './charts.js';

const TYPE_NAMES: Record<GraphNode['type'], string> = {
  identity: 'Identity',
  credential: 'Credential',
  grant: 'Grant',
  resource: 'Resource',
  pattern: 'Pattern',
};

/** The second line of a node: what sort of thing it is, in words. */
export function nodeSubtitle(n: GraphNode): string {
  switch (n.type) {
    case 'identity':
      return `${n.kind} · ${n.provider} · risk ${n.riskScore ?? '—'}`;
    case 'credential':
      return `${n.credentialType} · ${n.preview}${n.status === 'inactive' ? ' · inactive' : ''}`;
    case 'grant':
      return `${n.admin ? 'ADMIN · ' : ''}${n.effect} · ${n.actions.length} ${n.actions.length === 1 ? 'action' : 'actions'}`;
    case 'resource':
      return `${n.resourceType}${n.environment ? ` · ${n.environment}` : ''}`;
    case 'pattern':
      return 'pattern · no known resource';
  }
}

/** Accessible name of a node button: type, label and subtitle. */
export function nodeName(n: GraphNode): string {
  return `${TYPE_NAMES[n.type]} ${n.label}: ${nodeSubtitle(n)}`;
}

function tone(n: GraphNode): string {
  if (n.type === 'identity') return `risk-${riskBand(n.riskScore)}`;
  if (n.type === 'grant') return n.admin ? 'admin' : n.effect === 'deny' ? 'deny' : '';
  if (n.type === 'credential') return n.status === 'inactive' ? 'inactive' : '';
  return '';
}

function Row({ k, children }: { k: string; children: ReactNode }) {
  return (
    <>
      <dt>{k}</dt>
      <dd>{children}</dd>
    </>
  );
}

function List({ items }: { items: string[] }) {
  if (items.length === 0) return <span className="muted">none</span>;
  return (
    <ul className="plain-list">
      {items.map((a) => (
        <li key={a}>
          <code>{a}</code>
        </li>
      ))}
    </ul>
  );
}

/** The side panel: the selected node's facts, and how it connects. */
function Details({ graph, node }: { graph: IdentityGraph; node: GraphNode }) {
  const labelOf = (id: string) => graph.nodes.find((n) => n.id === id)?.label ?? id;
  const incoming = graph.edges.filter(
    (e) => e.to === node.id && (e.type === 'allows' || e.type === 'denies'),
  );
  const outgoing = graph.edges.filter(
    (e) => e.from === node.id && (e.type === 'allows' || e.type === 'denies'),
  );
  return (
    <>
      <h3>
        {TYPE_NAMES[node.type]}: <span className="break">{node.label}</span>
      </h3>
      <dl className="facts">
        {node.type === 'identity' && (
          <>
            <Row k="Kind">{node.kind}</Row>
            <Row k="Provider">{node.provider}</Row>
            <Row k="Environment">{node.environment ?? '—'}</Row>
            <Row k="Owner">{node.owner ?? 'no owner'}</Row>
            <Row k="Risk">{`${node.riskScore ?? '—'} (${riskBand(node.riskScore)})`}</Row>
          </>
        )}
        {node.type === 'credential' && (
          <>
            <Row k="Type">{node.credentialType}</Row>
            <Row k="Provider">{node.provider}</Row>
            <Row k="Preview">
              <code>{node.preview}</code>
            </Row>
            <Row k="Fingerprint">
              <code>{node.fingerprint}…</code>
            </Row>
            <Row k="Status">{node.status}</Row>
            <Row k="Expires">{formatTime(node.expiresAt)}</Row>
          </>
        )}
        {node.type === 'grant' && (
          <>
            <Row k="Effect">{node.effect}</Row>
            <Row k="Admin">{node.admin ? 'yes: a known admin or full-access policy' : 'no'}</Row>
            <Row k="Actions">
              <List items={node.actions} />
            </Row>
            <Row k="Resource patterns">
              <List items={node.resources} />
            </Row>
            <Row k="Reaches">
              {outgoing.length === 0 ? (
                <span className="muted">nothing known</span>
              ) : (
                `${outgoing.length} ${outgoing.length === 1 ? 'target' : 'targets'}`
              )}
            </Row>
          </>
        )}
        {node.type === 'resource' && (
          <>
            <Row k="Type">{node.resourceType}</Row>
            <Row k="Provider">{node.provider}</Row>
            <Row k="Environment">{node.environment ?? '—'}</Row>
          </>
        )}
        {node.type === 'pattern' && (
          <Row k="Matches">
            no resource Keyward knows; the grant may still reach things outside the inventory
          </Row>
        )}
      </dl>
      {incoming.length > 0 && (
        <>
          <h4>Reached by</h4>
          <ul className="plain-list">
            {incoming.map((e) => (
              <li key={e.from}>
                <span className={e.type === 'denies' ? 'sev-critical' : undefined}>
                  {e.type === 'denies' ? 'denied by' : 'allowed by'}
                </span>{' '}
                <span className="break">{labelOf(e.from)}</span>
                {e.pattern && (
                  <>
                    {' '}
                    via <code>{e.pattern}</code>
                  </>
                )}
                {e.reach === 'part' && <span className="muted"> (part of it)</span>}
                {e.actions && e.actions.length > 0 && (
                  <div className="muted small">actions: {e.actions.join(', ')}</div>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}

/**
 * @example
 * <BlastRadiusGraph graph={await apiGet<IdentityGraph>(`identities/${id}/graph`)} />
 */
export function BlastRadiusGraph({ graph }: { graph: IdentityGraph }) {
  const layout = useMemo(() => layoutGraph(graph), [graph]);
  const [selected, setSelected] = useState<string | null>(null);
  const refs = useRef(new Map<string, SVGGElement>());
  const lit = useMemo(() => (selected ? connectedTo(graph, selected) : null), [graph, selected]);
  const selectedNode = selected ? graph.nodes.find((n) => n.id === selected) : undefined;
  const counts = GRAPH_COLUMNS.map((_, c) => layout.nodes.filter((p) => p.column === c).length);
  const identity = graph.nodes.find((n) => n.id === graph.identityId);

  const focus = (p: PlacedNode | undefined) => {
    if (p) refs.current.get(p.node.id)?.focus();
  };
  const onKey = (e: KeyboardEvent, p: PlacedNode) => {
    const column = layout.nodes.filter((q) => q.column === p.column);
    const neighbour = (forward: boolean) => {
      const ids = graph.edges
        .filter((edge) => (forward ? edge.from : edge.to) === p.node.id)
        .map((edge) => (forward ? edge.to : edge.from));
      const candidates = layout.nodes.filter((q) => ids.includes(q.node.id));
      return candidates.sort((a, b) => a.column - b.column || a.row - b.row)[
        forward ? 0 : candidates.length - 1
      ];
    };
    switch (e.key) {
      case 'Enter':
      case ' ':
        e.preventDefault();
        setSelected((s) => (s === p.node.id ? null : p.node.id));
        return;
      case 'Escape':
        setSelected(null);
        return;
      case 'ArrowUp':
        e.preventDefault();
        focus(column[p.row - 1]);
        return;
      case 'ArrowDown':
        e.preventDefault();
        focus(column[p.row + 1]);
        return;
      case 'ArrowRight':
        e.preventDefault();
        focus(neighbour(true));
        return;
      case 'ArrowLeft':
        e.preventDefault();
        focus(neighbour(false));
        return;
    }
  };

  const count = (n: number | undefined, one: string, many: string) => `${n ?? 0} ${n === 1 ? one : many}`;
  const summary =
    `Blast radius of ${identity?.label ?? graph.identityId}: ${count(counts[1], 'credential', 'credentials')}, ` +
    `${count(counts[2], 'grant', 'grants')}, ${count(counts[3], 'resource or pattern', 'resources or patterns')} reached. Use Tab or the arrow keys to move between nodes and Enter to select one.`;

  return (
    <div className="graph-layout">
      <div className="graph-scroll">
        <svg
          className="graph-svg"
          role="group"
          aria-label={summary}
          viewBox={`0 0 ${layout.width} ${layout.height}`}
          width="100%"
          preserveAspectRatio="xMidYMin meet"
        >
          {GRAPH_COLUMNS.map((title, c) => (
            <text key={title} x={layout.columnX[c]} y={18} className="graph-column-title" aria-hidden>
              {`${title} (${counts[c]})`}
            </text>
          ))}
          <g aria-hidden>
            {layout.edges.map((e) => (
              <path
                key={e.key}
                d={e.path}
                className={[
                  'graph-edge',
                  `edge-${e.edge.type}`,
                  e.edge.reach === 'part' ? 'edge-part' : '',
                  lit ? (lit.edges.has(e.key) ? 'lit' : 'dim') : '',
                ].join(' ')}
              />
            ))}
          </g>
          {layout.nodes.map((p) => {
            const isSelected = p.node.id === selected;
            const state = lit ? (lit.nodes.has(p.node.id) ? 'lit' : 'dim') : '';
            return (
              <g
                key={p.node.id}
                ref={(el) => {
                  if (el) refs.current.set(p.node.id, el);
                  else refs.current.delete(p.node.id);
                }}
                role="button"
                tabIndex={0}
                aria-pressed={isSelected}
                aria-label={nodeName(p.node)}
                data-node-id={p.node.id}
                className={[
                  'graph-node',
                  `node-${p.node.type}`,
                  tone(p.node),
                  state,
                  isSelected ? 'selected' : '',
                ]
                  .filter(Boolean)
                  .join(' ')}
                transform={`translate(${p.x},${p.y})`}
                onClick={() => setSelected((s) => (s === p.node.id ? null : p.node.id))}
                onKeyDown={(e) => onKey(e, p)}
              >
                <title>{nodeName(p.node)}</title>
                <rect width={p.width} height={p.height} rx={6} />
                <text x={10} y={17} className="graph-node-label">
                  {fitText(p.node.label, p.width - 20)}
                </text>
                <text x={10} y={34} className="graph-node-sub">
                  {fitText(nodeSubtitle(p.node), p.width - 20)}
                </text>
              </g>
            );
          })}
        </svg>
      </div>
      <aside className="card graph-panel" aria-label="Selected node" aria-live="polite">
        {selectedNode ? (
          <Details graph={graph} node={selectedNode} />
        ) : (
          <p className="muted">
            Select a node to highlight its paths and see its details. Dashed lines are denies; dotted lines
            reach only part of a resource.
          </p>
        )}
      </aside>
    </div>
  );
}
