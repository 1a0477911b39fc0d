import { readFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { it } from 'vitest';
import { BUILTIN_SECRET_RULES } from './rules/index.js';
import { createSecretScanner } from './secret-scanner.js';
import { hmacFingerprint } from './secret-fingerprint.js';

it('self', () => {
  const files = execSync('git ls-files', { encoding: 'utf8' }).split('\n').filter(Boolean);
  const scanner = createSecretScanner({
    rules: BUILTIN_SECRET_RULES,
    fingerprint: hmacFingerprint(Buffer.alloc(32)),
  });
  for (const f of files) {
    let buf: Buffer;
    try {
      buf = readFileSync(f);
    } catch {
      continue;
    }
    for (const x of scanner.scanBuffer(buf, { kind: 'file', path: f }).findings)
      console.log(
        `${f}:${x.line}:${x.column} ${x.ruleId} ${x.keyName} ${JSON.stringify(x.secret.slice(0, 60))}`,
      );
  }
});
