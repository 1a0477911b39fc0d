import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_SECRET_RULES, createCaseGen } from '../secrets/index.js';
import { scanDataset } from './scan.js';
import { readdir } from 'node:fs/promises';
import { defaultDatasetScanner } from './scan.js';
import { redactDataset } from './redact.js';

const g = createCaseGen(11);
const token = g.githubToken('ghp_');
const pem = BUILTIN_SECRET_RULES.find((r) => r.id === 'private-key-pem')!
  .cases.positives(g)[0]!
  .trimEnd();
let base: string;
let dir: string;

const files: Record<string, string | Buffer> = {
  'chat.jsonl': [
    '{"user": "jane@example.com", "n": 1.0, "tags": ["a"]}',
    JSON.stringify({ messages: [{ content: `use ${token} please`, role: 'user' }], password: 'hunter2' }),
    '{"plain": "nothing to see"}',
    'not json 10.1.2.3',
    '',
  ].join('\r\n'),
  'sub/people.csv':
    'name,"email",note\n"Bob, Jr",bob@corp.io,"card 4242-4242-4242-4242"\nx,y\nAl,plain,"say ""hi"""\n',
  'calls.tsv': 'id\tphone\n1\tcall +14155552671 now\n',
  'notes.txt': Buffer.concat([
    Buffer.from('keep \xe9 me\nssn 123-45-6789 '.replace('\xe9', 'é')),
    Buffer.from([0xe9, 0xff]),
    Buffer.from(' end\nlast line without newline a@b.de'),
  ]),
  'doc.json': '{\n  "contact": {"email": "x@corp.io"},\n  "n": 2\n}\n',
  'clean.md': '# nothing\r\nhere\n',
  'keys.txt': `before\n${pem}\nafter\n`,
  'data.parquet': 'PAR1 pretend',
  'blob.bin': Buffer.from([1, 0, 2]),
};

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'kw-redact-'));
  dir = join(base, 'in');
  await mkdir(join(dir, 'sub'), { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('redactDataset', () => {
  it('writes the same files with typed placeholders, keeping each format', async () => {
    const out = join(base, 'out');
    const result = await redactDataset(dir, out);
    expect(result.files).toEqual([
      {
        path: 'blob.bin',
        action: 'copied',
        replacements: 0,
        note: 'binary file (NUL bytes in its first 8 KiB): copied unchanged',
      },
      { path: 'calls.tsv', action: 'redacted', replacements: 1 },
      { path: 'chat.jsonl', action: 'redacted', replacements: 4 },
      { path: 'clean.md', action: 'copied', replacements: 0 },
      { path: 'doc.json', action: 'redacted', replacements: 1 },
      { path: 'keys.txt', action: 'redacted', replacements: 1 },
      { path: 'notes.txt', action: 'redacted', replacements: 2 },
      { path: 'sub/people.csv', action: 'redacted', replacements: 2 },
    ]);
    // Not Parquet: reported as an error, and nothing is written for it.
    expect(result.errors).toEqual([
      { path: 'data.parquet', message: 'parquet file invalid (footer != PAR1)' },
    ]);
    await expect(readFile(join(out, 'data.parquet'))).rejects.toMatchObject({ code: 'ENOENT' });
    const read = (p: string): Promise<Buffer> => readFile(join(out, p));

    const chat = (await read('chat.jsonl')).toString();
    expect(chat.split('\r\n')).toEqual([
      '{"user": "[REDACTED:email]", "n": 1.0, "tags": ["a"]}',
      JSON.stringify({
        messages: [{ content: 'use [REDACTED:secret:github-pat-classic] please', role: 'user' }],
        password: '[REDACTED:credential-field]',
      }),
      '{"plain": "nothing to see"}',
      'not json [REDACTED:ipv4]',
      '',
    ]);

    const csv = (await read('sub/people.csv')).toString();
    expect(csv).toBe(
      'name,"email",note\n"Bob, Jr",[REDACTED:email],"card [REDACTED:payment-card]"\nx,y\nAl,plain,"say ""hi"""\n',
    );
    expect(parse(csv, { relax_column_count: true })).toEqual([
      ['name', 'email', 'note'],
      ['Bob, Jr', '[REDACTED:email]', 'card [REDACTED:payment-card]'],
      ['x', 'y'],
      ['Al', 'plain', 'say "hi"'],
    ]);
    expect((await read('calls.tsv')).toString()).toBe('id\tphone\n1\tcall [REDACTED:phone] now\n');
    expect(
      (await read('notes.txt')).equals(
        Buffer.concat([
          Buffer.from('keep é me\nssn [REDACTED:us-ssn] '),
          Buffer.from([0xe9, 0xff]),
          Buffer.from(' end\nlast line without newline [REDACTED:email]'),
        ]),
      ),
    ).toBe(true);
    expect((await read('doc.json')).toString()).toBe(
      '{\n  "contact": {"email": "[REDACTED:email]"},\n  "n": 2\n}\n',
    );
    expect((await read('keys.txt')).toString()).toBe('before\n[REDACTED:secret:private-key-pem]\nafter\n');
    for (const same of ['clean.md', 'blob.bin'])
      expect((await read(same)).equals(Buffer.from(files[same]!))).toBe(true);
  });

  it('copies files the report found nothing in without reading them again', async () => {
    const report = await scanDataset(dir);
    const out = join(base, 'out2');
    const result = await redactDataset(dir, out, report);
    expect(result.files.find((f) => f.path === 'clean.md')).toEqual({
      path: 'clean.md',
      action: 'copied',
      replacements: 0,
    });
    expect(result.files.filter((f) => f.action === 'redacted').map((f) => f.path)).toEqual([
      'calls.tsv',
      'chat.jsonl',
      'doc.json',
      'keys.txt',
      'notes.txt',
      'sub/people.csv',
    ]);
    // The redacted copy scans clean.
    const again = await scanDataset(out);
    expect(again.totals.findings).toBe(0);
    expect(again.totals.credentialFields).toBe(1);
  });

  it('leaves no half-written file when redacting a file fails part-way', async () => {
    const src = join(base, 'failing');
    await mkdir(src, { recursive: true });
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ id: i, mail: `u${i}@corp.io` }));
    await writeFile(join(src, 'rows.jsonl'), lines.join('\n') + '\n');
    const real = defaultDatasetScanner();
    let calls = 0;
    const scanner = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop !== 'scanText') return Reflect.get(target, prop, receiver);
        return (...args: Parameters<typeof real.scanText>) => {
          if (++calls > 20) throw new Error('disk went away');
          return real.scanText(...args);
        };
      },
    });
    const out = join(base, 'failing-out');
    const result = await redactDataset(src, out, { scanner });
    expect(result.files).toEqual([]);
    expect(result.errors).toEqual([{ path: 'rows.jsonl', message: 'disk went away' }]);
    expect(await readdir(out)).toEqual([]);
  });

  it('changes only the redacted cells of a CSV: bytes that are not UTF-8, the BOM and refused rows stay', async () => {
    const own = join(base, 'bytes');
    await mkdir(join(own, 'in'), { recursive: true });
    const input = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(`name,token,note\r\nbob,${token},caf`),
      Buffer.from([0xe9]),
      Buffer.from('\r\na,b\r\nx"y,1,2\r\nok,,'),
      Buffer.from([0xff]),
      Buffer.from(' end\r\n7,"8,9\r\n'),
    ]);
    await writeFile(join(own, 'in', 'rows.csv'), input);
    const result = await redactDataset(join(own, 'in'), join(own, 'out'));
    expect(result.errors).toEqual([]);
    const out = await readFile(join(own, 'out', 'rows.csv'));
    const placeholder = /\[REDACTED:[^\]]+\]/.exec(out.toString('latin1'))?.[0];
    expect(placeholder).toMatch(/^\[REDACTED:/);
    expect(out.toString('latin1')).toBe(input.toString('latin1').replace(token, placeholder!));
  });

  it('refuses an output directory inside the dataset', async () => {
    await expect(redactDataset(dir, join(dir, 'redacted'))).rejects.toMatchObject({
      code: 'KW_VALIDATION',
      details: [{ path: 'outDir', message: expect.stringContaining('lies inside') }],
    });
  });
});
