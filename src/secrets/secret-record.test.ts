import { describe, expect, it } from 'vitest';
import { findingsToInventoryBatch } from './secret-record.js';
import type { SecretFinding } from './secret-types.js';

function finding(over: Partial<SecretFinding>): SecretFinding {
  return {
    ruleId: 'github-pat-classic',
    title: 'GitHub personal access token (classic)',
    severity: 'critical',
    provider: 'github',
    type: 'pat',
    origin: { kind: 'file', path: 'app/config.ts' },
    line: 2,
    column: 5,
    endColumn: 45,
    keyName: 'GITHUB_TOKEN',
    verifiedFormat: true,
    entropy: 5.1,
    fingerprint: 'f1'.repeat(32),
    preview: 'ghp_…abcd',
    secret: 'never-stored',
    ...over,
  };
}

describe('findingsToInventoryBatch', () => {
  it('makes one credential per fingerprint with every location, and an identity of unknown owner', async () => {
    const { batch, identitiesCreated } = await findingsToInventoryBatch(
      [
        finding({}),
        finding({ origin: { kind: 'env', path: 'GH_TOKEN' }, keyName: 'GH_TOKEN', line: 1 }),
        finding({
          origin: {
            kind: 'git',
            path: 'deploy.sh',
            commit: { sha: 'a'.repeat(40), author: 'Ada', email: 'a@x', date: '2026-01-01', message: 'm' },
          },
          keyName: null,
        }),
      ],
      { existingCredential: async () => null, now: '2026-11-29T00:00:00.000Z', scanRoot: '/repo' },
    );
    expect(identitiesCreated).toBe(1);
    expect(batch.identities).toEqual([
      expect.objectContaining({
        provider: 'github',
        externalId: `discovered:${'f1'.repeat(8)}`,
        owner: null,
        kind: 'other',
        tags: ['discovered'],
      }),
    ]);
    expect(batch.credentials).toHaveLength(1);
    expect(batch.credentials[0]!.locations).toEqual([
      { kind: 'config', path: '/repo/app/config.ts', line: 2, key: 'GITHUB_TOKEN' },
      { kind: 'env', path: 'environment', line: null, key: 'GH_TOKEN' },
      { kind: 'file', path: `${'a'.repeat(12)}:deploy.sh`, line: 2, key: null },
    ]);
    expect(JSON.stringify(batch)).not.toContain('never-stored');
  });

  it('attaches a fingerprint the inventory already holds to its identity', async () => {
    const { batch, identitiesCreated } = await findingsToInventoryBatch([finding({ provider: 'generic' })], {
      existingCredential: async () => ({ provider: 'mcp', externalId: 'cursor:github' }),
      now: '2026-11-29T00:00:00.000Z',
      scanRoot: '/repo',
    });
    expect(identitiesCreated).toBe(0);
    expect(batch.identities).toEqual([]);
    expect(batch.credentials[0]!.identity).toEqual({ provider: 'mcp', externalId: 'cursor:github' });
  });
});
