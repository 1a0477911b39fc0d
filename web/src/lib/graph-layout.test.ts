import { describe, expect, it } from 'vitest';
import { connectedTo, layoutGraph } from './graph-layout.js';
import type { IdentityGraph } from './types-inventory.js';

/** A graph as GET /identities/{id}/graph answers it (buildIdentityGraph order: credentials, grants, targets). */
const graph: IdentityGraph = {
  identityId: 'idn_1',
  nodes: [
    {
      type: 'identity',
      id: 'idn_1',
      label: 'ci-deployer',
      kind: 'ci-pipeline',
      provider: 'aws',
      environment: 'prod',
      owner: 'ana@example.com',
      riskScore: 72,
    },
    {
      type: 'credential',
      id: 'crd_b',
      label: 'secondary key',
      credentialType: 'access-key',
      provider: 'aws',
      preview: 'AKIA…WXYZ',
      fingerprint: 'a1b2c3d4e5f6',
      status: 'active',
      expiresAt: null,
    },
    {
      type: 'credential',
      id: 'crd_a',
      label: 'primary key',
      credentialType: 'access-key',
      provider: 'aws',
      preview: 'AKIA…ABCD',
      fingerprint: '0f1e2d3c4b5a',
      status: 'inactive',
      expiresAt: null,
    },
    {
      type: 'grant',
      id: 'grt_read',
      label: 'arn:aws:iam::1:policy/read',
      effect: 'allow',
      actions: ['s3:GetObject'],
      resources: ['arn:aws:s3:::logs/*'],
      admin: false,
    },
    {
      type: 'grant',
      id: 'grt_deny',
      label: 'arn:aws:iam::1:policy/deny-secrets',
      effect: 'deny',
      actions: ['secretsmanager:*'],
      resources: ['arn:aws:secretsmanager:*'],
      admin: false,
    },
    {
      type: 'grant',
      id: 'grt_admin',
      label: 'arn:aws:iam::aws:policy/AdministratorAccess',
      effect: 'allow',
      actions: ['*'],
      resources: ['*'],
      admin: true,
    },
    {
      type: 'resource',
      id: 'res_logs',
      label: 'arn:aws:s3:::logs',
      resourceType: 'aws:s3-bucket',
      provider: 'aws',
      environment: 'prod',
    },
    {
      type: 'resource',
      id: 'res_db',
      label: 'arn:aws:rds:::db',
      resourceType: 'aws:rds-instance',
      provider: 'aws',
      environment: 'prod',
    },
    { type: 'pattern', id: 'pattern:arn:aws:secretsmanager:*', label: 'arn:aws:secretsmanager:*' },
  ],
  edges: [
    { type: 'holds', from: 'idn_1', to: 'crd_b' },
    { type: 'holds', from: 'idn_1', to: 'crd_a' },
    { type: 'granted', from: 'idn_1', to: 'grt_read' },
    { type: 'granted', from: 'idn_1', to: 'grt_deny' },
    { type: 'granted', from: 'idn_1', to: 'grt_admin' },
    { type: 'allows', from: 'grt_read', to: 'res_logs', pattern: 'arn:aws:s3:::logs/*', reach: 'part' },
    {
      type: 'denies',
      from: 'grt_deny',
      to: 'pattern:arn:aws:secretsmanager:*',
      pattern: 'arn:aws:secretsmanager:*',
    },
    { type: 'allows', from: 'grt_admin', to: 'res_logs', pattern: '*', reach: 'all' },
    { type: 'allows', from: 'grt_admin', to: 'res_db', pattern: '*', reach: 'all' },
    { type: 'allows', from: 'grt_admin', to: 'res_missing', pattern: '*', reach: 'all' },
  ],
};

const opts = { nodeWidth: 100, nodeHeight: 20, gapX: 50, gapY: 10, padding: 5, headerHeight: 15 };

