import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../core/fingerprint.js';
import { POSTURE_RULES, RULES, evaluatePosture } from './posture-engine.js';
import { DEFAULT_POSTURE_CONFIG } from './posture-types.js';
import {
  credential,
  daysAgo,
  grant,
  identity,
  NOW,
  person,
  snapshot,
} from './test-support/posture-fixtures.js';

const SHARED = sha256Hex('the shared OpenAI key');
const fileLocation = {
  kind: 'file' as const,
  path: 'agents/support/.env',
  line: 2,
  key: 'OPENAI_API_KEY',
  firstSeenAt: daysAgo(5),
  lastSeenAt: daysAgo(1),
};

/** A small company: every rule fires at least once, and `clean-svc` trips nothing. */
const inventory = snapshot({
  people: [
    person({ email: 'alice@acme.test', name: 'Alice Martin' }),
    person({ email: 'bob@acme.test', name: 'Bob Stone', status: 'left', leftAt: daysAgo(60) }),
    person({ email: 'carol@acme.test', name: 'Carol Diaz', status: 'suspended' }),
  ],
  identities: [
    identity({ id: 'i1', name: 'support-agent', kind: 'ai-agent', environment: 'prod' }),
    identity({ id: 'i2', name: 'dev-laptop', kind: 'workload', environment: 'dev', owner: 'bob@acme.test' }),
    identity({
      id: 'i3',
      name: 'deploy-pipeline',
      kind: 'ci-pipeline',
      environment: 'prod',
      owner: 'Carol Diaz',
    }),
    identity({ id: 'i4', name: 'legacy-etl', owner: null, lastSeenAt: daysAgo(200) }),
    identity({ id: 'i5', name: 'prod-admin', environment: 'production' }),
    identity({ id: 'i6', name: 'gh-bot', kind: 'bot', provider: 'github', owner: 'Dana Ghost' }),
    identity({ id: 'i7', name: 'cert-svc', kind: 'workload' }),
    identity({ id: 'i8', name: 'clean-svc' }),
    identity({ id: 'i9', name: 'aws-console-user' }),
  ],
  credentials: [
    credential({
      id: 'c1',
      identityId: 'i1',
      name: 'OPENAI_API_KEY',
      preview: 'sk-p…Zz9A',
      fingerprint: SHARED,
      fingerprintSource: 'value',
      locations: [fileLocation],
    }),
    credential({
      id: 'c2',
      identityId: 'i2',
      name: 'OPENAI_API_KEY',
      preview: 'sk-p…Zz9A',
      fingerprint: SHARED,
    }),
    credential({ id: 'c3', identityId: 'i3', type: 'access-key', provider: 'aws', createdAt: daysAgo(400) }),
    credential({
      id: 'c4',
      identityId: 'i4',
      type: 'password',
      provider: 'postgres',
      lastUsedAt: daysAgo(150),
    }),
    credential({ id: 'c5', identityId: 'i5', type: 'access-key', provider: 'aws', createdAt: daysAgo(20) }),
    credential({
      id: 'c6',
      identityId: 'i6',
      type: 'pat',
      provider: 'github',
      preview: 'ghp_…a1B2',
      expiresAt: daysAgo(-5),
    }),
    credential({ id: 'c7', identityId: 'i7', type: 'certificate', expiresAt: daysAgo(3) }),
    credential({ id: 'c8', identityId: 'i7', type: 'certificate', expiresAt: daysAgo(-500) }),
    credential({ id: 'c9', identityId: 'i8', expiresAt: daysAgo(-60) }),
    credential({ id: 'c10', identityId: 'i9', type: 'password', provider: 'aws' }),
  ],
  grants: [
    grant({ id: 'g1', identityId: 'i5', admin: true, actions: ['*'], resources: ['*'] }),
    grant({ id: 'g2', identityId: 'i5', actions: ['iam:PassRole'], resources: ['*'] }),
    grant({ id: 'g3', identityId: 'i8' }),
  ],
});

