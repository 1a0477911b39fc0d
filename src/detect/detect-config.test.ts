import { describe, expect, it } from 'vitest';
import { detectConfigSchema } from './detect-config.js';

describe('detect config', () => {
  it('has working defaults', () => {
    expect(detectConfigSchema.parse({})).toEqual({
      rules: [],
      builtinRules: true,
      placeholders: {},
      allowedLatenessMs: 60_000,
      maxStateEntries: 1_000_000,
      ingestMaxBytes: 16 * 1_048_576,
      logPollIntervalMs: 1000,
      webhooks: [],
    });
  });

  it('names the field of a bad value', () => {
    const r = detectConfigSchema.safeParse({
      maxStateEntries: 5,
      webhooks: [
        { name: 'a', url: 'https://hooks.example/1' },
        { name: 'a', url: 'https://hooks.example/2' },
      ],
      unknown: 1,
    });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.') || i.message)).toEqual(
      expect.arrayContaining(['maxStateEntries']),
    );
    const dup = detectConfigSchema.safeParse({
      webhooks: [
        { name: 'a', url: 'https://x.example' },
        { name: 'a', url: 'https://y.example' },
      ],
    });
    expect(dup.error!.issues).toEqual([
      expect.objectContaining({ path: ['webhooks'], message: 'webhook names must be unique' }),
    ]);
  });
});
