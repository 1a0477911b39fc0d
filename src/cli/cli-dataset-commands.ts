/**
 * `keyward dataset sign | verify | scan | public-key`: signed manifests for training data, verification before
 * ingestion, and a credential and PII scan with an optional redacted copy. Exit 1 when a manifest does not
 * verify or a scan finds credentials; 2 for bad usage or input.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { Command } from 'commander';
import {
  buildManifest,
  envelopeText,
  keyIdOf,
  loadSigningKey,
  managedDatasetKey,
  publicKeyPem,
  recordDatasetRun,
  redactDataset,
  scanDataset,
  signManifest,
  toStatement,
  verifyDataset,
  verificationRun,
  type DatasetRun,
  type DatasetScanReport,
  type DatasetVerification,
} from '../datasets/index.js';
import type { App } from '../app/app.js';
import type { CliAction, CliContext } from './cli-context.js';
import { EXIT } from './cli-errors.js';
import { parseIntOption, readInputFile, usageError } from './cli-options.js';

/** A one-line progress bar on stderr when stdout is a terminal; silent when piped. */
function progress(
  ctx: CliContext,
  label: string,
): { update(done: number, total: number): void; end(): void } {
  if (!ctx.render.tty) return { update: () => undefined, end: () => undefined };
  let last = 0;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100;
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      ctx.err(
        `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}% ${(done / 1e6).toFixed(0)}/${(total / 1e6).toFixed(0)} MB`,
      );
    },
    end() {
      ctx.err('\n');
    },
  };
}

function datasetDir(dir: string): string {
  const abs = resolve(dir);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    usageError(`${dir} does not exist`, 'dir');
  }
  if (!isDir) usageError(`${dir} is not a directory`, 'dir');
  return abs;
}

function actorOf(ctx: CliContext): string {
  return ctx.io.env.USER ?? 'cli';
}

async function record(ctx: CliContext, app: App, run: Omit<DatasetRun, 'actor' | 'time'>): Promise<void> {
  await recordDatasetRun(
    { store: app.store, importBatch: (b, a, s) => app.inventory.importBatch(b, a, s) },
    { ...run, actor: actorOf(ctx), time: app.clock.now().toISOString() },
  );
}

async function runSign(ctx: CliContext, args: string[], o: Record<string, unknown>): Promise<number> {
  const dir = datasetDir(args[0]!);
  if (typeof o.supplier !== 'string' || o.supplier.trim() === '')
    usageError('--supplier <name> is required: who supplied the dataset', '--supplier');
  const name = typeof o.name === 'string' ? o.name : basename(dir);
  const bar = progress(ctx, 'hashing');
  const manifest = await buildManifest(dir, {
    name,
    supplier: o.supplier,
    ...(typeof o.license === 'string' ? { license: o.license } : {}),
    ...(typeof o.collectedAt === 'string' ? { collectedAt: o.collectedAt } : {}),
    ...(typeof o.workers === 'number' ? { workers: o.workers } : {}),
    onProgress: (d, t) => bar.update(d, t),
  });
  bar.end();
  const sign = async (key: KeyObject): Promise<string> => {
    const text = envelopeText(signManifest(toStatement(manifest), key));
    const out = typeof o.output === 'string' ? o.output : `${name}.manifest.json`;
    mkdirSync(dirname(resolve(out)), { recursive: true });
    writeFileSync(out, text);
    ctx.err(
      `keyward: signed ${manifest.files.length} file(s), ${manifest.totalBytes} bytes, root sha256:${manifest.rootDigest}\n` +
        `keyward: wrote ${out} (signer ${keyIdOf(key)})\n`,
    );
    return keyIdOf(key);
  };
  const recordSigning = (app: App, signer: string): Promise<void> =>
    record(ctx, app, {
      action: 'signed',
      name,
      supplier: manifest.supplier,
      rootDigest: manifest.rootDigest,
      result: 'ok',
      details: { files: manifest.files.length, bytes: manifest.totalBytes, signer },
    });
  if (typeof o.key === 'string') {
    const signer = await sign(await loadSigningKey(o.key));
    if (o.record === true) await ctx.withApp((app) => recordSigning(app, signer));
    return EXIT.ok;
  }
  // No --key: the key Keyward manages (sealed in its store); signing with it is always recorded.
  await ctx.withApp(async (app) =>
    recordSigning(app, await sign(await managedDatasetKey(app.store, app.signingKeyBox))),
  );
  return EXIT.ok;
}

function readTrust(files: string[]): string[] {
  return files.map((f) => readInputFile(f, '--trust', 'trusted key'));
}

