import { describe, expect, it } from 'vitest';
import type { CredentialLocation } from '../../core/types.js';
import { secretInPlaintextRule } from './nhi2-secret-leakage.js';
import { findingId } from './posture-rule.js';
import {
  credential,
  daysAgo,
  grant,
  identity,
  NOW,
  runRule,
  snapshot,
} from './test-support/posture-fixtures.js';

const loc = (
  over: Partial<CredentialLocation> & Pick<CredentialLocation, 'kind' | 'path'>,
): CredentialLocation => ({
  line: null,
  key: null,
  firstSeenAt: daysAgo(2),
  lastSeenAt: daysAgo(1),
  ...over,
});

const fp = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2';

describe('nhi2-secret-in-plaintext', () => {
  it('reports one finding per credential listing every file, config and env location', () => {
    const snap = snapshot({
      identities: [identity({ id: 'i1', name: 'github-mcp', environment: 'dev' })],
      credentials: [
        credential({
          id: 'c1',
          identityId: 'i1',
          name: 'GITHUB_TOKEN',
          preview: 'ghp_…a1B2',
          fingerprint: fp,
          fingerprintSource: 'value',
          locations: [
            loc({ kind: 'config', path: '.cursor/mcp.json', key: 'mcpServers.github.env.GITHUB_TOKEN' }),
            loc({ kind: 'file', path: 'app/.env', line: 3, key: 'GITHUB_TOKEN' }),
            loc({ kind: 'system', path: 'aws-secrets-manager', key: 'gh' }),
            loc({ kind: 'env', path: 'ci', key: 'GITHUB_TOKEN' }),
          ],
        }),
      ],
    });
    expect(runRule(secretInPlaintextRule, snap)).toEqual([
      {
        id: findingId('nhi2-secret-in-plaintext', ['i1', 'c1']),
        ruleId: 'nhi2-secret-in-plaintext',
        owasp: 'NHI2',
        severity: 'high',
        title: 'Secret stored in plain text',
        message:
          'Secret GITHUB_TOKEN (ghp_…a1B2) of identity "github-mcp" is stored in plain text at ' +
          '.cursor/mcp.json mcpServers.github.env.GITHUB_TOKEN, app/.env:3 GITHUB_TOKEN, ci GITHUB_TOKEN.',
        remediation:
          'Rotate the secret, remove it from the listed files and variables, and fetch it at run time from a secrets manager or the Keyward broker.',
        identityId: 'i1',
        credentialId: 'c1',
        evidence: {
          identity: 'github-mcp',
          fingerprint: 'a1b2c3d4e5f6',
          locations: [
            '.cursor/mcp.json mcpServers.github.env.GITHUB_TOKEN',
            'app/.env:3 GITHUB_TOKEN',
            'ci GITHUB_TOKEN',
          ],
          environment: 'dev',
          production: false,
          adminGrants: [],
        },
        firstSeenAt: NOW.toISOString(),
        lastSeenAt: NOW.toISOString(),
      },
    ]);
  });

  it('is critical in production or when the identity holds admin grants', () => {
    const leaked = [loc({ kind: 'file', path: '.env', line: 1, key: 'K' })];
    const snap = snapshot({
      identities: [
        identity({ id: 'i1', name: 'prod-svc', environment: 'eu-prod' }),
        identity({ id: 'i2', name: 'admin-svc', environment: 'staging' }),
      ],
      credentials: [
        credential({ id: 'c1', identityId: 'i1', fingerprintSource: 'value', locations: leaked }),
        credential({ id: 'c2', identityId: 'i2', fingerprintSource: 'value', locations: leaked }),
      ],
      grants: [
        grant({
          id: 'g1',
          identityId: 'i2',
          admin: true,
          source: 'arn:aws:iam::aws:policy/AdministratorAccess',
        }),
      ],
    });
    const findings = runRule(secretInPlaintextRule, snap);
    expect(findings.map((f) => [f.credentialId, f.severity])).toEqual([
      ['c1', 'critical'],
      ['c2', 'critical'],
    ]);
    expect(findings[1]!.evidence.adminGrants).toEqual(['arn:aws:iam::aws:policy/AdministratorAccess']);
  });

  it('does not report reference fingerprints or secrets only seen in a system store', () => {
    const snap = snapshot({
      identities: [identity({ id: 'i1', name: 'svc' })],
      credentials: [
        credential({
          id: 'c1',
          identityId: 'i1',
          fingerprintSource: 'reference',
          locations: [loc({ kind: 'file', path: '.env', line: 1, key: 'AWS_ACCESS_KEY_ID' })],
        }),
        credential({
          id: 'c2',
          identityId: 'i1',
          fingerprintSource: 'value',
          locations: [loc({ kind: 'system', path: 'vault', key: 'secret/svc' })],
        }),
        credential({ id: 'c3', identityId: 'i1', fingerprintSource: 'value' }),
      ],
    });
    expect(runRule(secretInPlaintextRule, snap)).toEqual([]);
  });

  it('shows at most three locations in the message and all of them in evidence', () => {
    const locations = [1, 2, 3, 4, 5].map((line) => loc({ kind: 'file', path: 'a.env', line, key: 'K' }));
    const snap = snapshot({
      identities: [identity({ id: 'i1', name: 'svc' })],
      credentials: [credential({ id: 'c1', identityId: 'i1', fingerprintSource: 'value', locations })],
    });
    const [f] = runRule(secretInPlaintextRule, snap);
    expect(f!.message).toBe(
      'Secret api-key (abcd…wxyz) of identity "svc" is stored in plain text at a.env:1 K, a.env:2 K, a.env:3 K and 2 more.',
    );
    expect(f!.evidence.locations).toHaveLength(5);
  });
});
