import { z } from 'zod';
import type { Finding, OwaspNhiId, Severity } from '../../core/types.js';

/** Posture thresholds; every one can be set in the config file or by flags. */
export const postureConfigSchema = z
  .object({
    unusedDays: z
      .number()
      .int()
      .positive()
      .default(90)
      .describe('NHI1: an identity or credential unused this many days is stale'),
    maxSecretAgeDays: z
      .number()
      .int()
      .positive()
      .default(90)
      .describe('NHI7: a static secret older than this without rotation is long-lived'),
    expiringSoonDays: z
      .number()
      .int()
      .nonnegative()
      .default(14)
      .describe('NHI7: report credentials expiring within this many days (info)'),
    maxLifetimeDays: z
      .number()
      .int()
      .positive()
      .default(365)
      .describe('NHI7: an expiry further than this from creation counts as long-lived'),
  })
  .strict();
export type PostureConfig = z.infer<typeof postureConfigSchema>;

/** Defaults used when no config is given. */
export const DEFAULT_POSTURE_CONFIG: PostureConfig = Object.freeze(postureConfigSchema.parse({}));

/** Metadata of a posture rule (the shape every rule-like thing in Keyward shares). */
export interface PostureRuleMeta {
  id: string;
  title: string;
  owasp: OwaspNhiId;
  severity: Severity;
  tags: string[];
  /** What it means and how to fix it. */
  docs: string;
}

/** One contributor to an identity's risk score. */
export interface RiskFactor {
  name: string;
  points: number;
  detail: string;
}

/** An identity's risk score (0–100) and why. */
export interface RiskBreakdown {
  identityId: string;
  score: number;
  factors: RiskFactor[];
}

/** Re-exported for convenience. */
export type { Finding };