describe('layoutGraph', () => {
  it('puts identity, credentials, grants and resources/patterns in columns 0–3', () => {
    const { nodes, columnX, width } = layoutGraph(graph, opts);
    const col = Object.fromEntries(nodes.map((p) => [p.node.id, p.column]));
    expect(col).toEqual({
      idn_1: 0,
      crd_a: 1,
      crd_b: 1,
      grt_read: 2,
      grt_deny: 2,
      grt_admin: 2,
      res_logs: 3,
      res_db: 3,
      'pattern:arn:aws:secretsmanager:*': 3,
    });
    expect(columnX).toEqual([5, 155, 305, 455]);
    expect(width).toBe(5 * 2 + 4 * 100 + 3 * 50);
    for (const p of nodes) expect(p.x).toBe(columnX[p.column]);
  });

  it('orders credentials by label, grants admin-first then allow before deny, targets by their grants', () => {
    const { nodes } = layoutGraph(graph, opts);
    const inColumn = (c: number) =>
      nodes
        .filter((p) => p.column === c)
        .sort((a, b) => a.row - b.row)
        .map((p) => p.node.id);
    expect(inColumn(1)).toEqual(['crd_a', 'crd_b']);
    expect(inColumn(2)).toEqual(['grt_admin', 'grt_read', 'grt_deny']);
    // res_db: admin only (mean row 0); res_logs: admin and read (0.5); the pattern: deny (2).
    expect(inColumn(3)).toEqual(['res_db', 'res_logs', 'pattern:arn:aws:secretsmanager:*']);
  });

  it('centres shorter columns on the tallest and stacks rows with the gap', () => {
    const { nodes, height } = layoutGraph(graph, opts);
    const y = Object.fromEntries(nodes.map((p) => [p.node.id, p.y]));
    // Tallest column: 3 nodes = 3*20 + 2*10 = 80 high, starting at padding + header = 20.
    expect(height).toBe(5 * 2 + 15 + 80);
    expect([y.grt_admin, y.grt_read, y.grt_deny]).toEqual([20, 50, 80]);
    expect(y.idn_1).toBe(20 + (80 - 20) / 2);
    expect([y.crd_a, y.crd_b]).toEqual([35, 65]);
  });

  it('joins the right middle of the source to the left middle of the target and drops dangling edges', () => {
    const { edges, nodes } = layoutGraph(graph, opts);
    expect(edges.map((e) => e.key)).not.toContain('grt_admin->res_missing');
    expect(edges).toHaveLength(graph.edges.length - 1);
    const holds = edges.find((e) => e.key === 'idn_1->crd_a')!;
    const identity = nodes.find((p) => p.node.id === 'idn_1')!;
    expect(holds).toMatchObject({ x1: 105, y1: identity.y + 10, x2: 155, y2: 35 + 10 });
    expect(holds.path).toBe(`M105,${identity.y + 10} C130,${identity.y + 10} 130,45 155,45`);
  });

  it('routes an edge that skips the credentials column along a lane above or below it', () => {
    const { edges } = layoutGraph(graph, opts);
    // Credentials span y 35–85; lanes at 30 (above) and 90 (below); their column runs x 155–255.
    const toAdmin = edges.find((e) => e.key === 'idn_1->grt_admin')!; // grant centre y 30: above the centre 60
    expect(toAdmin.path).toBe('M105,60 C130,60 130,30 155,30 L255,30 C280,30 280,30 305,30');
    const toDeny = edges.find((e) => e.key === 'idn_1->grt_deny')!; // centre y 90: below
    expect(toDeny.path).toBe('M105,60 C130,60 130,90 155,90 L255,90 C280,90 280,90 305,90');
    // Without credentials the edge is a plain curve.
    const bare = layoutGraph(
      { ...graph, nodes: graph.nodes.filter((n) => n.type !== 'credential') },
      opts,
    ).edges.find((e) => e.key === 'idn_1->grt_admin')!;
    expect(bare.path).toBe('M105,60 C205,60 205,30 305,30');
  });

  it('draws an identity alone when it has nothing attached, and keeps the first of duplicate nodes', () => {
    const alone = layoutGraph(
      { identityId: 'idn_1', nodes: [graph.nodes[0]!, graph.nodes[0]!], edges: [] },
      opts,
    );
    expect(alone.nodes).toHaveLength(1);
    expect(alone.nodes[0]).toMatchObject({ column: 0, row: 0, y: 20 });
    expect(alone.height).toBe(5 * 2 + 15 + 20);
  });
});

describe('connectedTo', () => {
  it('lights up everything from the identity', () => {
    const { nodes, edges } = connectedTo(graph, 'idn_1');
    expect(nodes.size).toBe(10); // the 9 nodes and the dangling res_missing target
    expect(edges.size).toBe(graph.edges.length);
  });

  it('from a grant: the identity above it and the resources below it, not its siblings', () => {
    const { nodes, edges } = connectedTo(graph, 'grt_read');
    expect([...nodes].sort()).toEqual(['grt_read', 'idn_1', 'res_logs']);
    expect([...edges].sort()).toEqual(['grt_read->res_logs', 'idn_1->grt_read']);
  });

  it('from a resource: every grant reaching it and the identity', () => {
    const { nodes } = connectedTo(graph, 'res_logs');
    expect([...nodes].sort()).toEqual(['grt_admin', 'grt_read', 'idn_1', 'res_logs']);
  });
});
