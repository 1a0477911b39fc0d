/**
 * Broker benchmark: token issuances per second over HTTP (POST /oauth/token, client_credentials with a client
 * secret) with N concurrent clients, p50/p99 latency, next to a minimal Fastify endpoint and the signing floor
 * (an endpoint that only signs a token) measured the same way in the same run; and offline access-token
 * verifications per second.
 *
 * Each server runs in its own child process (`--serve keyward|minimal|sign-only`), so the load generator and the
 * server each have a core. Usage: `npm run bench:broker -- [--seconds 10] [--concurrency 64] [--warmup 2]`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { Pool } from 'undici';
import { loadConfig } from '../src/app/app-config.js';
import { openApp } from '../src/app/app.js';
import { generateSigningKey } from '../src/broker/broker-crypto-keys.js';
import { createAccessTokenKeySet, mintAccessToken, verifyAccessToken } from '../src/broker/broker-tokens.js';
import { createTokenSigner } from '../src/broker/token-signer.js';

const RESOURCE = 'https://api.bench.example';
const AGENT_TYPE = 'bench-agent';

/**
 * What a child serves: Keyward; the minimal endpoint (a constant JSON answer); or the signing floor, an endpoint
 * that only parses the form and signs an Ed25519 JWT (no client authentication, policy, log or store), which
 * shows what the signature alone leaves of the minimal endpoint's throughput.
 */
type ServeMode = 'keyward' | 'minimal' | 'sign-only';
const SERVE_MODES: readonly ServeMode[] = ['minimal', 'sign-only', 'keyward'];

