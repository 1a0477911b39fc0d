import { describe, expect, it } from 'vitest';
import { BUILTIN_SECRET_RULES } from './rules/index.js';
import { createCaseGen } from './secret-case-gen.js';
import { allowReason, createSecretScanner, keyNameBefore } from './secret-scanner.js';
import { hmacFingerprint } from './secret-fingerprint.js';
import type { CheckContext, ScanOrigin, SecretRule } from './secret-types.js';

const scanner = createSecretScanner({
  rules: BUILTIN_SECRET_RULES,
  fingerprint: hmacFingerprint(Buffer.alloc(32, 7)),
});
const origin: ScanOrigin = { kind: 'file', path: 'app/config.ts' };
const g = createCaseGen(42);
const ghp = g.join('gh', 'p_');

/** A scanner whose one rule (the classic GitHub PAT's pattern) records the context each check is given. */
function contextProbe(): { seen: CheckContext[]; probing: ReturnType<typeof createSecretScanner> } {
  const seen: CheckContext[] = [];
  const probe: SecretRule = {
    ...BUILTIN_SECRET_RULES.find((r) => r.id === 'github-pat-classic')!,
    id: 'context-probe',
    check: (_s, _m, ctx) => {
      seen.push({ ...ctx });
      return true;
    },
  };
  return { seen, probing: createSecretScanner({ rules: [probe], fingerprint: (v) => v.slice(0, 4) }) };
}

