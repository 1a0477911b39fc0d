import { hash } from 'node:crypto';
import type { Finding, Severity } from '../../core/types.js';
import type { PostureContext } from './posture-context.js';
import type { PostureRuleMeta } from './posture-types.js';

/** A posture rule: its metadata, a one-line fix, and a pure check over the indexed snapshot. */
export interface PostureRule {
  meta: PostureRuleMeta;
  /** One line telling the owner what to do; copied into every finding. */
  remediation: string;
  /** Pure: reads only the context, returns this rule's findings (no I/O, no clock, no randomness). */
  check(ctx: PostureContext): Finding[];
}

/** Deterministic finding id: `fnd_` + the first 24 hex chars of SHA-256 over the rule id and subject ids. */
export function findingId(ruleId: string, subjectIds: readonly string[]): string {
  let input = ruleId;
  for (const id of subjectIds) input += `\u0000${id}`;
  // One-shot crypto.hash: several times cheaper than createHash for hundreds of thousands of short inputs.
  return `fnd_${hash('sha256', input, 'hex').slice(0, 24)}`;
}

/** What a rule says about one problem; the rest of the finding comes from the rule and the run. */
export interface FindingDraft {
  identityId: string;
  credentialId?: string | null;
  /** Defaults to the rule's severity. */
  severity?: Severity;
  message: string;
  evidence: Record<string, unknown>;
}

/** Builds a finding for a rule; the id depends only on the rule id, the identity and the credential. */
export function makeFinding(rule: PostureRule, ctx: PostureContext, draft: FindingDraft): Finding {
  const credentialId = draft.credentialId ?? null;
  const subjects = credentialId === null ? [draft.identityId] : [draft.identityId, credentialId];
  return {
    id: findingId(rule.meta.id, subjects),
    ruleId: rule.meta.id,
    owasp: rule.meta.owasp,
    severity: draft.severity ?? rule.meta.severity,
    title: rule.meta.title,
    message: draft.message,
    remediation: rule.remediation,
    identityId: draft.identityId,
    credentialId,
    evidence: draft.evidence,
    firstSeenAt: ctx.nowIso,
    lastSeenAt: ctx.nowIso,
  };
}

/** What a rule module writes: metadata, a fix, and a check that reports problems through `report`. */
export interface PostureRuleSpec {
  meta: PostureRuleMeta;
  remediation: string;
  check(ctx: PostureContext, report: (draft: FindingDraft) => void): void;
}

/** Turns a rule spec into a rule whose findings carry the rule's id, OWASP id, title and remediation. */
export function definePostureRule(spec: PostureRuleSpec): PostureRule {
  const rule: PostureRule = {
    meta: spec.meta,
    remediation: spec.remediation,
    check(ctx) {
      const out: Finding[] = [];
      spec.check(ctx, (draft) => out.push(makeFinding(rule, ctx, draft)));
      return out;
    },
  };
  return rule;
}
