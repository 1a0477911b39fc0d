/**
 * Verifies a dataset directory against a signed manifest: envelope, signer, statement shape, path safety and root
 * digest first (nothing on disk is read before the manifest is trusted and sane), then the directory itself.
 */
import type { KeyObject } from 'node:crypto';
import { ValidationError, type ErrorDetail } from '../core/errors.js';
import { hashFiles } from './dataset-hash.js';
import { parseEnvelope, verifyEnvelope } from './dsse.js';
import { toTrustedKeys } from './dataset-keys.js';
import { rootDigest } from './manifest.js';
import { compareCodePoints } from './manifest-path.js';
import {
  IN_TOTO_PAYLOAD_TYPE,
  datasetStatementSchema,
  type DatasetStatement,
  type ManifestFile,
} from './manifest-types.js';
import { walkDataset } from './manifest-walk.js';

/** Options of {@link verifyDataset}. */
export interface VerifyDatasetOptions {
  /** Ed25519 public keys (KeyObjects or SPKI PEM texts) whose signatures are accepted. */
  trust: ReadonlyArray<KeyObject | string>;
  /** How errors name the manifest (its file name); default `envelope`. */
  source?: string;
  /** Worker threads for hashing (0 = the calling thread; only used from the compiled build). */
  workers?: number;
  /** The compiled hashing worker (tests); defaults to the one beside the module. */
  workerModule?: URL | null;
}

/** What verification found. `ok` is true only with a trusted signature, no problem and no difference. */
export interface DatasetVerification {
  ok: boolean;
  /** Key id of the trusted key that signed, or null. */
  signer: string | null;
  /** Why the manifest was not accepted or the directory could not be compared. */
  problems: ErrorDetail[];
  /** Files on disk that the manifest does not list (and are not a rename). */
  added: string[];
  /** Files the manifest lists that are not on disk (and are not a rename). */
  missing: string[];
  /** Files at the same path whose size or SHA-256 differ. */
  modified: string[];
  /** A missing file whose exact bytes are now at a new path. */
  renamed: Array<{ from: string; to: string }>;
  /** The statement, once its signature and shape were accepted. */
  statement: DatasetStatement | null;
}

/**
 * Checks `dir` against the DSSE envelope text of a signed dataset manifest.
 * @throws ValidationError when the envelope is not JSON / not a DSSE envelope, or a trust entry is not an Ed25519 key.
 * @example const r = await verifyDataset('data/train', readFileSync('train.dsse.json', 'utf8'), { trust: [pubPem] });
 */
export async function verifyDataset(
  dir: string,
  envelopeText: string,
  opts: VerifyDatasetOptions,
): Promise<DatasetVerification> {
  const envelope = parseEnvelope(envelopeText, opts.source);
  const trusted = toTrustedKeys(opts.trust);
  const result: DatasetVerification = {
    ok: false,
    signer: null,
    problems: [],
    added: [],
    missing: [],
    modified: [],
    renamed: [],
    statement: null,
  };
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    result.problems.push({
      path: 'payloadType',
      message: `is ${JSON.stringify(envelope.payloadType)}, expected ${IN_TOTO_PAYLOAD_TYPE}`,
    });
    return result;
  }
  if (trusted.length === 0) {
    result.problems.push({ path: 'trust', message: 'no trusted key was given: nothing can be accepted' });
    return result;
  }
  const check = verifyEnvelope(envelope, trusted);
  if (!check.signer) {
    result.problems.push(...check.problems);
    return result;
  }
  result.signer = check.signer;
  const statement = readStatement(Buffer.from(envelope.payload, 'base64'), result.problems);
  if (!statement) return result;
  result.statement = statement;

  let onDisk;
  try {
    onDisk = await walkDataset(dir);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    result.problems.push(...(err.details.length > 0 ? err.details : [{ path: dir, message: err.message }]));
    return result;
  }
  await compare(statement.predicate.files, onDisk, opts, result);
  result.ok =
    result.problems.length === 0 &&
    result.added.length + result.missing.length + result.modified.length + result.renamed.length === 0;
  return result;
}

