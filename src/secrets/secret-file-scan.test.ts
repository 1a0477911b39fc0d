import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_SECRET_RULES } from './rules/index.js';
import { createCaseGen } from './secret-case-gen.js';
import { scanFile, STREAM_THRESHOLD_BYTES, wantsStructure } from './secret-file-scan.js';
import { hmacFingerprint } from './secret-fingerprint.js';
import { createSecretScanner } from './secret-scanner.js';

const dir = mkdtempSync(join(tmpdir(), 'kw-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const scanner = createSecretScanner({
  rules: BUILTIN_SECRET_RULES,
  fingerprint: hmacFingerprint(Buffer.alloc(32)),
});
const g = createCaseGen(12);
const ghp = g.join('gh', 'p_');

describe('scanFile', () => {
  it('scans a file over the streaming threshold in pieces, with the right line numbers', async () => {
    const line = '{"role":"assistant","content":"nothing secret in this line of the transcript"}\n';
    const count = Math.ceil((STREAM_THRESHOLD_BYTES + 1024 * 1024) / line.length);
    const token = g.githubToken(ghp);
    const body = [line.repeat(count - 10), `{"content":"${token}"}\n`, line.repeat(9)].join('');
    const file = join(dir, 'chat.jsonl');
    writeFileSync(file, body);
    const r = await scanFile(scanner, { path: 'chat.jsonl', absPath: file, size: body.length });
    expect(r.kind).toBe('scanned');
    if (r.kind !== 'scanned') return;
    expect(r.bytes).toBeGreaterThan(STREAM_THRESHOLD_BYTES);
    expect(r.findings.map((f) => [f.ruleId, f.line, f.column])).toEqual([
      ['github-pat-classic', count - 9, 13],
    ]);
  });

  it('gives agent and MCP configs structure-aware key paths, not other JSON', async () => {
    const key = `${g.chars(10)}-${g.chars(22)}`;
    const mcp = JSON.stringify({ mcpServers: { s: { command: 'x', args: ['--token', key] } } }, null, 2);
    const file = join(dir, 'mcp.json');
    writeFileSync(file, mcp);
    const r = await scanFile(scanner, { path: 'mcp.json', absPath: file, size: mcp.length });
    expect(r.kind === 'scanned' && r.findings.map((f) => [f.ruleId, f.keyName])).toEqual([
      ['generic-secret-assignment', 'mcpServers.s.args[1]'],
    ]);
    expect(wantsStructure('data.json', 10, Buffer.from('{"rows":[]}'))).toBe(false);
    expect(wantsStructure('.env.local', 10, Buffer.from('A=1'))).toBe(true);
    expect(wantsStructure('config.yaml', 10, Buffer.from('mcp_servers:\n  x: 1'))).toBe(true);
    // Found after another word holding `ervers`, and at the very start of the file.
    expect(wantsStructure('a.json', 40, Buffer.from('{"observers":1,"mcpServers":{}}'))).toBe(true);
    expect(wantsStructure('a.json', 40, Buffer.from('context_servers: {}'))).toBe(true);
    expect(wantsStructure('a.json', 40, Buffer.from('{"observers":1,"servers_list":[]}'))).toBe(false);
  });

  it('checks a file the walk did not stat as the walk would: symlink, special, too large, or its size', async () => {
    const token = g.githubToken(ghp);
    const body = `const t = "${token}";\n`;
    const file = join(dir, 'unstated.js');
    writeFileSync(file, body);
    const link = join(dir, 'unstated-link.js');
    symlinkSync(file, link);
    const at = (p: string, size: number | null, max = Infinity) =>
      scanFile(scanner, { path: 'x.js', absPath: p, size }, undefined, max);
    const r = await at(file, null);
    expect(r.kind === 'scanned' && [r.bytes, r.findings.map((f) => f.line)]).toEqual([body.length, [1]]);
    expect(await at(file, null, body.length - 1)).toEqual({ kind: 'skipped', reason: 'too-large' });
    expect((await at(file, null, body.length)).kind).toBe('scanned');
    expect(await at(link, null)).toEqual({ kind: 'skipped', reason: 'symlink' });
    expect(await at(join(dir, 'missing.js'), null)).toEqual({ kind: 'skipped', reason: 'unreadable' });
    // A stat'ed file is read up to its walked size and reported with it; the walk told symlinks already.
    const cut = await at(file, 10);
    expect(cut.kind === 'scanned' && [cut.bytes, cut.findings.length]).toEqual([10, 0]);
    expect(await at(link, body.length)).toEqual({ kind: 'skipped', reason: 'unreadable' });
    try {
      execFileSync('mkfifo', [join(dir, 'pipe')]);
    } catch {
      return; // no mkfifo on this platform
    }
    expect(await at(join(dir, 'pipe'), null)).toEqual({ kind: 'skipped', reason: 'special' });
    expect(await at(join(dir, 'pipe'), 0)).toEqual({ kind: 'skipped', reason: 'unreadable' });
  });
});