interface Args {
  seconds: number;
  warmup: number;
  concurrency: number;
  serve: ServeMode | null;
  dataDir: string | null;
  /** Write a V8 CPU profile of the Keyward server child into this directory. */
  profile: string | null;
  /** broker.signingThreads for the Keyward server (default: the installation default). */
  signingThreads: number | null;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    seconds: 10,
    warmup: 2,
    concurrency: 64,
    serve: null,
    dataDir: null,
    profile: null,
    signingThreads: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const num = (name: string, v: string, min: number): number => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min} (got "${v}")`);
      return n;
    };
    if (a === '--seconds') args.seconds = num(a, next(), 1);
    else if (a === '--warmup') args.warmup = num(a, next(), 0);
    else if (a === '--concurrency') args.concurrency = Math.trunc(num(a, next(), 1));
    else if (a === '--serve') {
      const v = next();
      const mode = SERVE_MODES.find((m) => m === v);
      if (mode === undefined) throw new Error(`--serve takes ${SERVE_MODES.join(', ')}`);
      args.serve = mode;
    } else if (a === '--data-dir') args.dataDir = next();
    else if (a === '--profile') args.profile = next();
    else if (a === '--signing-threads') args.signingThreads = Math.trunc(num(a, next(), 0));
    else
      throw new Error(
        `unknown option ${a} (options: --seconds, --warmup, --concurrency, --profile <dir>, --signing-threads <n>)`,
      );
  }
  return args;
}

const formBody = `grant_type=client_credentials&scope=read&resource=${encodeURIComponent(RESOURCE)}`;

/** Child mode: serve Keyward, the minimal endpoint or the signing floor on a free port and print its URL. */
async function serve(args: Args): Promise<void> {
  if (args.serve === 'sign-only') {
    // Keyward's own minting (claims, JOSE header, Ed25519 on one signing thread, as the broker signs by default on
    // a machine with more than one CPU) and nothing else.
    const key = await generateSigningKey();
    const signer = createTokenSigner({ threads: args.signingThreads ?? 1 });
    const app = Fastify({ logger: false });
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
      done(null, body),
    );
    app.post('/oauth/token', async (req, reply) => {
      const form = new URLSearchParams(req.body as string);
      const scope = form.get('scope') ?? '';
      const minted = await mintAccessToken({
        key,
        issuer: 'http://127.0.0.1:7399',
        subject: 'agt_bench',
        audience: form.get('resource') ?? RESOURCE,
        scope: scope.split(' '),
        ttlSeconds: 300,
        clientId: 'kwc_bench',
        signer,
      });
      return reply
        .header('cache-control', 'no-store')
        .header('pragma', 'no-cache')
        .send({ access_token: minted.token, token_type: 'Bearer', expires_in: 300, scope });
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    process.stdout.write(JSON.stringify({ url }) + '\n');
    return;
  }
  if (args.serve === 'minimal') {
    const app = Fastify({ logger: false });
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
      done(null, body),
    );
    app.post('/oauth/token', async (_req, reply) =>
      reply
        .header('cache-control', 'no-store')
        .send({ access_token: 'x', token_type: 'Bearer', expires_in: 300 }),
    );
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    process.stdout.write(JSON.stringify({ url }) + '\n');
    return;
  }
  const { startServer } = await import('../src/server/index.js');
  const app = await openApp(benchConfig(args.dataDir!, args.signingThreads), { startBroker: true });
  const running = await startServer(app, { host: '127.0.0.1', port: 0, logger: false });
  // Exit on SIGTERM instead of dying of it, so a `--cpu-prof` child writes its profile.
  process.once('SIGTERM', () => process.exit(0));
  process.stdout.write(JSON.stringify({ url: running.url }) + '\n');
}

function benchConfig(dataDir: string, signingThreads: number | null = null) {
  return loadConfig({
    env: {},
    flags: {
      dataDir,
      masterKey: 'ab'.repeat(32),
      broker: {
        issuer: 'http://127.0.0.1:7399',
        ...(signingThreads === null ? {} : { signingThreads }),
      },
    },
  });
}

/** Starts a child server and resolves with its URL and a stop function. */
function startChild(
  mode: ServeMode,
  dataDir: string,
  args: Args,
): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const script = fileURLToPath(import.meta.url);
  // Both servers run with the young generation `npm start` gives Keyward's server (docs/broker.md, Operations).
  const nodeArgs = [
    '--max-semi-space-size=64',
    ...(args.profile !== null && mode === 'keyward' ? ['--cpu-prof', '--cpu-prof-dir', args.profile] : []),
  ];
  const threads = args.signingThreads === null ? [] : ['--signing-threads', String(args.signingThreads)];
  const child = spawn(
    process.execPath,
    [...nodeArgs, script, '--serve', mode, '--data-dir', dataDir, ...threads],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n')[0];
      if (buf.includes('\n') && line) {
        try {
          const { url } = JSON.parse(line) as { url: string };
          resolve({
            url,
            pid: child.pid!,
            stop: () =>
              new Promise<void>((done) => {
                child.once('exit', () => done());
                child.kill('SIGTERM');
              }),
          });
        } catch (err) {
          reject(err as Error);
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`${mode} server exited with code ${code}`)));
  });
}

interface LoadResult {
  requests: number;
  errors: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** CPU time (µs, all threads) the server process spent per measured request; null where /proc is missing. */
  serverCpuMicros: number | null;
  /** CPU time (µs) the load generator (this process) spent per measured request. */
  clientCpuMicros: number;
}

/** CPU time (µs, user + system, all threads) a process has used so far, from /proc; null when unreadable. */
function processCpuMicros(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime (fields 14 and 15 of proc(5)) in clock ticks, 100 per second on Linux.
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return null;
  }
}

/** Drives POST /oauth/token with `concurrency` clients for the warm-up and then the measured seconds. */
async function load(url: string, authorization: string, args: Args, serverPid: number): Promise<LoadResult> {
  const pool = new Pool(url, { connections: args.concurrency, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  const warmEnd = performance.now() + args.warmup * 1000;
  const end = warmEnd + args.seconds * 1000;
  let cpuAtStart: number | null = null;
  let clientCpuAtStart = process.cpuUsage();
  const startTimer = setTimeout(() => {
    cpuAtStart = processCpuMicros(serverPid);
    clientCpuAtStart = process.cpuUsage();
  }, args.warmup * 1000);
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const res = await pool.request({
        method: 'POST',
        path: '/oauth/token',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
        body: formBody,
      });
      const text = await res.body.text();
      const t1 = performance.now();
      if (!measuring && t1 >= warmEnd) measuring = true;
      if (t0 < warmEnd) continue;
      if (res.statusCode !== 200 || !text.includes('access_token')) errors++;
      latencies.push(t1 - t0);
    }
  };
  await Promise.all(Array.from({ length: args.concurrency }, worker));
  // The last requests' answers arrive right after the measured time, so this reading closes it.
  const cpuAtEnd = processCpuMicros(serverPid);
  const clientCpu = process.cpuUsage(clientCpuAtStart);
  clearTimeout(startTimer);
  await pool.close();
  latencies.sort((a, b) => a - b);
  const q = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return {
    requests: latencies.length,
    errors,
    perSecond: latencies.length / args.seconds,
    p50: q(0.5),
    p99: q(0.99),
    serverCpuMicros:
      cpuAtStart === null || cpuAtEnd === null || latencies.length === 0
        ? null
        : (cpuAtEnd - cpuAtStart) / latencies.length,
    clientCpuMicros: latencies.length === 0 ? NaN : (clientCpu.user + clientCpu.system) / latencies.length,
  };
}

/**
 * The token endpoint without HTTP: `concurrency` callers of `broker.token()` in this process for `seconds`,
 * with the CPU time (all threads) per issuance, so the HTTP layer's share of the figure above is visible.
 */
async function inProcessIssuances(
  dataDir: string,
  basicAuth: { clientId: string; clientSecret: string },
  args: Args,
): Promise<{ perSecond: number; cpuMicrosPerIssuance: number; errors: number }> {
  const app = await openApp(benchConfig(dataDir, args.signingThreads), { startBroker: true });
  try {
    const req = {
      params: { grant_type: 'client_credentials', scope: 'read', resource: RESOURCE },
      basicAuth,
      method: 'POST',
      url: 'http://127.0.0.1:7399/oauth/token',
      sourceIp: '127.0.0.1',
    };
    let errors = 0;
    const run = async (seconds: number): Promise<number> => {
      let n = 0;
      const end = performance.now() + seconds * 1000;
      const worker = async (): Promise<void> => {
        while (performance.now() < end) {
          if ((await app.broker.token(req)).status !== 200) errors++;
          n++;
        }
      };
      await Promise.all(Array.from({ length: args.concurrency }, worker));
      return n;
    };
    await run(Math.min(args.warmup, 2));
    errors = 0;
    const cpu = process.cpuUsage();
    const n = await run(Math.min(args.seconds, 5));
    const used = process.cpuUsage(cpu);
    return {
      perSecond: n / Math.min(args.seconds, 5),
      cpuMicrosPerIssuance: (used.user + used.system) / n,
      errors,
    };
  } finally {
    await app.close();
  }
}

/** Offline verification of one token, repeated for `seconds`. */
async function offlineVerifications(seconds: number): Promise<{ perSecond: number; ok: boolean }> {
  const key = await generateSigningKey();
  const minted = await mintAccessToken({
    key,
    issuer: 'http://127.0.0.1:7399',
    subject: 'agt_bench',
    audience: RESOURCE,
    scope: ['read'],
    ttlSeconds: 3600,
    clientId: 'kwc_bench',
  });
  const keys = createAccessTokenKeySet({ keys: [key.publicJwk] });
  let n = 0;
  let ok = true;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) {
      const r = await verifyAccessToken(minted.token, {
        jwks: keys,
        issuer: 'http://127.0.0.1:7399',
        audience: RESOURCE,
      });
      ok &&= r.ok;
    }
    n += 100;
  }
  return { perSecond: n / seconds, ok };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.serve) return serve(args);

  const dataDir = mkdtempSync(join(tmpdir(), 'keyward-bench-broker-'));
  try {
    // Set up an agent type and one agent with a client secret, then close: the child serves this store.
    const setup = await openApp(benchConfig(dataDir));
    await setup.broker.applyAgentType(
      {
        value: {
          agentType: AGENT_TYPE,
          owner: 'bench@example.com',
          tokens: { maxTtl: '15m', defaultTtl: '5m' },
          allow: [{ resource: RESOURCE, scopes: ['read', 'write'] }],
        },
        source: 'bench',
      },
      'bench',
    );
    const agent = await setup.broker.registerAgent(
      AGENT_TYPE,
      { name: 'bench-1', withSecret: true },
      'bench',
    );
    await setup.close();
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(agent.clientId)}:${encodeURIComponent(agent.clientSecret!)}`).toString('base64')}`;

    const results: Record<string, LoadResult> = {};
    for (const mode of SERVE_MODES) {
      const child = await startChild(mode, dataDir, args);
      try {
        results[mode] = await load(child.url, basic, args, child.pid);
      } finally {
        await child.stop();
      }
    }
    const inProcess = await inProcessIssuances(
      dataDir,
      { clientId: agent.clientId, clientSecret: agent.clientSecret! },
      args,
    );
    const offline = await offlineVerifications(3);
    const k = results.keyward!;
    const m = results.minimal!;
    const f = results['sign-only']!;
    const ratio = k.perSecond / m.perSecond;
    const fmt = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 1 });
    const cpu = (r: LoadResult): string => (r.serverCpuMicros === null ? 'n/a' : fmt(r.serverCpuMicros));
    process.stdout.write(
      `Keyward broker benchmark: ${args.concurrency} concurrent clients, ${args.seconds} s measured after ${args.warmup} s warm-up (node ${process.version})\n` +
        `endpoint                 req/s     p50 ms  p99 ms  errors  server µs CPU/req  client µs CPU/req\n` +
        `minimal Fastify          ${fmt(m.perSecond).padEnd(9)} ${fmt(m.p50).padEnd(7)} ${fmt(m.p99).padEnd(7)} ${String(m.errors).padEnd(7)} ${cpu(m).padEnd(18)} ${fmt(m.clientCpuMicros)}\n` +
        `signing floor            ${fmt(f.perSecond).padEnd(9)} ${fmt(f.p50).padEnd(7)} ${fmt(f.p99).padEnd(7)} ${String(f.errors).padEnd(7)} ${cpu(f).padEnd(18)} ${fmt(f.clientCpuMicros)}\n` +
        `keyward /oauth/token     ${fmt(k.perSecond).padEnd(9)} ${fmt(k.p50).padEnd(7)} ${fmt(k.p99).padEnd(7)} ${String(k.errors).padEnd(7)} ${cpu(k).padEnd(18)} ${fmt(k.clientCpuMicros)}\n` +
        `issuance throughput: ${(ratio * 100).toFixed(0)}% of the minimal endpoint (target ≥ 40%); p99 ${fmt(k.p99)} ms (target < 25 ms)\n` +
        `signing floor (form, claims, one Ed25519 signature, nothing else): ${((f.perSecond / m.perSecond) * 100).toFixed(0)}% of the minimal endpoint; keyward ${((k.perSecond / f.perSecond) * 100).toFixed(0)}% of the floor\n` +
        `in process, no HTTP: ${fmt(inProcess.perSecond)} issuances/s, ${fmt(inProcess.cpuMicrosPerIssuance)} µs CPU each (all threads), ${inProcess.errors} errors\n` +
        `offline verifications: ${fmt(offline.perSecond)}/s (${offline.ok ? 'all valid' : 'SOME FAILED'})\n` +
        JSON.stringify({
          bench: 'broker',
          concurrency: args.concurrency,
          seconds: args.seconds,
          minimal: m,
          signOnly: f,
          keyward: k,
          ratio,
          inProcess,
          offline,
        }) +
        '\n',
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/broker: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