describe('createSecretScanner', () => {
  it('reports a value with its rule, place, key name, preview and fingerprint, never the value elsewhere', () => {
    const token = g.githubToken(ghp);
    const text = `// config\nexport const GITHUB_TOKEN = "${token}";\n`;
    const { findings } = scanner.scanText(text, origin);
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f).toMatchObject({
      ruleId: 'github-pat-classic',
      provider: 'github',
      line: 2,
      column: 30,
      endColumn: 70,
      keyName: 'GITHUB_TOKEN',
      verifiedFormat: true,
      preview: `${token.slice(0, 4)}…${token.slice(-4)}`,
    });
    expect(f.fingerprint).toBe(hmacFingerprint(Buffer.alloc(32, 7))(token));
    expect(f.secret).toBe(token);
    expect(JSON.stringify({ ...f, secret: undefined })).not.toContain(token);
  });

  it('gives checks the same context (text around the line) in an ASCII buffer as in any other', () => {
    const { seen, probing } = contextProbe();
    const token = g.githubToken(ghp);
    const filler = `${'x'.repeat(60)}\n`.repeat(40);
    const body = `${filler}const t = "${token}";\n${filler}`;
    const contexts = (text: string): CheckContext[] => {
      seen.length = 0;
      expect(probing.scanBuffer(Buffer.from(text, 'utf8'), origin).findings).toHaveLength(1);
      return seen.map((c) => ({ ...c }));
    };
    const ascii = contexts(body);
    expect(ascii).toHaveLength(1);
    const { text, offset } = ascii[0]!;
    // 1,024 bytes either side of the line, where the value's match starts.
    expect(text).toBe(body.slice(filler.length - 1024, filler.length + 13 + token.length + 1024));
    expect(text.slice(offset, offset + token.length)).toBe(token);
    // A character outside the context changes nothing; one inside it is decoded in place.
    expect(contexts(`é\n${body}`)).toEqual(ascii);
    const near = `${filler.slice(0, -62)}é${filler.slice(-62)}const t = "${token}";\n${filler}`;
    const [wide] = contexts(near);
    expect(wide!.text.slice(wide!.offset, wide!.offset + token.length)).toBe(token);
    expect(wide!.text).toBe(
      Buffer.from(near).toString(
        'utf8',
        filler.length + 2 - 1024,
        filler.length + 2 + 13 + token.length + 1024,
      ),
    );
  });

  it('gives checks the bytes around each line decoded, across a long buffer with and without other characters', () => {
    const { seen, probing } = contextProbe();
    const line = (): string => `const t = "${g.githubToken(ghp)}";\n`;
    const filler = (n: number, odd = ''): string => `${odd}${'y'.repeat(70)}\n`.repeat(n);
    // Lines with a value far apart (past one decoded block), and a non-ASCII character near or far from them.
    for (const parts of [
      [filler(5), line(), filler(600), line(), filler(3)],
      [filler(5), line(), filler(600), filler(1, 'é'), line(), filler(3)],
      [filler(5, 'ü'), line(), filler(600), line(), line(), filler(3)],
      [line(), filler(1, 'ß'), filler(600), line()],
    ]) {
      const buf = Buffer.from(parts.join(''), 'utf8');
      seen.length = 0;
      const { findings } = probing.scanBuffer(buf, origin);
      const starts = findings.map((f) => buf.indexOf(f.secret) - 11);
      expect(seen).toHaveLength(starts.length);
      seen.forEach((ctx, i) => {
        const start = starts[i]!;
        const end = buf.indexOf(10, start);
        const from = Math.max(0, start - 1024);
        expect(ctx.text).toBe(buf.toString('utf8', from, Math.min(buf.length, end + 1024)));
        expect(ctx.offset).toBe(buf.toString('utf8', from, start).length + 11);
      });
    }
  });

  it('gives a check that does not name its context the same context when it reads it anyway', () => {
    const token = g.githubToken(ghp);
    const body = `${'z'.repeat(50)}\nconst t = "${token}";\n${'z'.repeat(50)}\n`;
    const seen: Array<{ text: string; offset: number }> = [];
    const base = BUILTIN_SECRET_RULES.find((r) => r.id === 'github-pat-classic')!;
    const named: SecretRule = {
      ...base,
      id: 'named',
      check: (_s, _m, ctx) => (seen.push({ text: ctx.text, offset: ctx.offset }), true),
    };
    const unnamed: SecretRule = {
      ...base,
      id: 'unnamed',
      // A check of two parameters gets its context made on demand.
      check: function (this: unknown, _s: string, _m: RegExpExecArray): boolean {
        // eslint-disable-next-line prefer-rest-params
        const ctx = arguments[2] as CheckContext;
        seen.push({ text: ctx.text, offset: ctx.offset });
        return true;
      },
    };
    for (const rule of [named, unnamed])
      createSecretScanner({ rules: [rule], fingerprint: (v) => v.slice(0, 4) }).scanText(body, origin);
    expect(seen).toHaveLength(2);
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[0]!.text).toBe(body);
  });

  it('finds the same after priming as without it (priming leaves only V8 feedback behind)', () => {
    const text = `// config\nexport const GITHUB_TOKEN = "${g.githubToken(ghp)}";\nDB_PASSWORD=${g.chars(6)}Q7v!${g.chars(4)}\n`;
    const fresh = createSecretScanner({ rules: BUILTIN_SECRET_RULES, fingerprint: (v) => v.slice(0, 4) });
    const primed = createSecretScanner({ rules: BUILTIN_SECRET_RULES, fingerprint: (v) => v.slice(0, 4) });
    primed.prime();
    expect(primed.scanText(text, origin)).toEqual(fresh.scanText(text, origin));
    expect(fresh.scanText(text, origin).findings).toHaveLength(2);
  });

  it('keeps the most specific rule where candidates overlap (a format rule over a generic assignment)', () => {
    const token = g.githubToken(ghp);
    const { findings } = scanner.scanText(`api_token = "${token}"`, origin);
    expect(findings.map((f) => f.ruleId)).toEqual(['github-pat-classic']);
  });

  it('honours keyward:allow with a reason on the same or the previous line, not without a reason', () => {
    const t1 = g.githubToken(ghp);
    const t2 = g.githubToken(ghp);
    const t3 = g.githubToken(ghp);
    const text = [
      `a = "${t1}" // keyward:allow test fixture for the parser`,
      '# keyward:allow: revoked on 2026-01-02',
      `b = "${t2}"`,
      `c = "${t3}" // keyward:allow`,
    ].join('\n');
    const r = scanner.scanText(text, origin);
    expect(r.findings.map((f) => f.line)).toEqual([4]);
    expect(r.allowed.map((a) => [a.finding.line, a.reason])).toEqual([
      [1, 'test fixture for the parser'],
      [3, 'revoked on 2026-01-02'],
    ]);
  });

  it('numbers lines with the given line numbers (git hunks)', () => {
    const token = g.githubToken(ghp);
    const r = scanner.scanText(`x\n${token}`, { kind: 'git', path: 'a.txt' }, { lineNumbers: [10, 42] });
    expect(r.findings.map((f) => [f.line, f.column])).toEqual([[42, 1]]);
  });

  it('finds a value on a very long (minified) line and reports its column', () => {
    const token = g.githubToken(ghp);
    const filler = 'var a=1;'.repeat(5000);
    const r = scanner.scanText(`${filler}t="${token}";${filler}`, origin);
    expect(r.findings.map((f) => [f.line, f.column])).toEqual([[1, filler.length + 4]]);
  });

  it('reports a multi-line private key at its BEGIN line', () => {
    const rule = BUILTIN_SECRET_RULES.find((r) => r.id === 'private-key-pem')!;
    const pem = rule.cases.positives(createCaseGen(3))[0]!;
    const r = scanner.scanText(`line one\n\n  key: |\n${pem}\n`, origin);
    expect(r.findings.map((f) => [f.ruleId, f.line, f.column])).toEqual([['private-key-pem', 4, 1]]);
  });

  it('reports nothing for placeholders and documentation values', () => {
    const text = [
      `GITHUB_TOKEN=${ghp}${'x'.repeat(36)}`,
      'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE',
      'OPENAI_API_KEY=<your-api-key>',
      'password: ${DB_PASSWORD}',
      'token = process.env.GITHUB_TOKEN',
      '"integrity": "sha512-' + g.base64(64) + '"',
    ].join('\n');
    expect(scanner.scanText(text, origin).findings.map((f) => f.ruleId)).toEqual([]);
  });
});

