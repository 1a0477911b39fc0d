import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaseGen } from '../secrets/index.js';
import { scanDataset } from './scan.js';

const g = createCaseGen(7);
const token = g.githubToken('ghp_');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kw-dscan-'));
  await mkdir(join(dir, 'sub'));
  await writeFile(
    join(dir, 'chat.jsonl'),
    [
      JSON.stringify({ user: 'jane@example.com', password: 'hunter2hunter2', n: 1 }),
      JSON.stringify({
        messages: [{ content: `my token is ${token}` }, { content: 'card 4242 4242 4242 4242' }],
      }),
      'not json, from 10.1.2.3',
      JSON.stringify({ password: '' }),
    ].join('\n') + '\n',
  );
  await writeFile(
    join(dir, 'sub', 'people.csv'),
    'name,email,api_key\n"Bob, Jr",bob@corp.io,abc\nx,y\nAl,al@corp.io,\n',
  );
  await writeFile(join(dir, 'sub', 'calls.tsv'), 'id\tphone\n1\t+14155552671\n');
  await writeFile(
    join(dir, 'notes.txt'),
    Buffer.concat([
      Buffer.from('line one\nssn 123-45-6789 '),
      Buffer.from([0xe9, 0xff]),
      Buffer.from(' a@b.de\n'),
    ]),
  );
  await writeFile(join(dir, 'blob.bin'), Buffer.from([0x50, 0, 0x51]));
  await writeFile(join(dir, 'broken.parquet'), 'not parquet at all');
  await writeFile(join(dir, 'clean.md'), '# nothing here\n');
  await symlink(join(dir, 'chat.jsonl'), join(dir, 'link.jsonl'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('scanDataset', () => {
  it('reports per file and type, with redacted samples and locations', async () => {
    const report = await scanDataset(dir);
    expect(report.files.map((f) => f.path)).toEqual([
      'chat.jsonl',
      'clean.md',
      'notes.txt',
      'sub/calls.tsv',
      'sub/people.csv',
    ]);
    const chat = report.files[0]!;
    expect(chat.format).toBe('jsonl');
    expect(chat.records).toBe(4);
    expect(chat.findings.map((t) => [t.type, t.count, t.samples.map((s) => [s.sample, s.location])])).toEqual(
      [
        ['email', 1, [['j***@e***.com', { file: 'chat.jsonl', line: 1, keyPath: 'user' }]]],
        ['ipv4', 1, [['10.*.*.*', { file: 'chat.jsonl', line: 3 }]]],
        [
          'payment-card',
          1,
          [['**** **** **** 4242', { file: 'chat.jsonl', line: 2, keyPath: 'messages[1].content' }]],
        ],
        [
          'secret:github-pat-classic',
          1,
          [
            [
              `${token.slice(0, 4)}…${token.slice(-4)}`,
              { file: 'chat.jsonl', line: 2, keyPath: 'messages[0].content' },
            ],
          ],
        ],
      ],
    );
    expect(chat.findings[3]!.samples[0]!.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(chat.credentialFields).toEqual([{ field: 'password', nonEmptyValues: 1 }]);

    const csv = report.files[4]!;
    expect(csv.findings.map((t) => [t.type, t.count, t.samples.map((s) => s.location)])).toEqual([
      [
        'email',
        2,
        [
          { file: 'sub/people.csv', row: 1, column: 'email', line: 2 },
          { file: 'sub/people.csv', row: 3, column: 'email', line: 4 },
        ],
      ],
    ]);
    expect(csv.credentialFields).toEqual([{ field: 'api_key', nonEmptyValues: 1 }]);
    expect(csv.malformedRows).toEqual({
      count: 1,
      first: [{ line: 3, message: 'wrong number of fields' }],
    });
    expect(
      report.files[2]!.findings.map((t) => [t.type, t.samples[0]!.sample, t.samples[0]!.location]),
    ).toEqual([
      ['email', 'a***@b***.de', { file: 'notes.txt', line: 2 }],
      ['us-ssn', '***-**-****', { file: 'notes.txt', line: 2 }],
    ]);
    expect(report.files[3]!.findings.map((t) => [t.type, t.samples[0]!.sample])).toEqual([
      ['phone', '+*********71'],
    ]);
    expect(report.files[1]!.findings).toEqual([]);

    expect(report.totals).toEqual({
      files: 5,
      bytes: report.totals.bytes,
      findings: 9,
      byType: { email: 4, ipv4: 1, 'payment-card': 1, phone: 1, 'secret:github-pat-classic': 1, 'us-ssn': 1 },
      credentialFields: 2,
      malformedRows: 1,
    });
    expect(report.skipped).toEqual([
      { path: 'blob.bin', reason: 'binary file (NUL bytes in its first 8 KiB)' },
      { path: 'link.jsonl', reason: 'symbolic link (not followed)' },
    ]);
    expect(report.errors.map((e) => e.path)).toEqual(['broken.parquet']);
  });

  it('holds no raw value and survives a JSON round trip', async () => {
    const report = await scanDataset(dir);
    const text = JSON.stringify(report);
    for (const raw of [
      token,
      'jane@example.com',
      'hunter2hunter2',
      '4242 4242 4242 4242',
      '10.1.2.3',
      'bob@corp.io',
      '123-45-6789',
      '+14155552671',
    ])
      expect(text.includes(raw), raw).toBe(false);
    expect(JSON.parse(text)).toEqual(report);
  });

  it('limits samples per type and reports progress up to the total', async () => {
    const seen: Array<[number, number]> = [];
    const report = await scanDataset(dir, {
      maxSamplesPerType: 1,
      workers: 3,
      onProgress: (d, t) => seen.push([d, t]),
    });
    expect(report.files[4]!.findings[0]!.samples.length).toBe(1);
    expect(seen.at(-1)).toEqual([report.totals.bytes, report.totals.bytes]);
    for (let i = 1; i < seen.length; i++) expect(seen[i]![0]).toBeGreaterThan(seen[i - 1]![0]);
  });
});
