// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { mockFetch, on } from '../lib/test-fetch.js';
import { evidenceLocation, Scans, text } from './Scans.js';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('Scans', () => {
  it('names evidence by file:line or package@version', () => {
    expect(evidenceLocation({ file: 'src/config.ts', line: 12 })).toBe('src/config.ts:12');
    expect(evidenceLocation({ package: 'left-pad', version: '1.3.0' })).toBe('left-pad@1.3.0');
    expect(evidenceLocation({ path: 'data/train.jsonl' })).toBe('data/train.jsonl');
    expect(evidenceLocation({ ruleId: 'x' })).toBeNull();
  });

  it('writes nested counts as short text', () => {
    expect(text({ credentials: { created: 1, updated: 0 }, files: 3, kinds: ['a', 'b'] })).toBe(
      'credentials (created 1, updated 0), files 3, kinds (a, b)',
    );
    expect(text(null)).toBe('—');
  });

  it('shows the newest run of each kind with its evidence, the recent runs and the npm packages', async () => {
    const npm = {
      time: '2026-11-29T15:00:00.000Z',
      actor: 'cli',
      kind: 'npm.scan.completed',
      target: 'package-lock.json',
      result: {
        packages: 412,
        levels: { critical: 1, high: 0, medium: 2 },
        flagged: [
          {
            package: 'evil-helper',
            version: '0.0.3',
            level: 'critical',
            ruleId: 'npm-install-script-network',
          },
        ],
      },
    };
    const secrets = {
      time: '2026-11-29T14:00:00.000Z',
      actor: 'cli',
      kind: 'secrets.scan.completed',
      target: '.',
      result: {
        files: 1290,
        findings: [{ file: 'deploy/.env', line: 3, ruleId: 'aws-access-key', severity: 'high' }],
      },
    };
    mockFetch([
      on('GET', '/api/v1/scans/latest', () => ({
        body: { npm, secrets, datasets: null, recent: [npm, secrets] },
      })),
      on('GET', '/api/v1/resources', () => ({
        body: {
          items: [
            {
              id: 'res_1',
              provider: 'npm',
              type: 'npm:package',
              name: 'npm:evil-helper@0.0.3',
              environment: null,
              attributes: { level: 'critical', score: 95, ruleIds: ['npm-install-script-network'] },
              createdAt: '2026-11-29T15:00:00.000Z',
              updatedAt: '2026-11-29T15:00:00.000Z',
            },
          ],
          total: 1,
          limit: 1000,
          offset: 0,
        },
      })),
    ]);
    render(
      <MemoryRouter>
        <Scans />
      </MemoryRouter>,
    );
    const npmCard = await screen.findByRole('article', { name: 'npm gate' });
    expect(npmCard.textContent).toContain('evil-helper@0.0.3');
    expect(npmCard.textContent).toContain('critical: 1, high: 0, medium: 2');
    expect(screen.getByRole('article', { name: 'Secret scan' }).textContent).toContain('deploy/.env:3');
    expect(screen.getByRole('article', { name: 'Datasets' }).textContent).toContain('No dataset scan');
    expect(within(screen.getByRole('table', { name: 'Recent scans' })).getAllByRole('row')).toHaveLength(3);
    const pkgs = await screen.findByRole('table', { name: 'npm packages' });
    expect(within(pkgs).getAllByRole('row')[1]!.textContent).toContain('evil-helper@0.0.3');
  });
});
