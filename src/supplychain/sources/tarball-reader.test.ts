import { describe, expect, it } from 'vitest';
import { ArchiveError } from './archive-limits.js';
import { readTarball } from './tarball-reader.js';
import { makePackageTarball, makeTarball, makeZeroBomb } from './tarball-test-support.js';

const PKG_JSON = JSON.stringify({ name: 'demo', version: '1.2.3', main: 'index.js' });

async function refusal(bytes: Uint8Array, limits = {}): Promise<ArchiveError> {
  const err = await readTarball(bytes, { location: 'demo.tgz', limits }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ArchiveError);
  return err as ArchiveError;
}

describe('readTarball', () => {
  it('reads a normal package, strips package/ and keeps modes', async () => {
    const bytes = await makeTarball([
      { path: 'package/', type: 'directory' },
      { path: 'package/package.json', content: PKG_JSON },
      { path: 'package/index.js', content: 'module.exports = 1;\n' },
      { path: 'package/bin/cli.js', content: '#!/usr/bin/env node\n', mode: 0o755 },
    ]);
    const pkg = await readTarball(bytes, { location: 'demo.tgz' });
    expect(pkg.name).toBe('demo');
    expect(pkg.version).toBe('1.2.3');
    expect(pkg.manifest['main']).toBe('index.js');
    expect(pkg.origin).toEqual({ kind: 'tarball', location: 'demo.tgz' });
    expect(pkg.files.map((f) => [f.path, f.size, f.executable])).toEqual([
      ['bin/cli.js', 20, true],
      ['index.js', 20, false],
      ['package.json', PKG_JSON.length, false],
    ]);
    expect(Buffer.from(pkg.files[1]!.read()).toString()).toBe('module.exports = 1;\n');
    expect(pkg.notes).toEqual([]);
  });

  it('strips any single top directory name', async () => {
    const bytes = await makeTarball([
      { path: 'node/package.json', content: PKG_JSON },
      { path: 'node/a.js', content: 'x' },
    ]);
    const pkg = await readTarball(bytes, { location: 'demo.tgz' });
    expect(pkg.files.map((f) => f.path)).toEqual(['a.js', 'package.json']);
  });

  it('refuses .. traversal naming the entry', async () => {
    const err = await refusal(
      await makeTarball([
        { path: 'package/package.json', content: PKG_JSON },
        { path: 'package/../../evil.sh', content: 'x' },
      ]),
    );
    expect(err.message).toBe(
      'demo.tgz: entry "package/../../evil.sh" is refused: its path climbs out of the package with ".."',
    );
    expect(err.details).toEqual([{ path: 'demo.tgz:package/../../evil.sh', message: err.message }]);
  });

  it('refuses backslash traversal and drive letters', async () => {
    const a = await refusal(
      await makeTarball([
        { path: 'package/package.json', content: PKG_JSON },
        { path: 'package\\..\\..\\evil', content: 'x' },
      ]),
    );
    expect(a.message).toContain('climbs out of the package');
    const b = await refusal(await makeTarball([{ path: 'C:/Windows/evil', content: 'x' }]));
    expect(b.message).toBe(
      'demo.tgz: entry "C:/Windows/evil" is refused: its path starts with a drive letter',
    );
  });

  it('refuses an absolute path', async () => {
    const err = await refusal(
      await makeTarball([
        { path: 'package/package.json', content: PKG_JSON },
        { path: '/etc/passwd', content: 'x' },
      ]),
    );
    expect(err.message).toBe('demo.tgz: entry "/etc/passwd" is refused: its path is an absolute path');
  });

  it('leaves links out and notes them, saying when a target escapes', async () => {
    const bytes = await makeTarball([
      { path: 'package/package.json', content: PKG_JSON },
      { path: 'package/lib/ok', type: 'symlink', linkname: '../index.js' },
      { path: 'package/lib/escape', type: 'symlink', linkname: '../../../.ssh/id_rsa' },
      { path: 'package/abs', type: 'symlink', linkname: '/etc/passwd' },
      { path: 'package/hard', type: 'link', linkname: 'package/package.json' },
      { path: 'package/fifo', type: 'fifo' },
    ]);
    const pkg = await readTarball(bytes, { location: 'demo.tgz' });
    expect(pkg.files.map((f) => f.path)).toEqual(['package.json']);
    expect(pkg.notes).toEqual([
      'symlink lib/ok -> ../index.js was not followed',
      'symlink lib/escape -> ../../../.ssh/id_rsa was not followed (its target escapes the package)',
      'symlink abs -> /etc/passwd was not followed (its target escapes the package)',
      'hard link hard -> package/package.json was not followed',
      'fifo entry package/fifo was skipped (not a regular file)',
    ]);
  });

  it('refuses too many entries', async () => {
    const entries = [{ path: 'package/package.json', content: PKG_JSON }];
    for (let i = 0; i < 10; i++) entries.push({ path: `package/f${i}.js`, content: '' });
    const err = await refusal(await makeTarball(entries), { maxEntries: 5 });
    expect(err.message).toBe('demo.tgz: entry "package/f4.js" is past the limit of 5 entries');
  });

  it('refuses a file above maxFileBytes', async () => {
    const bytes = await makePackageTarball('demo', '1.0.0', { 'big.bin': 'x'.repeat(2000) });
    const err = await refusal(bytes, { maxFileBytes: 1000 });
    expect(err.message).toBe(
      'demo.tgz: entry "package/big.bin" is 2000 bytes, above the limit of 1000 bytes per file',
    );
  });

  it('stops a gzip bomb on the ratio limit without inflating it', async () => {
    const bomb = await makeZeroBomb(200 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const before = process.memoryUsage().rss;
    const err = await refusal(bomb);
    expect(err.message).toMatch(
      /^demo\.tgz: compression ratio above 200 \(\d+ bytes unpack to more than \d+\); refused/,
    );
    // Stopped as soon as the ratio passed 200 (a 64 KiB gunzip chunk at most past it), not after 200 MB.
    const seen = Number(/more than (\d+)\)/.exec(err.message)?.[1]);
    expect(seen).toBeGreaterThan(200 * bomb.length);
    expect(seen).toBeLessThanOrEqual(200 * bomb.length + 64 * 1024);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
  });

  it('stops a gzip bomb on maxTotalBytes', async () => {
    const bomb = await makeZeroBomb(20 * 1024 * 1024);
    const err = await refusal(bomb, { maxTotalBytes: 1024 * 1024, maxRatio: 1e9 });
    expect(err.message).toBe('demo.tgz: unpacks to more than 1048576 bytes');
  });

  it('refuses a truncated archive', async () => {
    const bytes = await makePackageTarball('demo', '1.0.0', { 'a.js': 'y'.repeat(5000) });
    const err = await refusal(bytes.subarray(0, Math.floor(bytes.length / 2)));
    expect(err.message).toMatch(/^demo\.tgz: corrupt or truncated archive/);
  });

  it('refuses bytes that are not gzip, and gzip that is not tar', async () => {
    const a = await refusal(Buffer.from('not a tarball at all'));
    expect(a.message).toMatch(/^demo\.tgz: corrupt or truncated archive \(incorrect header check\)/);
    const { gzipSync } = await import('node:zlib');
    const b = await refusal(gzipSync(Buffer.alloc(1024, 7)));
    expect(b.message).toMatch(/^demo\.tgz: corrupt or truncated archive/);
  });

  it('refuses a missing or invalid package.json', async () => {
    const none = await refusal(await makeTarball([{ path: 'package/index.js', content: 'x' }]));
    expect(none.message).toBe('demo.tgz: package has no package.json at its top');
    const bad = await refusal(await makeTarball([{ path: 'package/package.json', content: '{nope' }]));
    expect(bad.message).toMatch(/^demo\.tgz: package\.json is not valid JSON/);
    const noVersion = await refusal(
      await makeTarball([{ path: 'package/package.json', content: '{"name":"x"}' }]),
    );
    expect(noVersion.message).toBe('demo.tgz: package.json has no "version" string');
    const nested = await refusal(
      await makeTarball([{ path: 'package/sub/package.json', content: PKG_JSON }]),
    );
    expect(nested.message).toBe('demo.tgz: package has no package.json at its top');
  });

  it('notes duplicates and several top directories', async () => {
    const bytes = await makeTarball([
      { path: 'package/package.json', content: PKG_JSON },
      { path: 'package/a.js', content: 'one' },
      { path: 'other/a.js', content: 'two' },
    ]);
    const pkg = await readTarball(bytes, { location: 'demo.tgz' });
    expect(Buffer.from(pkg.files[0]!.read()).toString()).toBe('two');
    expect(pkg.notes).toEqual([
      'duplicate entry a.js: the last copy was kept',
      'archive has several top directories (other, package); all were stripped',
    ]);
  });
});

describe('readTarball on damaged input', () => {
  it('always settles with contents or an ArchiveError, never another error or a hang', async () => {
    const { gunzipSync, gzipSync } = await import('node:zlib');
    const good = await makePackageTarball('demo', '1.0.0', { 'a.js': 'a'.repeat(3000), 'b/c.js': 'c' });
    const tarBytes = gunzipSync(good);
    const inputs: Buffer[] = [];
    for (let cut = 0; cut < good.length; cut += 7) inputs.push(good.subarray(0, cut));
    for (let at = 0; at < tarBytes.length; at += 97) {
      const damaged = Buffer.from(tarBytes);
      damaged[at] = damaged[at]! ^ 0xff;
      inputs.push(gzipSync(damaged));
      inputs.push(gzipSync(tarBytes.subarray(0, at)));
    }
    let refused = 0;
    for (const input of inputs) {
      const outcome = await readTarball(input, { location: 'x.tgz' }).then(
        () => 'ok',
        (e: unknown) => e,
      );
      if (outcome !== 'ok') {
        expect(outcome).toBeInstanceOf(ArchiveError);
        refused += 1;
      }
    }
    expect(refused).toBeGreaterThan(inputs.length / 2);
  });
});