/** Parses and checks the signed statement; pushes problems and returns null when it is not acceptable. */
function readStatement(body: Buffer, problems: ErrorDetail[]): DatasetStatement | null {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    problems.push({ path: 'payload', message: `is not JSON: ${(err as Error).message}` });
    return null;
  }
  const parsed = datasetStatementSchema.safeParse(json);
  if (!parsed.success) {
    for (const i of parsed.error.issues)
      problems.push({ path: ['payload', ...i.path].join('.'), message: i.message });
    return null;
  }
  const s = parsed.data;
  const files = s.predicate.files;
  for (let i = 1; i < files.length; i++) {
    if (compareCodePoints(files[i - 1]!.path, files[i]!.path) >= 0) {
      problems.push({
        path: `payload.predicate.files[${i}].path`,
        message: `${JSON.stringify(files[i]!.path)} is out of order or duplicated (files must be sorted by code point)`,
      });
      return null;
    }
  }
  const root = rootDigest(files);
  if (root !== s.predicate.rootDigest) {
    problems.push({
      path: 'payload.predicate.rootDigest',
      message: `does not match the file list (which hashes to ${root})`,
    });
  }
  if (s.subject[0]!.digest.sha256 !== s.predicate.rootDigest) {
    problems.push({ path: 'payload.subject[0].digest.sha256', message: 'differs from predicate.rootDigest' });
  }
  if (s.predicate.fileCount !== files.length) {
    problems.push({
      path: 'payload.predicate.fileCount',
      message: `is ${s.predicate.fileCount} but ${files.length} files are listed`,
    });
  }
  const total = files.reduce((n, f) => n + f.size, 0);
  if (s.predicate.totalBytes !== total) {
    problems.push({
      path: 'payload.predicate.totalBytes',
      message: `is ${s.predicate.totalBytes} but the files add up to ${total}`,
    });
  }
  return problems.length === 0 ? s : null;
}

async function compare(
  expected: readonly ManifestFile[],
  onDisk: Awaited<ReturnType<typeof walkDataset>>,
  opts: VerifyDatasetOptions,
  result: DatasetVerification,
): Promise<void> {
  const byPath = new Map(expected.map((f) => [f.path, f]));
  // A file whose size already differs is modified without reading it; every other file is hashed.
  const toHash = onDisk.filter((f) => (byPath.get(f.path)?.size ?? f.size) === f.size);
  const sizeChanged = onDisk.filter((f) => (byPath.get(f.path)?.size ?? f.size) !== f.size);
  const digests = await hashFiles(
    toHash.map((f) => f.absPath),
    { workers: opts.workers, sizes: toHash.map((f) => f.size), workerModule: opts.workerModule },
  );
  const seen = new Set<string>();
  const added: ManifestFile[] = [];
  toHash.forEach((f, i) => {
    const d = digests[i]!;
    const want = byPath.get(f.path);
    if (!want) {
      added.push({ path: f.path, size: d.size, sha256: d.sha256 });
      return;
    }
    seen.add(f.path);
    if (want.sha256 !== d.sha256 || want.size !== d.size) result.modified.push(f.path);
  });
  for (const f of sizeChanged) {
    seen.add(f.path);
    result.modified.push(f.path);
  }
  const missing = expected.filter((f) => !seen.has(f.path));
  // A rename: a missing file whose exact digest turns up at an added path (paired one to one, in path order).
  const addedByDigest = new Map<string, ManifestFile[]>();
  for (const a of added) addedByDigest.set(a.sha256, [...(addedByDigest.get(a.sha256) ?? []), a]);
  const renamedTo = new Set<string>();
  for (const m of missing) {
    const candidate = addedByDigest.get(m.sha256)?.find((a) => a.size === m.size && !renamedTo.has(a.path));
    if (candidate) {
      renamedTo.add(candidate.path);
      result.renamed.push({ from: m.path, to: candidate.path });
    } else {
      result.missing.push(m.path);
    }
  }
  result.added = added.filter((a) => !renamedTo.has(a.path)).map((a) => a.path);
  result.modified.sort(compareCodePoints);
}
