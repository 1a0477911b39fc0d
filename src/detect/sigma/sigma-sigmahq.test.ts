import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadRules, summarizeLoad } from './sigma-loader.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/sigmahq', import.meta.url));

describe('SigmaHQ rules (cloud/aws, application/github)', () => {
  it('all load with zero errors', async () => {
    const result = await loadRules([FIXTURES]);
    expect(result.errors).toEqual([]);
    expect(result.detections.length).toBe(72);
    expect(summarizeLoad(result).ok).toBe(true);
  });
});