function verificationText(v: DatasetVerification): string {
  const lines: string[] = [];
  for (const p of v.problems) lines.push(`PROBLEM   ${p.path}: ${p.message}`);
  for (const f of v.added) lines.push(`ADDED     ${f}`);
  for (const f of v.missing) lines.push(`MISSING   ${f}`);
  for (const f of v.modified) lines.push(`MODIFIED  ${f}`);
  for (const r of v.renamed) lines.push(`RENAMED   ${r.from} -> ${r.to}`);
  const files = v.statement?.predicate.files.length ?? 0;
  lines.push(
    v.ok
      ? `verified: ${files} file(s) match the manifest signed by ${v.signer}`
      : `NOT verified: ${v.problems.length} problem(s), ${v.added.length} added, ${v.missing.length} missing, ${v.modified.length} modified, ${v.renamed.length} renamed`,
  );
  return `${lines.join('\n')}\n`;
}

async function runVerify(ctx: CliContext, args: string[], o: Record<string, unknown>): Promise<number> {
  const dir = datasetDir(args[0]!);
  if (typeof o.manifest !== 'string') usageError('--manifest <file> is required', '--manifest');
  const envelope = readInputFile(o.manifest, '--manifest', 'manifest');
  const trustFiles = (o.trust as string[] | undefined) ?? [];
  const verify = async (trust: string[]): Promise<DatasetVerification> =>
    verifyDataset(dir, envelope, {
      trust,
      source: o.manifest as string,
      ...(typeof o.workers === 'number' ? { workers: o.workers } : {}),
    });
  const finish = async (app: App | null, v: DatasetVerification): Promise<number> => {
    if (ctx.globals.json)
      ctx.json({ ...v, statement: undefined, dataset: v.statement?.subject[0]?.name ?? null });
    else ctx.out(verificationText(v));
    if (app) await record(ctx, app, verificationRun(v, basename(dir)));
    return v.ok ? EXIT.ok : EXIT.failed;
  };
  if (trustFiles.length > 0) {
    const v = await verify(readTrust(trustFiles));
    return o.record === true ? ctx.withApp((app) => finish(app, v)) : finish(null, v);
  }
  // No --trust: trust the key Keyward manages; the verification is recorded.
  return ctx.withApp(async (app) => {
    const key = await managedDatasetKey(app.store, app.signingKeyBox);
    return finish(app, await verify([publicKeyPem(key)]));
  });
}