describe('evaluatePosture', () => {
  const findings = evaluatePosture(inventory, DEFAULT_POSTURE_CONFIG, NOW);
  const nameOf = new Map(inventory.identities.map((i) => [i.id, i.name]));

  it('reports exactly the expected (rule, identity) pairs, in rule order', () => {
    expect(findings.map((f) => [f.ruleId, nameOf.get(f.identityId), f.severity])).toEqual([
      ['nhi1-owner-missing', 'legacy-etl', 'medium'],
      ['nhi1-owner-left', 'dev-laptop', 'high'],
      ['nhi1-owner-suspended', 'deploy-pipeline', 'medium'],
      ['nhi1-owner-unknown', 'gh-bot', 'medium'],
      ['nhi1-identity-unused', 'legacy-etl', 'medium'],
      ['nhi2-secret-in-plaintext', 'support-agent', 'critical'],
      ['nhi4-static-password', 'legacy-etl', 'high'],
      ['nhi4-classic-pat', 'gh-bot', 'medium'],
      ['nhi4-aws-console-password', 'aws-console-user', 'high'],
      ['nhi5-overprivileged', 'prod-admin', 'critical'],
      ['nhi5-privilege-escalation', 'prod-admin', 'high'],
      ['nhi6-ci-static-cloud-key', 'deploy-pipeline', 'high'],
      ['nhi7-secret-not-rotated', 'deploy-pipeline', 'high'],
      ['nhi7-long-lifetime', 'cert-svc', 'low'],
      ['nhi7-expired-still-active', 'cert-svc', 'medium'],
      ['nhi7-expiring-soon', 'gh-bot', 'info'],
      ['nhi8-cross-environment-secret', 'support-agent', 'critical'],
      ['nhi8-cross-environment-secret', 'dev-laptop', 'critical'],
      ['nhi9-shared-secret', 'support-agent', 'high'],
      ['nhi9-shared-secret', 'dev-laptop', 'high'],
    ]);
  });

  it('gives every finding a unique id that stays the same across runs and snapshot orderings', () => {
    const ids = findings.map((f) => f.id);
    expect(new Set(ids).size).toBe(ids.length);
    const reversed = snapshot({
      people: [...inventory.people].reverse(),
      identities: [...inventory.identities].reverse(),
      credentials: [...inventory.credentials].reverse(),
      grants: [...inventory.grants].reverse(),
    });
    const later = evaluatePosture(reversed, DEFAULT_POSTURE_CONFIG, new Date(NOW.getTime() + 1000));
    expect(later.map((f) => f.id).sort()).toEqual([...ids].sort());
  });

  it('stamps the run time, the rule’s OWASP id, and never the full fingerprint', () => {
    const owaspOf = new Map(POSTURE_RULES.map((r) => [r.id, r.owasp]));
    for (const f of findings) {
      expect(f.owasp).toBe(owaspOf.get(f.ruleId));
      expect(f.firstSeenAt).toBe(NOW.toISOString());
      expect(f.lastSeenAt).toBe(NOW.toISOString());
      expect(JSON.stringify(f)).not.toContain(SHARED);
    }
  });

  it('reports nothing for an empty inventory', () => {
    expect(evaluatePosture(snapshot({}), DEFAULT_POSTURE_CONFIG, NOW)).toEqual([]);
  });
});

describe('POSTURE_RULES', () => {
  it('lists every rule once, its id prefixed with its OWASP id, with no NHI3/NHI10 placeholders', () => {
    const ids = POSTURE_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([
      'nhi1-owner-missing',
      'nhi1-owner-left',
      'nhi1-owner-suspended',
      'nhi1-owner-unknown',
      'nhi1-identity-unused',
      'nhi2-secret-in-plaintext',
      'nhi4-static-password',
      'nhi4-classic-pat',
      'nhi4-aws-console-password',
      'nhi5-overprivileged',
      'nhi5-privilege-escalation',
      'nhi6-ci-static-cloud-key',
      'nhi7-secret-not-rotated',
      'nhi7-long-lifetime',
      'nhi7-expired-still-active',
      'nhi7-expiring-soon',
      'nhi8-cross-environment-secret',
      'nhi9-shared-secret',
    ]);
    for (const r of POSTURE_RULES) {
      expect(r.id.startsWith(`${r.owasp.toLowerCase()}-`)).toBe(true);
      expect(r.title.length).toBeGreaterThan(0);
      expect(r.docs.length).toBeGreaterThan(0);
      expect(r.tags.length).toBeGreaterThan(0);
    }
  });
});

describe('docs/posture.md', () => {
  const doc = readFileSync(new URL('../../../docs/posture.md', import.meta.url), 'utf8');

  it('documents every rule with its OWASP id, severity and remediation', () => {
    for (const rule of RULES) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${rule.meta.id}\``));
      expect(row, rule.meta.id).toBeDefined();
      expect(row, rule.meta.id).toContain(rule.meta.severity);
      expect(row, rule.meta.id).toContain(rule.remediation);
      expect(doc, rule.meta.id).toMatch(new RegExp(`### ${rule.meta.owasp} `));
    }
  });
});
