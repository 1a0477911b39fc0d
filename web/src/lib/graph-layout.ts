/**
 * Layered layout of an identity's blast-radius graph (GET /identities/{id}/graph) in four columns:
 * identity → credentials → grants → resources (and patterns that reach no known resource). Pure: the
 * component draws what this returns, and tests check columns, order and edge ends without a browser.
 */
import type { GraphEdge, GraphNode, IdentityGraph } from './types-inventory.js';

/** Column titles, left to right. */
export const GRAPH_COLUMNS = ['Identity', 'Credentials', 'Grants', 'Resources'] as const;

/** Sizes of the drawing, in SVG user units. */
export interface GraphLayoutOptions {
  nodeWidth: number;
  nodeHeight: number;
  /** Space between columns (the edges run there). */
  gapX: number;
  /** Space between nodes of one column. */
  gapY: number;
  padding: number;
  /** Height of the column titles above the nodes. */
  headerHeight: number;
}

export const DEFAULT_GRAPH_LAYOUT: GraphLayoutOptions = {
  nodeWidth: 200,
  nodeHeight: 44,
  gapX: 72,
  gapY: 12,
  padding: 12,
  headerHeight: 28,
};

/** A node with its place. */
export interface PlacedNode {
  node: GraphNode;
  column: number;
  /** Position in its column, from 0 at the top. */
  row: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * An edge with its two ends (right middle of `from`, left middle of `to`) and an SVG path between them; an
 * edge that skips a column runs along a lane above or below that column's nodes.
 */
export interface PlacedEdge {
  edge: GraphEdge;
  /** `from->to`, unique in a graph. */
  key: string;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  path: string;
}

export interface GraphLayout {
  width: number;
  height: number;
  /** Left edge of each column (for its title). */
  columnX: number[];
  nodes: PlacedNode[];
  /** Edges whose both ends are in the graph, in the order of the answer. */
  edges: PlacedEdge[];
}

/** Column of a node type. */
export function columnOf(node: GraphNode): number {
  switch (node.type) {
    case 'identity':
      return 0;
    case 'credential':
      return 1;
    case 'grant':
      return 2;
    default:
      return 3;
  }
}

const byLabel = (a: GraphNode, b: GraphNode) => a.label.localeCompare(b.label) || a.id.localeCompare(b.id);

/**
 * Places every node. Order within a column: credentials by label; grants admin first, then allow before
 * deny, then by label; resources and patterns by the mean row of the grants reaching them (fewer crossing
 * edges), then resources before patterns, then by label. Each column is centred on the tallest one.
 * @example
 * const { width, height, nodes, edges } = layoutGraph(graph);
 */
export function layoutGraph(graph: IdentityGraph, options: Partial<GraphLayoutOptions> = {}): GraphLayout {
  const o = { ...DEFAULT_GRAPH_LAYOUT, ...options };
  const columns: GraphNode[][] = [[], [], [], []];
  const seen = new Set<string>();
  for (const n of graph.nodes) {
    if (seen.has(n.id)) continue;
    seen.add(n.id);
    columns[columnOf(n)]!.push(n);
  }
  columns[0]!.sort((a, b) =>
    a.id === graph.identityId ? -1 : b.id === graph.identityId ? 1 : byLabel(a, b),
  );
  columns[1]!.sort(byLabel);
  columns[2]!.sort((a, b) => {
    if (a.type !== 'grant' || b.type !== 'grant') return byLabel(a, b);
    return (
      Number(b.admin) - Number(a.admin) ||
      Number(a.effect === 'deny') - Number(b.effect === 'deny') ||
      byLabel(a, b)
    );
  });
  const grantRow = new Map(columns[2]!.map((n, i) => [n.id, i]));
  const incoming = new Map<string, number[]>();
  for (const e of graph.edges) {
    const r = grantRow.get(e.from);
    if (r === undefined) continue;
    const list = incoming.get(e.to);
    if (list) list.push(r);
    else incoming.set(e.to, [r]);
  }
  const barycentre = (n: GraphNode) => {
    const rows = incoming.get(n.id);
    return rows ? rows.reduce((s, r) => s + r, 0) / rows.length : Number.POSITIVE_INFINITY;
  };
  const target = columns[3]!.map((n) => ({ n, b: barycentre(n) }));
  target.sort(
    (a, b) =>
      (a.b === b.b ? 0 : a.b < b.b ? -1 : 1) ||
      Number(a.n.type === 'pattern') - Number(b.n.type === 'pattern') ||
      byLabel(a.n, b.n),
  );
  columns[3] = target.map((t) => t.n);

  const tallest = Math.max(1, ...columns.map((c) => c.length));
  const columnHeight = (count: number) => count * o.nodeHeight + Math.max(0, count - 1) * o.gapY;
  const bodyHeight = columnHeight(tallest);
  const columnX = columns.map((_, i) => o.padding + i * (o.nodeWidth + o.gapX));
  const placed: PlacedNode[] = [];
  const byId = new Map<string, PlacedNode>();
  columns.forEach((col, c) => {
    const top = o.padding + o.headerHeight + (bodyHeight - columnHeight(col.length)) / 2;
    col.forEach((node, row) => {
      const p: PlacedNode = {
        node,
        column: c,
        row,
        x: columnX[c]!,
        y: top + row * (o.nodeHeight + o.gapY),
        width: o.nodeWidth,
        height: o.nodeHeight,
      };
      placed.push(p);
      byId.set(node.id, p);
    });
  });

  // Column extents, for edges that skip a column (identity → grant runs past the credentials).
  const extent = columns.map((col) => {
    if (col.length === 0) return null;
    const top = byId.get(col[0]!.id)!.y;
    const bottom = byId.get(col[col.length - 1]!.id)!.y + o.nodeHeight;
    return { top, bottom, centre: (top + bottom) / 2 };
  });

  const edges: PlacedEdge[] = [];
  for (const edge of graph.edges) {
    const a = byId.get(edge.from);
    const b = byId.get(edge.to);
    if (!a || !b) continue;
    const x1 = a.x + a.width;
    const y1 = a.y + a.height / 2;
    const x2 = b.x;
    const y2 = b.y + b.height / 2;
    let path: string;
    const skipped = b.column - a.column === 2 ? extent[a.column + 1] : null;
    if (skipped) {
      // Run along a lane just above or below the skipped column instead of through its nodes.
      const lane = y2 <= skipped.centre ? skipped.top - o.gapY / 2 : skipped.bottom + o.gapY / 2;
      const left = columnX[a.column + 1]!;
      const right = left + o.nodeWidth;
      const m1 = (x1 + left) / 2;
      const m2 = (right + x2) / 2;
      path =
        `M${x1},${y1} C${m1},${y1} ${m1},${lane} ${left},${lane} L${right},${lane} ` +
        `C${m2},${lane} ${m2},${y2} ${x2},${y2}`;
    } else {
      const mx = (x1 + x2) / 2;
      path = `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
    }
    edges.push({ edge, key: `${edge.from}->${edge.to}`, x1, y1, x2, y2, path });
  }

  return {
    width: o.padding * 2 + 4 * o.nodeWidth + 3 * o.gapX,
    height: o.padding * 2 + o.headerHeight + bodyHeight,
    columnX,
    nodes: placed,
    edges,
  };
}

/**
 * The nodes and edges on every path through `id`: everything it reaches and everything that reaches it.
 * Selecting the identity lights up the whole graph; a grant, the identity and the resources it reaches.
 */
export function connectedTo(graph: IdentityGraph, id: string): { nodes: Set<string>; edges: Set<string> } {
  const nodes = new Set<string>([id]);
  const edges = new Set<string>();
  const walk = (start: string, forward: boolean) => {
    const todo = [start];
    const visited = new Set<string>([start]);
    while (todo.length > 0) {
      const cur = todo.pop()!;
      for (const e of graph.edges) {
        const [here, there] = forward ? [e.from, e.to] : [e.to, e.from];
        if (here !== cur) continue;
        edges.add(`${e.from}->${e.to}`);
        nodes.add(there);
        if (!visited.has(there)) {
          visited.add(there);
          todo.push(there);
        }
      }
    }
  };
  walk(id, true);
  walk(id, false);
  return { nodes, edges };
}
