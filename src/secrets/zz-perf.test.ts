import { readFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { it } from 'vitest';
import { BUILTIN_SECRET_RULES } from './rules/index.js';
import { createSecretScanner } from './secret-scanner.js';
import { hmacFingerprint } from './secret-fingerprint.js';

it('perf', () => {
  const files = execSync('git ls-files src test docs', { encoding: 'utf8' }).split('\n').filter(Boolean);
  const texts = files.map((f) => readFileSync(f));
  const scanner = createSecretScanner({
    rules: BUILTIN_SECRET_RULES.filter((r) => r.id !== process.env.SKIP),
    fingerprint: hmacFingerprint(Buffer.alloc(32)),
  });
  let bytes = 0;
  let n = 0;
  const t0 = performance.now();
  for (let rep = 0; rep < 5; rep++)
    for (let i = 0; i < texts.length; i++) {
      bytes += texts[i]!.length;
      n += scanner.scanBuffer(texts[i]!, { kind: 'file', path: files[i]! }).findings.length;
    }
  const s = (performance.now() - t0) / 1000;
  console.log(
    `${(bytes / 1e6).toFixed(1)} MB in ${s.toFixed(2)} s = ${(bytes / 1e6 / s).toFixed(1)} MB/s, findings ${n / 5}`,
  );
});
import { createKeywordMatcher } from './keyword-matcher.js';
import { compileRule } from './secret-rule-match.js';
it('ac only', () => {
  const files = execSync('git ls-files src test docs', { encoding: 'utf8' }).split('\n').filter(Boolean);
  const texts = files.map((f) => readFileSync(f));
  const kws = [...new Set(BUILTIN_SECRET_RULES.flatMap((r) => compileRule(r).keywords))];
  const m = createKeywordMatcher(kws);
  let bytes = 0;
  let hits = 0;
  const t0 = performance.now();
  for (let rep = 0; rep < 5; rep++)
    for (const t of texts) {
      bytes += t.length;
      m.scan(t, () => void hits++);
    }
  const s = (performance.now() - t0) / 1000;
  console.log(`AC ${kws.length} kws: ${(bytes / 1e6 / s).toFixed(1)} MB/s, hits ${hits / 5}`);
});
