/** Runs one rule over a span of text: pattern, then the rule's format check, entropy floor and placeholder test. */
import { isPlaceholder, shannonEntropy } from './secret-checks.js';
import type { CheckContext, SecretRule } from './secret-types.js';

/** A rule with its pattern compiled for scanning. */
export interface CompiledRule {
  rule: SecretRule;
  re: RegExp;
  /** Lower-cased keywords, longest first (used to find the fixed prefix of a value). */
  keywords: string[];
  /** Whether the rule's check names its third parameter, the context (else the context is made only on demand). */
  checkReadsContext: boolean;
}

/** A candidate that passed every test of its rule. */
export interface RuleMatch {
  rule: SecretRule;
  secret: string;
  /** Offset of the value in the scanned text. */
  offset: number;
  entropy: number;
  /** The whole match (value plus the context the pattern needed), offset in the scanned text. */
  matchOffset: number;
  matchText: string;
}

/**
 * Every field of a rule, in one order. Rules are object literals that set different optional fields, so V8 gives
 * them dozens of shapes, and code reading `rule.multiline` or `rule.provider` across rules met a new shape long
 * after it was optimised, threw the optimised code away and compiled it again. Compiled rules are copies with
 * every field present, in this order: one shape for all.
 */
const RULE_FIELDS: { [K in keyof Required<SecretRule>]: undefined } = {
  id: undefined,
  title: undefined,
  severity: undefined,
  provider: undefined,
  type: undefined,
  keywords: undefined,
  pattern: undefined,
  ignoreCase: undefined,
  check: undefined,
  verifiedFormat: undefined,
  minEntropy: undefined,
  multiline: undefined,
  afterKeyword: undefined,
  keywordStartsWord: undefined,
  keywordReach: undefined,
  resumeAfter: undefined,
  docs: undefined,
  tags: undefined,
  cases: undefined,
};

/** Compiles a rule's pattern with the flags the engine uses (`g`, plus `i` when the rule asks). */
export function compileRule(source: SecretRule): CompiledRule {
  const rule: SecretRule = { ...RULE_FIELDS, ...source };
  const re = new RegExp(rule.pattern.source, rule.ignoreCase ? 'gi' : 'g');
  const keywords = rule.keywords.map((k) => k.toLowerCase()).sort((a, b) => b.length - a.length);
  return { rule, re, keywords, checkReadsContext: (rule.check?.length ?? 0) >= 3 };
}

/** The part of a value after a keyword it starts with (`sk-proj-AAAA…` → `AAAA…`), for the repetition test. */
function valueBody(value: string, keywords: string[]): string {
  const lower = value.toLowerCase();
  for (const k of keywords) if (lower.startsWith(k) && value.length > k.length) return value.slice(k.length);
  return value;
}

/**
 * The context of a check that does not name it (a check of one or two parameters): made only if the check reaches
 * it through `arguments`, which none does. Making one decodes the text around the line, and the generic assignment
 * rule's check, run on every line with a secret word and an `=`, is such a check.
 */
class UnnamedContext implements CheckContext {
  #made: CheckContext | null = null;
  constructor(
    private readonly around: (offset: number) => CheckContext,
    private readonly at: number,
  ) {}
  get text(): string {
    return (this.#made ??= this.around(this.at)).text;
  }
  get offset(): number {
    return (this.#made ??= this.around(this.at)).offset;
  }
}

/** After a refused candidate: the search goes on inside its value where the rule's `resumeAfter` says. */
function resumeInside(compiled: CompiledRule, m: RegExpExecArray, secret: string): void {
  const resume = compiled.rule.resumeAfter;
  if (resume === undefined) return;
  const inValue = secret.search(resume);
  if (inValue < 0) return;
  const valueAt = m.index + Math.max(0, m[0].indexOf(secret));
  compiled.re.lastIndex = valueAt + inValue + 1;
}

/**
 * Every candidate of `compiled` in `text[from, to)` that passes the rule's check, entropy floor and placeholder
 * test. `context` gives checks a wider view than `text` (the lines around it) when the caller has one.
 * @example
 * const hits = matchRule(compileRule(rule), line); // [{ secret, offset, entropy, … }]
 */
export function matchRule(
  compiled: CompiledRule,
  text: string,
  from = 0,
  to = text.length,
  context?: (offset: number) => CheckContext,
): RuleMatch[] {
  const { rule, re } = compiled;
  const span = from === 0 && to === text.length ? text : text.slice(from, to);
  const out: RuleMatch[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(span); m !== null; m = re.exec(span)) {
    const whole = m[0];
    if (whole.length === 0) {
      re.lastIndex++;
      continue;
    }
    const named = m.groups?.['secret'];
    const secret = named ?? whole;
    if (!secret) continue;
    const at = from + m.index;
    if (rule.check) {
      const ctx = !context
        ? { text, offset: at }
        : compiled.checkReadsContext
          ? context(at)
          : new UnnamedContext(context, at);
      if (!rule.check(secret, m, ctx)) {
        resumeInside(compiled, m, secret);
        continue;
      }
    }
    const entropy = shannonEntropy(secret);
    if (
      (rule.minEntropy !== undefined && entropy < rule.minEntropy) ||
      isPlaceholder(secret, valueBody(secret, compiled.keywords))
    ) {
      resumeInside(compiled, m, secret);
      continue;
    }
    // Where the value sits in the match: found only for a candidate that passed (most do not).
    const offset = at + (named === undefined ? 0 : Math.max(0, whole.indexOf(secret)));
    out.push({ rule, secret, offset, entropy, matchOffset: at, matchText: whole });
  }
  return out;
}
