/**
 * End-to-end: the built `keyward dataset` commands: sign with a PEM key and with the key Keyward manages,
 * verify (and refuse a tampered dataset), scan for credentials and personal data with a redacted copy, and
 * record the runs. Token-shaped values are generated at run time and must not appear in any output.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaseGen } from '../../src/secrets/secret-case-gen.js';
import { openStore } from '../../src/store/index.js';
import { removeDir, requireBuild, runKeyward, tempDir } from './e2e-helpers.js';

const g = createCaseGen(7);
const token = g.githubToken(g.join('gh', 'p_'));

let work: string;
let ds: string;
let data: string;

beforeAll(() => {
  requireBuild();
  work = tempDir('kw-ds-');
  ds = join(work, 'train');
  data = join(work, 'data');
  mkdirSync(join(ds, 'chats'), { recursive: true });
  writeFileSync(
    join(ds, 'chats', 'a.jsonl'),
    `{"role":"user","text":"mail me at jane.doe@example.org"}\n{"role":"assistant","text":"ok"}\n`,
  );
  writeFileSync(join(ds, 'users.csv'), `name,phone\nJane,+44 20 7946 0958\n`);
  writeFileSync(join(ds, 'notes.txt'), `deploy with GITHUB_TOKEN=${token}\n`);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(join(work, 'key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(work, 'pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
});
afterAll(() => removeDir(work));

describe('keyward dataset sign and verify', () => {
  it('signs with a PEM key and verifies with its public key; the output is the same on every run', async () => {
    const out = join(work, 'train.manifest.json');
    const args = [
      'dataset',
      'sign',
      ds,
      '--supplier',
      'ACME Labs',
      '--license',
      'CC-BY-4.0',
      '--key',
      join(work, 'key.pem'),
      '--output',
      out,
    ];
    const r = await runKeyward(args);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/signed 3 file\(s\), \d+ bytes, root sha256:[0-9a-f]{64}/);
    const first = readFileSync(out, 'utf8');
    expect((await runKeyward(args)).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(first);
    const v = await runKeyward([
      'dataset',
      'verify',
      ds,
      '--manifest',
      out,
      '--trust',
      join(work, 'pub.pem'),
    ]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^verified: 3 file\(s\) match the manifest signed by [0-9a-f]{64}$/m);
  });

  it('reports every difference and exits 1 on a tampered dataset', async () => {
    const copy = join(work, 'tampered');
    mkdirSync(join(copy, 'chats'), { recursive: true });
    writeFileSync(join(copy, 'chats', 'a.jsonl'), readFileSync(join(ds, 'chats', 'a.jsonl')));
    writeFileSync(join(copy, 'people.csv'), readFileSync(join(ds, 'users.csv')));
    writeFileSync(join(copy, 'notes.txt'), 'changed\n');
    writeFileSync(join(copy, 'extra.txt'), 'new\n');
    const v = await runKeyward([
      'dataset',
      'verify',
      copy,
      '--manifest',
      join(work, 'train.manifest.json'),
      '--trust',
      join(work, 'pub.pem'),
    ]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain('ADDED     extra.txt');
    expect(v.stdout).toContain('MODIFIED  notes.txt');
    expect(v.stdout).toContain('RENAMED   users.csv -> people.csv');
    expect(v.stdout).toMatch(/NOT verified/);
  });

  it('refuses a manifest signed by a key that is not trusted, and a truncated one with a clear error', async () => {
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' });
    writeFileSync(join(work, 'other.pem'), other);
    const v = await runKeyward([
      'dataset',
      'verify',
      ds,
      '--manifest',
      join(work, 'train.manifest.json'),
      '--trust',
      join(work, 'other.pem'),
    ]);
    expect(v.code).toBe(1);
    writeFileSync(
      join(work, 'truncated.json'),
      readFileSync(join(work, 'train.manifest.json'), 'utf8').slice(0, 60),
    );
    const t = await runKeyward([
      'dataset',
      'verify',
      ds,
      '--manifest',
      join(work, 'truncated.json'),
      '--trust',
      join(work, 'pub.pem'),
    ]);
    expect(t.code).toBe(2);
    expect(t.stderr).toContain('truncated.json');
    expect(t.stderr).not.toMatch(/\n\s+at .*:\d+:\d+\)?$/m);
  });

  it('signs with the key Keyward manages and records signing and verification', async () => {
    const out = join(work, 'managed.json');
    const s = await runKeyward([
      '--data-dir',
      data,
      'dataset',
      'sign',
      ds,
      '--supplier',
      'ACME Labs',
      '--output',
      out,
    ]);
    expect(s.code).toBe(0);
    const v = await runKeyward(['--data-dir', data, 'dataset', 'verify', ds, '--manifest', out]);
    expect(v.code).toBe(0);
    const pub = await runKeyward(['--data-dir', data, 'dataset', 'public-key']);
    expect(pub.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const store = await openStore({ dataDir: data });
    try {
      const events = (await store.readEvents(0, 100)).filter((e) => e.type.startsWith('dataset.'));
      expect(events.map((e) => [e.type, e.data.result, e.data.supplier])).toEqual([
        ['dataset.signed', 'ok', 'ACME Labs'],
        ['dataset.verified', 'ok', 'ACME Labs'],
      ]);
      const res = await store.listResources({ provider: 'dataset', type: 'dataset' });
      expect(res.items).toHaveLength(1);
      expect(res.items[0]!.attributes).toMatchObject({ supplier: 'ACME Labs', dataset: 'train' });
    } finally {
      await store.close();
    }
  });

  it('names a missing supplier and a missing directory', async () => {
    const a = await runKeyward(['dataset', 'sign', ds, '--key', join(work, 'key.pem')]);
    expect([a.code, a.stderr.includes('--supplier')]).toEqual([2, true]);
    const b = await runKeyward(['dataset', 'sign', join(work, 'nope'), '--supplier', 'x']);
    expect([b.code, b.stderr.includes('does not exist')]).toEqual([2, true]);
  });
});

describe('keyward dataset scan', () => {
  it('finds the credential and personal data with redacted samples, writes a redacted copy, exits 1', async () => {
    const red = join(work, 'redacted');
    const r = await runKeyward(['dataset', 'scan', ds, '--redact-to', red, '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).not.toContain(token);
    const report = JSON.parse(r.stdout) as { totals: { byType: Record<string, number> } };
    expect(Object.keys(report.totals.byType).sort()).toEqual(['email', 'phone', 'secret:github-pat-classic']);
    expect(readFileSync(join(red, 'notes.txt'), 'utf8')).toBe(
      'deploy with GITHUB_TOKEN=[REDACTED:secret:github-pat-classic]\n',
    );
    const chat = readFileSync(join(red, 'chats', 'a.jsonl'), 'utf8').split('\n');
    expect(JSON.parse(chat[0]!)).toEqual({ role: 'user', text: 'mail me at [REDACTED:email]' });
    expect(chat[1]).toBe('{"role":"assistant","text":"ok"}');
  });

  it('redacts Parquet, names a Parquet file it copies unredacted and one it cannot read, exits 1', async () => {
    const pq = join(work, 'pq');
    mkdirSync(pq);
    writeFileSync(
      join(pq, 'users.parquet'),
      new Uint8Array(
        parquetWriteBuffer({
          columnData: [
            { name: 'id', data: [1, 2], type: 'INT32' },
            { name: 'email', data: ['jane.doe@example.org', 'none'], type: 'STRING' },
          ],
        }),
      ),
    );
    writeFileSync(
      join(pq, 'ledger.parquet'),
      new Uint8Array(
        parquetWriteBuffer({
          columnData: [
            { name: 'email', data: ['jane.doe@example.org'] },
            { name: 'amount', data: [12345678901234567890n] },
          ],
          schema: [
            { name: 'root', num_children: 2 },
            { name: 'email', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
            {
              name: 'amount',
              type: 'FIXED_LEN_BYTE_ARRAY',
              type_length: 9,
              converted_type: 'DECIMAL',
              precision: 20,
              scale: 0,
              repetition_type: 'REQUIRED',
            },
          ],
        }),
      ),
    );
    writeFileSync(join(pq, 'broken.parquet'), 'not parquet');
    const red = join(work, 'pq-redacted');
    const r = await runKeyward(['dataset', 'scan', pq, '--redact-to', red]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('keyward:'))).toEqual([
      `keyward: wrote a redacted copy to ${red} (1 file(s) redacted)`,
      'keyward: NOT redacted ledger.parquet: not redacted: column amount has type DECIMAL(20,0), which cannot be written back unchanged',
      'keyward: NOT written broken.parquet: parquet file invalid (footer != PAR1)',
    ]);
    const rows = await parquetReadObjects({ file: await asyncBufferFromFile(join(red, 'users.parquet')) });
    expect(rows).toEqual([
      { id: 1, email: '[REDACTED:email]' },
      { id: 2, email: 'none' },
    ]);
    expect(readFileSync(join(red, 'ledger.parquet')).equals(readFileSync(join(pq, 'ledger.parquet')))).toBe(
      true,
    );
  });

  it('exits 0 on personal data alone unless --fail-on-pii', async () => {
    const clean = join(work, 'pii-only');
    mkdirSync(clean);
    writeFileSync(join(clean, 'a.jsonl'), '{"text":"jane.doe@example.org"}\n');
    expect((await runKeyward(['dataset', 'scan', clean])).code).toBe(0);
    expect((await runKeyward(['dataset', 'scan', clean, '--fail-on-pii'])).code).toBe(1);
  });
});
