/** The 0–100 risk score of an identity: its findings, weighted by severity, amplified by its blast radius. */
import type { InventorySnapshot } from '../../core/inventory-batch.js';
import type { Credential, Finding, Grant, Identity, Severity } from '../../core/types.js';
import { severityRank } from '../../core/types.js';
import { canEscalate, isOverprivilegedGrant } from './grant-privilege.js';
import { isProductionEnvironment } from './posture-context.js';
import { indexIdentities, ownerPositions } from './snapshot-index.js';
import type { RiskBreakdown, RiskFactor } from './posture-types.js';

/** Points of the most severe finding type, by severity. */
export const SEVERITY_POINTS: Readonly<Record<Severity, number>> = Object.freeze({
  critical: 40,
  high: 25,
  medium: 10,
  low: 4,
  info: 1,
});

/** Each further finding type counts this fraction of the one before it (diminishing returns). */
export const RISK_DECAY = 0.5;

/** Blast-radius multipliers, in percent (integers keep the rounding exact and reproducible). */
export const RISK_MULTIPLIERS = Object.freeze({
  /** Any admin, wildcard (`*`/`s3:*` on `*`) or escalation (`iam:*`, `iam:PassRole` on `*`) grant: ×1.5. */
  privileged: 150,
  /** The identity's environment looks like production: ×1.3. */
  production: 130,
  /** +10% per active credential beyond the first, for at most five of them (×1.1 … ×1.5). */
  perExtraCredential: 10,
  maxExtraCredentials: 5,
  /** Autonomous agents act on input an attacker may control (prompt injection): ×1.2. */
  aiAgent: 120,
});

const ORDINALS = ['1st', '2nd', '3rd'];
const ordinal = (k: number): string => ORDINALS[k] ?? `${k + 1}th`;

/** True for a grant that widens the blast radius: admin, wildcard, or able to escalate. */
function isPrivileged(g: Grant): boolean {
  return isOverprivilegedGrant(g) || canEscalate(g);
}

/** The score from an identity's own findings, its privileged grants' sources, and its active credential count. */
function scoreIdentity(
  identity: Identity,
  findings: readonly Finding[],
  privilegedSources: readonly string[],
  activeCredentials: number,
): RiskBreakdown {
  // Distinct finding types: one entry per rule, at its most severe finding.
  const byRule = new Map<string, { finding: Finding; count: number }>();
  for (const f of findings) {
    const prev = byRule.get(f.ruleId);
    if (!prev) byRule.set(f.ruleId, { finding: f, count: 1 });
    else {
      prev.count++;
      if (severityRank(f.severity) > severityRank(prev.finding.severity)) prev.finding = f;
    }
  }
  if (byRule.size === 0) return { identityId: identity.id, score: 0, factors: [] };

  const types = [...byRule.entries()].sort(
    ([ra, a], [rb, b]) =>
      severityRank(b.finding.severity) - severityRank(a.finding.severity) || (ra < rb ? -1 : ra > rb ? 1 : 0),
  );
  const factors: RiskFactor[] = [];
  let total = 0;
  types.forEach(([ruleId, { finding, count }], k) => {
    const points = Math.round(SEVERITY_POINTS[finding.severity] * RISK_DECAY ** k);
    const weight = k === 0 ? 'full weight' : `×${RISK_DECAY ** k}`;
    const many = count > 1 ? `, ${count} findings` : '';
    total += points;
    factors.push({
      name: ruleId,
      points,
      detail: `${finding.severity} ${finding.owasp}: ${finding.title} (${ordinal(k)} finding type, ${weight}${many})`,
    });
  });

  const amplify = (name: string, percent: number, detail: string): void => {
    const points = Math.round((total * (percent - 100)) / 100);
    total += points;
    factors.push({ name, points, detail: `×${percent / 100}: ${detail}` });
  };

  if (privilegedSources.length > 0) {
    const sources = [...new Set(privilegedSources)].sort();
    const more = sources.length > 5 ? ` and ${sources.length - 5} more` : '';
    amplify(
      'privileged-grants',
      RISK_MULTIPLIERS.privileged,
      `admin, wildcard or escalation grants (${sources.slice(0, 5).join(', ')}${more})`,
    );
  }
  if (isProductionEnvironment(identity.environment)) {
    amplify('production', RISK_MULTIPLIERS.production, `environment "${identity.environment}" is production`);
  }
  if (activeCredentials >= 2) {
    const extra = Math.min(activeCredentials - 1, RISK_MULTIPLIERS.maxExtraCredentials);
    amplify(
      'active-credentials',
      100 + RISK_MULTIPLIERS.perExtraCredential * extra,
      `${activeCredentials} active credentials`,
    );
  }
  if (identity.kind === 'ai-agent') {
    amplify('ai-agent', RISK_MULTIPLIERS.aiAgent, 'autonomous AI agent acting on untrusted input');
  }
  if (total > 100) {
    factors.push({ name: 'cap', points: 100 - total, detail: 'scores are capped at 100' });
    total = 100;
  }
  return { identityId: identity.id, score: total, factors };
}

/**
 * Computes one identity's risk from only the identity, its own credentials, grants and findings (records of
 * other identities are ignored), so a detail view can recompute it from the identity's records alone.
 * The factors' points always add up to the score.
 */
export function computeIdentityRisk(
  identity: Identity,
  credentials: readonly Credential[],
  grants: readonly Grant[],
  findings: readonly Finding[],
): RiskBreakdown {
  const own = (r: { identityId: string }): boolean => r.identityId === identity.id;
  return scoreIdentity(
    identity,
    findings.filter(own),
    grants.filter((g) => own(g) && isPrivileged(g)).map((g) => g.source),
    credentials.filter((c) => own(c) && c.status === 'active').length,
  );
}

/**
 * Computes the risk breakdown of every identity in the snapshot (0 with no factors when it has no findings),
 * in linear time: one pass each over credentials, grants and findings.
 * @example
 * const risks = computeRiskScores(snapshot, evaluatePosture(snapshot, config, now));
 * risks.get(identity.id)?.score; // 0–100
 */
export function computeRiskScores(
  snapshot: InventorySnapshot,
  findings: readonly Finding[],
): Map<string, RiskBreakdown> {
  const { identities } = snapshot;
  const index = indexIdentities(identities);
  const findingsOf = new Map<number, Finding[]>();
  for (const f of findings) {
    const i = index.get(f.identityId);
    if (i === undefined) continue;
    const list = findingsOf.get(i);
    if (list) list.push(f);
    else findingsOf.set(i, [f]);
  }
  const active = new Int32Array(identities.length);
  const credentialOwner = ownerPositions(snapshot.credentials, identities);
  snapshot.credentials.forEach((c, k) => {
    if (c.status === 'active' && credentialOwner[k]! >= 0) active[credentialOwner[k]!]!++;
  });
  const privileged = new Map<number, string[]>();
  const grantOwner = ownerPositions(snapshot.grants, identities);
  for (let k = 0; k < snapshot.grants.length; k++) {
    const g = snapshot.grants[k]!;
    const i = grantOwner[k]!;
    if (i < 0 || !isPrivileged(g)) continue;
    const list = privileged.get(i);
    if (list) list.push(g.source);
    else privileged.set(i, [g.source]);
  }
  const out = new Map<string, RiskBreakdown>();
  for (let i = 0; i < identities.length; i++) {
    const identity = identities[i]!;
    const own = findingsOf.get(i);
    out.set(
      identity.id,
      own
        ? scoreIdentity(identity, own, privileged.get(i) ?? [], active[i]!)
        : { identityId: identity.id, score: 0, factors: [] },
    );
  }
  return out;
}
