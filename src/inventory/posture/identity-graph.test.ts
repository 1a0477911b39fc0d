import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../core/errors.js';
import { buildIdentityGraph, patternReach } from './identity-graph.js';
import { credential, grant, identity, resource, snapshot } from './test-support/posture-fixtures.js';

const snap = snapshot({
  identities: [
    identity({ id: 'i1', name: 'etl', provider: 'aws', environment: 'prod', owner: 'alice@acme.test' }),
    identity({ id: 'i2', name: 'other' }),
  ],
  credentials: [
    credential({
      id: 'c1',
      identityId: 'i1',
      type: 'access-key',
      provider: 'aws',
      name: 'AKIA key',
      preview: 'AKIA…WXYZ',
      fingerprint: '0123456789abcdef'.repeat(4),
    }),
    credential({ id: 'c2', identityId: 'i2' }),
  ],
  grants: [
    grant({
      id: 'g1',
      identityId: 'i1',
      source: 'policy/data-read',
      actions: ['s3:GetObject'],
      resources: ['arn:aws:s3:::acme-data-*/*', 'arn:aws:s3:::archive/*'],
    }),
    grant({
      id: 'g2',
      identityId: 'i1',
      source: 'policy/deny-secrets',
      effect: 'deny',
      actions: ['*'],
      resources: ['k8s:prod/secrets/*'],
    }),
    grant({ id: 'g3', identityId: 'i2', resources: ['*'] }),
  ],
  resources: [
    resource({ id: 'r1', name: 'arn:aws:s3:::acme-data-eu' }),
    resource({ id: 'r2', name: 'arn:aws:s3:::acme-data-us' }),
    resource({ id: 'r3', name: 'arn:aws:s3:::logs' }),
    resource({
      id: 'r4',
      name: 'k8s:prod',
      provider: 'kubernetes',
      type: 'k8s:namespace',
      environment: 'prod',
    }),
  ],
});

describe('buildIdentityGraph', () => {
  it('links identity → credentials, identity → grants → matched resources and unmatched patterns', () => {
    expect(buildIdentityGraph(snap, 'i1')).toEqual({
      identityId: 'i1',
      nodes: [
        {
          type: 'identity',
          id: 'i1',
          label: 'etl',
          kind: 'service-account',
          provider: 'aws',
          environment: 'prod',
          owner: 'alice@acme.test',
          riskScore: null,
        },
        {
          type: 'credential',
          id: 'c1',
          label: 'AKIA key',
          credentialType: 'access-key',
          provider: 'aws',
          preview: 'AKIA…WXYZ',
          fingerprint: '0123456789ab',
          status: 'active',
          expiresAt: null,
        },
        {
          type: 'grant',
          id: 'g1',
          label: 'policy/data-read',
          effect: 'allow',
          actions: ['s3:GetObject'],
          resources: ['arn:aws:s3:::acme-data-*/*', 'arn:aws:s3:::archive/*'],
          admin: false,
        },
        {
          type: 'grant',
          id: 'g2',
          label: 'policy/deny-secrets',
          effect: 'deny',
          actions: ['*'],
          resources: ['k8s:prod/secrets/*'],
          admin: false,
        },
        {
          type: 'resource',
          id: 'r1',
          label: 'arn:aws:s3:::acme-data-eu',
          resourceType: 'aws:s3-bucket',
          provider: 'aws',
          environment: null,
        },
        {
          type: 'resource',
          id: 'r2',
          label: 'arn:aws:s3:::acme-data-us',
          resourceType: 'aws:s3-bucket',
          provider: 'aws',
          environment: null,
        },
        { type: 'pattern', id: 'pattern:arn:aws:s3:::archive/*', label: 'arn:aws:s3:::archive/*' },
        {
          type: 'resource',
          id: 'r4',
          label: 'k8s:prod',
          resourceType: 'k8s:namespace',
          provider: 'kubernetes',
          environment: 'prod',
        },
      ],
      edges: [
        { type: 'holds', from: 'i1', to: 'c1' },
        { type: 'granted', from: 'i1', to: 'g1' },
        { type: 'granted', from: 'i1', to: 'g2' },
        {
          type: 'allows',
          from: 'g1',
          to: 'r1',
          actions: ['s3:GetObject'],
          pattern: 'arn:aws:s3:::acme-data-*/*',
          reach: 'part',
        },
        {
          type: 'allows',
          from: 'g1',
          to: 'r2',
          actions: ['s3:GetObject'],
          pattern: 'arn:aws:s3:::acme-data-*/*',
          reach: 'part',
        },
        {
          type: 'allows',
          from: 'g1',
          to: 'pattern:arn:aws:s3:::archive/*',
          actions: ['s3:GetObject'],
          pattern: 'arn:aws:s3:::archive/*',
        },
        {
          type: 'denies',
          from: 'g2',
          to: 'r4',
          actions: ['*'],
          pattern: 'k8s:prod/secrets/*',
          reach: 'part',
        },
      ],
    });
  });

  it('reaches only resources of the identity’s own provider with a bare `*`', () => {
    const s = snapshot({
      identities: [identity({ id: 'i1', name: 'admin', provider: 'aws' })],
      grants: [grant({ id: 'g1', identityId: 'i1', actions: ['*'], resources: ['*', 'arn:aws:s3:::logs'] })],
      resources: snap.resources,
    });
    const graph = buildIdentityGraph(s, 'i1');
    expect(graph.edges.filter((e) => e.type === 'allows').map((e) => [e.to, e.pattern, e.reach])).toEqual([
      ['r1', '*', 'all'],
      ['r2', '*', 'all'],
      ['r3', '*', 'all'],
    ]);
  });

  it('prefers a pattern that reaches all of a resource over one reaching part of it, one edge per target', () => {
    const s = snapshot({
      identities: [identity({ id: 'i1', name: 'x' })],
      grants: [
        grant({
          id: 'g1',
          identityId: 'i1',
          resources: ['arn:aws:s3:::logs/*', 'arn:aws:s3:::logs', 'arn:aws:s3:::logs/2025/*'],
        }),
      ],
      resources: snap.resources,
    });
    const edges = buildIdentityGraph(s, 'i1').edges.filter((e) => e.type === 'allows');
    expect(edges.map((e) => [e.to, e.pattern, e.reach])).toEqual([['r3', 'arn:aws:s3:::logs', 'all']]);
  });

  it('throws NotFoundError for an unknown identity', () => {
    expect(() => buildIdentityGraph(snap, 'nope')).toThrow(NotFoundError);
  });
});

describe('patternReach', () => {
  it('distinguishes all, part and none', () => {
    expect(patternReach('github:acme/*', 'github:acme/api')).toBe('all');
    expect(patternReach('github:acme/api', 'github:acme')).toBe('part');
    expect(patternReach('github:acme/api', 'github:acme/web')).toBeNull();
    expect(patternReach('arn:aws:s3:::b?cket', 'arn:aws:s3:::bucket')).toBe('all');
  });
});
