/** Helpers for the end-to-end tests: run the built `keyward` CLI in child processes against temporary stores. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { inject } from 'vitest';

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built CLI, as `npm start` and the `keyward` bin run it. */
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
/** Fixture files for imports. */
export const FIXTURES = join(ROOT, 'test', 'e2e', 'fixtures');
/** The PostgreSQL server the PostgreSQL end-to-end tests create their databases on. */
export const TEST_DATABASE_URL =
  process.env.KEYWARD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Fails the calling test when the global setup could not build dist/. */
export function requireBuild(): void {
  const error = inject('e2eBuildError');
  if (error) throw new Error(error);
}

/** The environment children run with: ours without any KEYWARD_* variable, so only the test's flags count. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('KEYWARD_') && k !== 'NO_COLOR') env[k] = v;
  return { ...env, ...extra };
}

/** A temporary directory removed by `cleanup()`. */
export function tempDir(prefix = 'kw-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Removes a temporary directory. */
export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** What a finished CLI run printed and returned. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `keyward <args>` to completion. */
export function runKeyward(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number; cwd?: string; stdin?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? ROOT,
      env: childEnv(options.env ?? {}),
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (options.stdin !== undefined) child.stdin!.end(options.stdin);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`keyward ${args.join(' ')} did not finish in time\nstdout: ${stdout}\nstderr: ${stderr}`),
      );
    }, options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs `keyward <args> --json` and parses stdout, failing with stderr when it does not exit 0. */
export async function runJson<T = unknown>(args: string[], env?: Record<string, string>): Promise<T> {
  const r = await runKeyward([...args, '--json'], env ? { env } : {});
  if (r.code !== 0) throw new Error(`keyward ${args.join(' ')} exited ${r.code}\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** A running `keyward serve`. */
export interface ServeProcess {
  url: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Sends a signal and resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `keyward serve <args>` and resolves once it prints the URL it listens on. */
export function startServe(
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<ServeProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', ...args], {
      cwd: ROOT,
      env: childEnv(options.env ?? {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`keyward serve did not print its URL in time\nstdout: ${out}\nstderr: ${err}`));
    }, 20_000);
    let started = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /^keyward listening on (http:\/\/\S+)$/m.exec(out);
      if (m && !started) {
        started = true;
        clearTimeout(timer);
        resolve({
          url: m[1]!.replace(/\/$/, ''),
          child,
          stdout: () => out,
          stderr: () => err,
          stop: async (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    void exited.then((code) => {
      if (!started) {
        clearTimeout(timer);
        reject(new Error(`keyward serve exited ${code} before listening\nstdout: ${out}\nstderr: ${err}`));
      }
    });
  });
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A fresh PostgreSQL database for one test, and how to drop it. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `kw_e2e_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
