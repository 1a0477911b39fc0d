import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_SECRET_RULES } from './rules/index.js';
import { createCaseGen } from './secret-case-gen.js';
import { hmacFingerprint } from './secret-fingerprint.js';
import { readScanChunksSync, startsWithWideBom, toScanBytes } from './secret-read.js';
import { createSecretScanner } from './secret-scanner.js';

const dir = mkdtempSync(join(tmpdir(), 'kw-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const scanner = createSecretScanner({
  rules: BUILTIN_SECRET_RULES,
  fingerprint: hmacFingerprint(Buffer.alloc(32)),
});
const origin = { kind: 'file' as const, path: 'big.jsonl' };

describe('readScanChunksSync', () => {
  it('finds in pieces exactly what a whole read finds: lines, columns, PEM blocks and allow comments across cuts', () => {
    const g = createCaseGen(77);
    const ghp = g.join('gh', 'p_');
    const pem = BUILTIN_SECRET_RULES.find((r) => r.id === 'private-key-pem')!.cases.positives(g)[0]!;
    const lines: string[] = [];
    for (let i = 0; i < 400; i++) {
      if (i % 37 === 5) lines.push(`{"id":${i},"text":"token ${g.githubToken(ghp)} here"}`);
      else if (i % 91 === 40) lines.push('# keyward:allow fixture', `{"allowed":"${g.githubToken(ghp)}"}`);
      else if (i === 250) lines.push(pem);
      else lines.push(`{"id":${i},"text":"${'lorem ipsum '.repeat(1 + (i % 7))}"}`);
    }
    const text = `${lines.join('\n')}\n`;
    const file = join(dir, 'big.jsonl');
    writeFileSync(file, text);
    const whole = scanner.scanText(text, origin);
    expect(whole.findings.length).toBeGreaterThan(10);
    for (const chunkBytes of [97, 1000, 4096]) {
      const found: string[] = [];
      const allowed: string[] = [];
      let pieces = 0;
      for (const chunk of readScanChunksSync(file, text.length, chunkBytes, 2048)) {
        if ('skipped' in chunk) throw new Error(chunk.skipped);
        pieces++;
        const r = scanner.scanBuffer(chunk.bytes, origin, chunk);
        found.push(...r.findings.map((f) => `${f.ruleId}@${f.line}:${f.column}`));
        allowed.push(...r.allowed.map((a) => `${a.finding.line}:${a.reason}`));
      }
      expect(pieces).toBeGreaterThan(text.length / chunkBytes / 2);
      expect(found, `pieces of ${chunkBytes}`).toEqual(
        whole.findings.map((f) => `${f.ruleId}@${f.line}:${f.column}`),
      );
      expect(allowed).toEqual(whole.allowed.map((a) => `${a.finding.line}:${a.reason}`));
    }
  });

  it('reports a binary file and a missing one', () => {
    const bin = join(dir, 'b.bin');
    writeFileSync(bin, Buffer.from([1, 2, 0, 3]));
    expect([...readScanChunksSync(bin, 4, 100, 10)]).toEqual([{ skipped: 'binary' }]);
    expect([...readScanChunksSync(join(dir, 'none'), 4, 100, 10)]).toEqual([{ skipped: 'unreadable' }]);
  });
});

describe('toScanBytes and startsWithWideBom', () => {
  it('keeps UTF-8, decodes UTF-16 with a BOM, refuses binaries', () => {
    expect(toScanBytes(Buffer.from('héllo'))!.toString()).toBe('héllo');
    expect(
      toScanBytes(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('key=1', 'utf16le')]))!.toString(),
    ).toBe('key=1');
    expect(toScanBytes(Buffer.from([0x41, 0, 0x42]))).toBeNull();
    const wide = join(dir, 'w.txt');
    writeFileSync(wide, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('x', 'utf16le')]));
    expect(startsWithWideBom(wide)).toBe(true);
    writeFileSync(wide, 'plain');
    expect(startsWithWideBom(wide)).toBe(false);
  });
});