describe('keyNameBefore and allowReason', () => {
  it('reads the name a value is assigned to', () => {
    expect(keyNameBefore('export OPENAI_API_KEY=', 22)).toBe('OPENAI_API_KEY');
    expect(keyNameBefore('  "apiKey": "', 13)).toBe('apiKey');
    expect(keyNameBefore('token: ', 7)).toBe('token');
    expect(keyNameBefore('cli --api-key ', 14)).toBe('api-key');
    expect(keyNameBefore('just text ', 10)).toBeNull();
    expect(keyNameBefore('my token is ', 12)).toBeNull();
  });
  it('reads the reason of an allow comment', () => {
    expect(allowReason('x // keyward:allow fixture */')).toBe('fixture');
    expect(allowReason('<!-- keyward:allow docs example -->')).toBe('docs example');
    expect(allowReason('keyward:allow')).toBe('');
    expect(allowReason('nothing')).toBeNull();
  });
});

describe('keyword filters', () => {
  const rule = {
    id: 'test-lob',
    title: 'test',
    severity: 'high' as const,
    provider: 'test',
    type: 'api-key' as const,
    keywords: ['lob'],
    pattern: /lob_?key\s*=\s*(?<secret>[A-Za-z0-9]{12,})/,
    ignoreCase: true,
    keywordStartsWord: true,
    verifiedFormat: false,
    cases: { positives: () => [], negatives: () => [] },
  };
  const s = createSecretScanner({ rules: [rule], fingerprint: hmacFingerprint(Buffer.alloc(32)) });
  const value = createCaseGen(8).chars(20);
  const lines = (text: string): number[] => s.scanText(text, origin).findings.map((f) => f.line);

  it('keywordStartsWord: a keyword inside a word does not run the rule, one at a word or camelCase start does', () => {
    expect(lines(`glob_key = ${value}`)).toEqual([]);
    expect(lines(`LOB_KEY = ${value}`)).toEqual([1]);
    expect(lines(`x\nmyLobKey = ${value}`)).toEqual([2]);
  });

  it('runs a rule with a keyword reach on nearby lines that hold only keywords of no rule', () => {
    // `compact` and `backup` hold `ac`, which only counts for a rule in upper case: no rule runs on them for it.
    const rule = BUILTIN_SECRET_RULES.find((r) => r.id === 'aws-secret-access-key')!;
    const sample = rule.cases.positives(createCaseGen(42))[3]!;
    const text = sample.replace('region: eu-west-1', 'fallback: compact').replace('key_secret:', 'backup:');
    const { findings } = scanner.scanText(text, origin);
    expect(findings.map((f) => [f.ruleId, f.line, f.column])).toEqual([
      ['aws-access-key-id', 2, 9],
      ['aws-secret-access-key', 4, 9],
    ]);
  });
});
