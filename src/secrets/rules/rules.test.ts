import { describe, expect, it } from 'vitest';
import { createCaseGen } from '../secret-case-gen.js';
import { compileRule, matchRule } from '../secret-rule-match.js';
import { SECRET_SEVERITIES } from '../secret-types.js';
import { CREDENTIAL_TYPES } from '../../core/types.js';
import { BUILTIN_SECRET_RULES } from './index.js';
import { createSecretScanner } from '../secret-scanner.js';
import { hmacFingerprint } from '../secret-fingerprint.js';

const scanner = createSecretScanner({
  rules: BUILTIN_SECRET_RULES,
  fingerprint: hmacFingerprint(Buffer.alloc(32)),
});

describe('built-in secret rules', () => {
  it('have unique kebab-case ids and complete meta', () => {
    const ids = new Set<string>();
    for (const r of BUILTIN_SECRET_RULES) {
      expect(r.id, r.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(ids.has(r.id), `duplicate id ${r.id}`).toBe(false);
      ids.add(r.id);
      expect(r.title.length, r.id).toBeGreaterThan(3);
      expect(SECRET_SEVERITIES, r.id).toContain(r.severity);
      expect(CREDENTIAL_TYPES, r.id).toContain(r.type);
      expect(r.provider, r.id).toMatch(/^[a-z0-9-]+$/);
      expect(r.keywords.length, r.id).toBeGreaterThan(0);
      expect(r.pattern.flags, `${r.id}: flags are set by the engine`).toBe('');
    }
  });

  for (const rule of BUILTIN_SECRET_RULES) {
    describe(rule.id, () => {
      const compiled = compileRule(rule);
      it('reports every positive case, and each holds a keyword', () => {
        const cases = rule.cases.positives(createCaseGen(7));
        expect(cases.length).toBeGreaterThan(0);
        for (const text of cases) {
          const lower = text.toLowerCase();
          expect(
            compiled.keywords.some((k) => lower.includes(k)),
            `${rule.id}: no keyword in ${JSON.stringify(text)}`,
          ).toBe(true);
          expect(
            matchRule(compiled, text).length,
            `${rule.id} missed ${JSON.stringify(text)}`,
          ).toBeGreaterThan(0);
        }
      });
      it('wins its positive cases against every other rule in the full scanner', () => {
        for (const text of rule.cases.positives(createCaseGen(7))) {
          const ids = scanner
            .scanText(text, { kind: 'file', path: 'case.txt' })
            .findings.map((f) => f.ruleId);
          expect(ids, `full scan of ${JSON.stringify(text)}`).toContain(rule.id);
        }
      });
      it('reports no negative case', () => {
        const cases = rule.cases.negatives(createCaseGen(11));
        expect(cases.length).toBeGreaterThan(0);
        for (const text of cases) {
          expect(
            matchRule(compiled, text).map((m) => m.secret.length),
            `${rule.id} reported ${JSON.stringify(text)}`,
          ).toEqual([]);
        }
      });
    });
  }
});
