import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  ftruncateSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../core/errors.js';
import { buildManifest, rootDigest, serializeStatement, toStatement } from './manifest.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const slow = process.env.KEYWARD_SLOW_TESTS === '1';
const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kw-manifest-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(rel: string, content: string | Buffer): void {
  const parts = rel.split('/');
  if (parts.length > 1) mkdirSync(join(dir, ...parts.slice(0, -1)), { recursive: true });
  writeFileSync(join(dir, ...parts), content);
}

async function refusal(p: Promise<unknown>): Promise<ValidationError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  return err as ValidationError;
}

describe('buildManifest', () => {
  it('records every regular file sorted by code point, NFC, with size and SHA-256, and the provenance given', async () => {
    write('b.txt', 'bee\n');
    write('B.txt', 'Bee\n');
    write('sub/deeper/x.csv', 'a,b\n1,2\n');
    write('caf\u0065\u0301.txt', 'nfd name\n'); // NFD on disk
    write('\uff21.txt', 'fullwidth A\n'); // U+FF21 sorts before U+1D400 by code point, after it by UTF-16 unit
    write('\u{1d400}.txt', 'math A\n');
    write('empty', '');
    const m = await buildManifest(dir, {
      name: 'train',
      supplier: 'ACME Labs',
      license: 'CC-BY-4.0',
      collectedAt: '2026-01-31',
    });
    expect(m.files.map((f) => f.path)).toEqual([
      'B.txt',
      'b.txt',
      'caf\u00e9.txt',
      'empty',
      'sub/deeper/x.csv',
      '\uff21.txt',
      '\u{1d400}.txt',
    ]);
    expect(m.files[0]).toEqual({ path: 'B.txt', size: 4, sha256: sha('Bee\n') });
    expect(m.files[3]).toEqual({ path: 'empty', size: 0, sha256: sha('') });
    expect(m).toMatchObject({
      name: 'train',
      supplier: 'ACME Labs',
      license: 'CC-BY-4.0',
      collectedAt: '2026-01-31',
      totalBytes: 44,
    });
    expect(m.rootDigest).toBe(sha(m.files.map((f) => `${f.sha256}  ${f.path}\n`).join('')));
  });

  it('has a root digest equal to sha256sum over the sorted sha256sum lines', async () => {
    write('a.txt', 'one\n');
    write('d/b.bin', Buffer.from([0, 1, 2, 255]));
    write('d/c d.txt', 'with a space\n');
    const m = await buildManifest(dir, { supplier: 'x' });
    const out = execFileSync(
      'sh',
      ['-c', "find . -type f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum"],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    );
    expect(m.rootDigest).toBe(out.split(' ')[0]);
    expect(rootDigest([])).toBe(sha(''));
  });

  it('serialises to the same bytes every time, with no timestamp unless given, named after the directory', async () => {
    write('a.txt', 'one\n');
    const one = serializeStatement(toStatement(await buildManifest(dir, { supplier: 'ACME' })));
    const two = serializeStatement(toStatement(await buildManifest(dir, { supplier: 'ACME' })));
    expect(one.equals(two)).toBe(true);
    const name = dir.split('/').pop()!;
    const root = sha(`${sha('one\n')}  a.txt\n`);
    expect(one.toString()).toBe(
      `{"_type":"https://in-toto.io/Statement/v1","predicate":{"fileCount":1,"files":[{"path":"a.txt","sha256":"${sha('one\n')}","size":4}],` +
        `"name":"${name}","rootDigest":"${root}","serialization":{"allowSymlinks":false,"hashType":"sha256","method":"files"},` +
        `"supplier":"ACME","totalBytes":4},"predicateType":"https://keyward.dev/dataset-manifest/v1",` +
        `"subject":[{"digest":{"sha256":"${root}"},"name":"${name}"}]}`,
    );
  });

  it('refuses a symbolic link pointing outside the dataset, naming it and its target', async () => {
    write('ok.txt', 'x');
    mkdirSync(join(dir, 'sub'));
    symlinkSync('/etc/passwd', join(dir, 'sub', 'passwd'));
    const err = await refusal(buildManifest(dir, { supplier: 'x' }));
    expect(err.message).toBe(
      'sub/passwd is a symbolic link to /etc/passwd, which points outside the dataset; symbolic links are refused (replace it with a copy of the file)',
    );
    expect(err.details).toEqual([
      { path: 'sub/passwd', message: 'symbolic link pointing outside the dataset' },
    ]);
  });

  it('refuses a symbolic link inside the dataset too', async () => {
    write('ok.txt', 'x');
    symlinkSync('ok.txt', join(dir, 'alias.txt'));
    const err = await refusal(buildManifest(dir, { supplier: 'x' }));
    expect(err.details).toEqual([{ path: 'alias.txt', message: 'symbolic link' }]);
  });

  it('refuses a file name that is not UTF-8, giving its bytes in hex', async () => {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(
      Buffer.concat([Buffer.from(join(dir, 'sub') + '/'), Buffer.from([0x66, 0xff, 0xfe, 0x2e])]),
      'x',
    );
    const err = await refusal(buildManifest(dir, { supplier: 'x' }));
    expect(err.message).toBe(
      'A file name in sub is not valid UTF-8 (bytes 66fffe2e); manifests record UTF-8 names only, rename it',
    );
    expect(err.details).toEqual([{ path: 'sub/<hex:66fffe2e>', message: 'file name is not UTF-8' }]);
  });

  it('refuses names that cannot be recorded: backslash, newline, two names equal after NFC', async () => {
    write('a\\b.txt', 'x');
    expect((await refusal(buildManifest(dir, { supplier: 'x' }))).details[0]).toEqual({
      path: 'a\\b.txt',
      message: 'contains a backslash',
    });
    rmSync(join(dir, 'a\\b.txt'));
    write('line\nbreak', 'x');
    expect((await refusal(buildManifest(dir, { supplier: 'x' }))).details[0]!.message).toBe(
      'contains a control character (NUL, newline, ...)',
    );
    rmSync(join(dir, 'line\nbreak'));
    write('caf\u00e9', 'x');
    write('cafe\u0301', 'y');
    expect((await refusal(buildManifest(dir, { supplier: 'x' }))).message).toBe(
      'Two files are both named "caf\u00e9" once normalised to Unicode NFC; rename one of them',
    );
  });

  it('refuses a FIFO by name', async () => {
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    const err = await refusal(buildManifest(dir, { supplier: 'x' }));
    expect(err.details).toEqual([{ path: 'pipe', message: 'special file refused' }]);
  });

  it.skipIf(isRoot)(
    'names an unreadable file and returns no manifest (skipped as root: chmod 000 does not stop root)',
    async () => {
      write('a.txt', 'x');
      write('secret.txt', 'y');
      chmodSync(join(dir, 'secret.txt'), 0o000);
      const err = await refusal(buildManifest(dir, { supplier: 'x' }));
      expect(err.message).toContain(`Cannot read ${join(dir, 'secret.txt')}: permission denied (EACCES)`);
    },
  );

  it('validates the provenance options, naming the field', async () => {
    write('a.txt', 'x');
    expect((await refusal(buildManifest(dir, { supplier: '  ' }))).details).toEqual([
      { path: 'supplier', message: 'is required (who supplied the dataset)' },
    ]);
    expect(
      (await refusal(buildManifest(dir, { supplier: 'x', collectedAt: 'last tuesday' }))).details[0]!.path,
    ).toBe('collectedAt');
    expect((await refusal(buildManifest(join(dir, 'a.txt'), { supplier: 'x' }))).message).toBe(
      `${join(dir, 'a.txt')} is not a directory`,
    );
  });

  it(`hashes ${slow ? '100k' : '20k'} small files in reasonable time`, { timeout: 120_000 }, async () => {
    const n = slow ? 100_000 : 20_000;
    for (let d = 0; d < n / 1000; d++) {
      mkdirSync(join(dir, `d${d}`));
      for (let i = 0; i < 1000; i++) writeFileSync(join(dir, `d${d}`, `f${i}`), `${d}/${i}`);
    }
    const t0 = performance.now();
    const m = await buildManifest(dir, { supplier: 'x' });
    const ms = performance.now() - t0;
    expect(m.files).toHaveLength(n);
    expect(m.files[0]).toEqual({ path: 'd0/f0', size: 3, sha256: sha('0/0') });
    expect(ms).toBeLessThan(60_000);
  });

  it.skipIf(!slow)('hashes a 2 GiB sparse file (KEYWARD_SLOW_TESTS=1)', { timeout: 120_000 }, async () => {
    const fd = openSync(join(dir, 'sparse.bin'), 'w');
    ftruncateSync(fd, 2 * 1024 ** 3);
    closeSync(fd);
    const m = await buildManifest(dir, { supplier: 'x' });
    const zeros = createHash('sha256');
    const mib = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < 2048; i++) zeros.update(mib);
    expect(m.files).toEqual([{ path: 'sparse.bin', size: 2 * 1024 ** 3, sha256: zeros.digest('hex') }]);
  });
});