function scanText(r: DatasetScanReport): string {
  const lines: string[] = [];
  for (const f of r.files) {
    if (f.findings.length === 0 && f.credentialFields.length === 0 && f.malformedRows.count === 0) continue;
    lines.push(`${f.path} (${f.format}, ${f.records} record(s))`);
    for (const t of f.findings) {
      const s = t.samples[0];
      const where = s
        ? [
            s.location.line && `line ${s.location.line}`,
            s.location.row !== undefined && `row ${s.location.row}`,
            s.location.column && `column ${s.location.column}`,
            s.location.keyPath && `key ${s.location.keyPath}`,
          ]
            .filter(Boolean)
            .join(', ')
        : '';
      lines.push(
        `  ${t.kind.padEnd(6)} ${t.type.padEnd(32)} ${String(t.count).padStart(7)}  e.g. ${s?.sample ?? ''}${where ? ` (${where})` : ''}`,
      );
    }
    for (const c of f.credentialFields)
      lines.push(
        `  field  ${c.field.padEnd(32)} ${String(c.nonEmptyValues).padStart(7)}  credential-bearing field with values`,
      );
    if (f.malformedRows.count > 0)
      lines.push(
        `  ${f.malformedRows.count} malformed row(s), first at line ${f.malformedRows.first[0]?.line ?? '?'}`,
      );
  }
  for (const s of r.skipped) lines.push(`skipped ${s.path}: ${s.reason}`);
  for (const e of r.errors) lines.push(`ERROR   ${e.path}: ${e.message}`);
  const byType = Object.entries(r.totals.byType)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  lines.push(
    `${r.totals.files} file(s), ${(r.totals.bytes / 1e6).toFixed(1)} MB: ${r.totals.findings} finding(s)${byType ? ` (${byType})` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}

async function runScan(ctx: CliContext, args: string[], o: Record<string, unknown>): Promise<number> {
  const dir = datasetDir(args[0]!);
  const bar = progress(ctx, 'scanning');
  const report = await scanDataset(dir, {
    ...(typeof o.workers === 'number' ? { workers: o.workers } : {}),
    onProgress: (d, t) => bar.update(d, t),
  });
  bar.end();
  if (ctx.globals.json) ctx.json(report);
  else ctx.out(scanText(report));
  // A redacted copy missing a file (it could not be read or written) fails the run.
  let redactErrors = 0;
  if (typeof o.redactTo === 'string') {
    const result = await redactDataset(dir, resolve(o.redactTo), report);
    const notRedacted = result.files.filter((f) => f.action === 'not-redacted');
    ctx.err(
      `keyward: wrote a redacted copy to ${o.redactTo} (${result.files.filter((f) => f.action === 'redacted').length} file(s) redacted)\n`,
    );
    for (const f of notRedacted) ctx.err(`keyward: NOT redacted ${f.path}: ${f.note ?? ''}\n`);
    for (const f of result.files)
      if (f.action === 'redacted' && f.note) ctx.err(`keyward: redacted ${f.path}: ${f.note}\n`);
    for (const e of result.errors) ctx.err(`keyward: NOT written ${e.path}: ${e.message}\n`);
    redactErrors = result.errors.length;
  }
  const secrets = Object.entries(report.totals.byType)
    .filter(([k]) => k.startsWith('secret:'))
    .reduce((n, [, c]) => n + c, 0);
  // Credentials: values a secret rule matched, and values under credential-bearing fields (password, token, …).
  const credentials = secrets + report.totals.credentialFields;
  const failed =
    credentials > 0 ||
    report.errors.length > 0 ||
    redactErrors > 0 ||
    (o.failOnPii === true && report.totals.findings > 0);
  if (o.record === true)
    await ctx.withApp((app) =>
      record(ctx, app, {
        action: 'scanned',
        name: typeof o.name === 'string' ? o.name : basename(dir),
        supplier: null,
        rootDigest: null,
        result: failed ? 'failed' : 'ok',
        details: {
          files: report.totals.files,
          findings: report.totals.findings,
          credentials,
          byType: report.totals.byType,
        },
      }),
    );
  return failed ? EXIT.failed : EXIT.ok;
}

/** Registers `dataset sign | verify | scan | public-key`. */
export function registerDatasetCommands(program: Command, action: CliAction): void {
  const ds = program
    .command('dataset')
    .description('training-data integrity: signed manifests, verification, credential and PII scans');
  ds.command('sign')
    .description(
      'hash every file and write a signed manifest (in-toto statement in a DSSE envelope, Ed25519)',
    )
    .argument('<dir>', 'the dataset directory')
    .option('--supplier <name>', 'who supplied the dataset (required)')
    .option('--name <name>', 'the dataset name (default: the directory name)')
    .option('--license <id>', 'the licence (SPDX id or text)')
    .option('--collected-at <date>', 'when the data was collected (ISO 8601)')
    .option('--key <pem>', 'sign with this Ed25519 PKCS#8 key instead of the key Keyward manages')
    .option('--output <file>', 'where to write the manifest (default <name>.manifest.json)')
    .option('--workers <n>', 'hashing worker threads (default 0: the main thread)', parseIntOption(0, 64))
    .option('--record', 'with --key: record the signing in the event log and the inventory')
    .action(action((ctx, args, opts) => runSign(ctx, args, opts)));
  ds.command('verify')
    .description('check the signature and every file against a manifest; exit 1 on any difference')
    .argument('<dir>', 'the dataset directory')
    .option('--manifest <file>', 'the signed manifest (required)')
    .option('--trust <pem...>', 'trusted public keys (default: the key Keyward manages)')
    .option('--workers <n>', 'hashing worker threads', parseIntOption(0, 64))
    .option('--record', 'with --trust: record the verification in the event log and the inventory')
    .action(action((ctx, args, opts) => runVerify(ctx, args, opts)));
  ds.command('scan')
    .description(
      'find credentials and personal data in JSONL, CSV, TSV, Parquet and text; exit 1 on credentials',
    )
    .argument('<dir>', 'the dataset directory')
    .option('--redact-to <dir>', 'write a redacted copy with the same layout')
    .option('--fail-on-pii', 'exit 1 on personal data too, not only credentials')
    .option('--name <name>', 'the dataset name for --record (default: the directory name)')
    .option('--workers <n>', 'worker threads', parseIntOption(0, 64))
    .option('--record', 'record the scan in the event log and the inventory')
    .action(action((ctx, args, opts) => runScan(ctx, args, opts)));
  ds.command('public-key')
    .description("print the public key of Keyward's dataset signing key (give it to verifiers as --trust)")
    .action(
      action(async (ctx) =>
        ctx.withApp(async (app) => {
          const key = await managedDatasetKey(app.store, app.signingKeyBox);
          ctx.out(publicKeyPem(key));
          ctx.err(`keyward: key id ${keyIdOf(key)}\n`);
          return EXIT.ok;
        }),
      ),
    );
}
