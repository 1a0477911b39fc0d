/**
 * Baselines: a file of accepted findings, so CI fails only on new ones. An entry is the finding's path and a
 * salted HMAC of its value (the salt is random per baseline file): the same secret moved to another line stays
 * accepted, a different secret put on an accepted line is new. Values are never written.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { constantTimeEqual } from '../core/fingerprint.js';
import { ValidationError } from '../core/errors.js';
import type { SecretFinding } from './secret-types.js';

const entrySchema = z
  .object({
    ruleId: z.string().min(1).describe('Rule that reported the finding (informational)'),
    path: z.string().min(1).describe('Path of the finding, as the scan reports it'),
    line: z.number().int().positive().describe('Line when accepted (informational: matching ignores it)'),
    hash: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be 64 hex characters')
      .describe('HMAC-SHA-256(salt, value)'),
    preview: z.string().optional(),
    reason: z.string().optional().describe('Why the finding was accepted'),
  })
  .strict();

const baselineSchema = z
  .object({
    version: z.literal(1),
    tool: z.literal('keyward'),
    salt: z.string().regex(/^[0-9a-f]{32,}$/, 'must be at least 32 hex characters'),
    createdAt: z.string().optional(),
    entries: z.array(entrySchema),
  })
  .strict();

/** A parsed baseline file. */
export type Baseline = z.infer<typeof baselineSchema>;

/** Parses a baseline file's text; errors name the file and the field. */
export function parseBaseline(text: string, file: string): Baseline {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`${file}: not JSON (${(err as Error).message})`);
  }
  const parsed = baselineSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.map(String).join('.') || '(top level)';
    throw new ValidationError(`${file}: ${at}: ${issue.message}`, {
      details: parsed.error.issues.map((i) => ({
        path: `${file}:${i.path.map(String).join('.')}`,
        message: i.message,
      })),
    });
  }
  return parsed.data;
}

function valueHash(salt: string, value: string): string {
  return createHmac('sha256', Buffer.from(salt, 'hex')).update(value, 'utf8').digest('hex');
}

/** A new baseline accepting `findings` (reusing `previous`'s salt and reasons when given). */
export function createBaseline(findings: readonly SecretFinding[], now: Date, previous?: Baseline): Baseline {
  const salt = previous?.salt ?? randomBytes(16).toString('hex');
  const reasons = new Map((previous?.entries ?? []).map((e) => [`${e.path}\0${e.hash}`, e.reason]));
  const seen = new Set<string>();
  const entries: Baseline['entries'] = [];
  for (const f of findings) {
    const hash = valueHash(salt, f.secret);
    const key = `${f.origin.path}\0${hash}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const reason = reasons.get(key);
    entries.push({
      ruleId: f.ruleId,
      path: f.origin.path,
      line: f.line,
      hash,
      preview: f.preview,
      ...(reason ? { reason } : {}),
    });
  }
  return { version: 1, tool: 'keyward', salt, createdAt: now.toISOString(), entries };
}

/** Splits findings into new ones and ones the baseline accepts (same path, same value). */
export function applyBaseline(
  findings: readonly SecretFinding[],
  baseline: Baseline,
): { fresh: SecretFinding[]; accepted: SecretFinding[] } {
  const byPath = new Map<string, string[]>();
  for (const e of baseline.entries) {
    const list = byPath.get(e.path) ?? [];
    list.push(e.hash);
    byPath.set(e.path, list);
  }
  const fresh: SecretFinding[] = [];
  const accepted: SecretFinding[] = [];
  for (const f of findings) {
    const hashes = byPath.get(f.origin.path);
    const hash = hashes ? valueHash(baseline.salt, f.secret) : '';
    if (hashes?.some((h) => constantTimeEqual(h, hash))) accepted.push(f);
    else fresh.push(f);
  }
  return { fresh, accepted };
}
