/**
 * Builds dist/ once before the end-to-end tests, which run the built CLI as a user would. Runs that only
 * select unit tests (`vitest run src/…`) skip the build. A failed build does not stop the unit tests: the
 * error is handed to the end-to-end tests, which fail with it. `KEYWARD_E2E_SKIP_BUILD=1` uses dist/ as it is.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Empty when dist/ was built, else what went wrong. */
    e2eBuildError: string;
  }
}

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

/** Vitest options whose value is the next argument (not a file filter). */
const VALUE_OPTIONS = new Set([
  '-t',
  '--testNamePattern',
  '--reporter',
  '--project',
  '-c',
  '--config',
  '-r',
  '--root',
  '--dir',
  '--pool',
  '--shard',
  '--outputFile',
  '--environment',
]);

/** True when the command line names test files (vitest matches them as substrings) and no e2e file matches. */
function onlyUnitTestsSelected(argv: string[]): boolean {
  const i = argv.findIndex((a) => a === 'run' || a === 'watch' || a === 'dev');
  const filters: string[] = [];
  for (let k = i + 1; k < argv.length; k++) {
    const a = argv[k]!;
    if (VALUE_OPTIONS.has(a)) k++;
    else if (!a.startsWith('-')) filters.push(a);
  }
  if (filters.length === 0) return false;
  const e2eFiles = readdirSync(here)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join('test', 'e2e', f));
  return !filters.some((f) => e2eFiles.some((file) => file.includes(f.replace(/^\.\//, ''))));
}

/** Runs `npm run build` (tsc, then the post-build step). */
export default function setup(project: TestProject): void {
  if (process.env.KEYWARD_E2E_SKIP_BUILD === '1') {
    // For iterating on the tests alone: use dist/ as it was last built.
    project.provide('e2eBuildError', '');
    return;
  }
  if (onlyUnitTestsSelected(process.argv)) {
    project.provide('e2eBuildError', 'dist/ was not built: no end-to-end test was selected');
    return;
  }
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const res = spawnSync(npm, ['run', '--silent', 'build'], { cwd: root, encoding: 'utf8' });
  if (res.status === 0) {
    project.provide('e2eBuildError', '');
    return;
  }
  const output = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim().split('\n').slice(0, 20).join('\n');
  project.provide('e2eBuildError', `npm run build failed (exit ${res.status ?? res.signal}):\n${output}`);
}
