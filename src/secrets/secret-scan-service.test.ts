import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCaseGen } from './secret-case-gen.js';
import { createSecretScanService } from './secret-scan-service.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kw-service-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const g = createCaseGen(5);

describe('scanPath', () => {
  it('counts skipped files by reason and scanned bytes exactly, whether or not the walk stats files', async () => {
    const token = g.githubToken(g.join('gh', 'p_'));
    const js = `export const t = "${token}";\n`;
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'a.js'), js);
    writeFileSync(join(dir, 'src', 'ignored.js'), js);
    const gitignore = 'ignored.js\n';
    writeFileSync(join(dir, '.gitignore'), gitignore);
    writeFileSync(join(dir, 'big.txt'), 'x'.repeat(500));
    writeFileSync(join(dir, 'image.bin'), Buffer.from([1, 0, 2, 3]));
    symlinkSync(join(dir, 'src', 'a.js'), join(dir, 'link.js'));
    let fifo = true;
    try {
      execFileSync('mkfifo', [join(dir, 'pipe')]);
    } catch {
      fifo = false; // no mkfifo on this platform
    }
    const service = createSecretScanService({ fingerprintKey: Buffer.alloc(32) });
    // On the calling thread (workers: 0) files are not stat'ed by the walk; `scanFile` checks them.
    const report = await service.scanPath(dir, { maxFileBytes: 100, workers: 0 });
    expect(report.findings.map((f) => [f.origin.path, f.line, f.ruleId])).toEqual([
      ['src/a.js', 1, 'github-pat-classic'],
    ]);
    expect(report.stats).toMatchObject({
      files: 2,
      bytes: js.length + gitignore.length,
      workers: 0,
      skipped: { binary: 1, tooLarge: 1, unreadable: 0, symlink: 1, special: fifo ? 1 : 0 },
    });
    expect(report.errors).toEqual([]);
  });
});
