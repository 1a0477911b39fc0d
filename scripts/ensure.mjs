#!/usr/bin/env node
// Install/build guard used by `npm start` and `npm test`: installs dependencies when node_modules is
// missing or no longer matches package-lock.json, and rebuilds dist/ when any source changed.
// It uses only Node's standard library, because it runs before dependencies exist.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
const say = (msg) => {
  if (!quiet) process.stderr.write(`keyward: ${msg}\n`);
};
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}

function run(cmd, args) {
  try {
    execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (err) {
    process.stderr.write(`keyward: \`${cmd} ${args.join(' ')}\` failed (exit ${err.status ?? '?'})\n`);
    process.exit(typeof err.status === 'number' && err.status !== 0 ? err.status : 1);
  }
}

// 1. Dependencies: the stamp records the lockfile hash that node_modules was installed from.
const lock = join(root, 'package-lock.json');
const depStamp = join(root, 'node_modules', '.keyward-lock-sha256');
const lockHash = sha256(readFileSync(lock) + readFileSync(join(root, 'package.json')));
const installed = existsSync(depStamp) ? readFileSync(depStamp, 'utf8').trim() : '';
if (installed !== lockHash) {
  say(
    existsSync(join(root, 'node_modules')) ? 'dependencies changed, installing…' : 'installing dependencies…',
  );
  run(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error']);
  writeFileSync(depStamp, lockHash + '\n');
}

// 2. Build: the stamp records a hash over every source that tsc compiles.
function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (/\.(ts|tsx|json|sql|yml|yaml|css|html)$/.test(name)) out.push(p);
  }
  return out;
}
const sources = [
  ...walk(join(root, 'src'), []),
  ...walk(join(root, 'bench'), []),
  ...walk(join(root, 'web'), []),
  join(root, 'tsconfig.json'),
  join(root, 'tsconfig.build.json'),
  lock,
];
const h = createHash('sha256');
for (const f of sources) h.update(f.slice(root.length)).update('\0').update(readFileSync(f)).update('\0');
const srcHash = h.digest('hex');
const buildStamp = join(root, 'dist', '.build-stamp');
const built = existsSync(buildStamp) ? readFileSync(buildStamp, 'utf8').trim() : '';
if (
  built !== srcHash ||
  !existsSync(join(root, 'dist', 'src', 'cli', 'main.js')) ||
  !existsSync(join(root, 'dist', 'web', 'index.html'))
) {
  say('building…');
  run(npm, ['run', '--silent', 'build']);
  writeFileSync(buildStamp, srcHash + '\n');
}
