/**
 * The dataset manifest, the in-toto Statement v1 that carries it and their zod schemas. The layout follows the
 * OpenSSF model-signing format (sigstore/model-transparency): one subject named after the dataset whose sha256 is a
 * root digest over every file, and the per-file digests in the predicate. See docs/datasets.md.
 */
import { z } from 'zod';
import { manifestPathProblem } from './manifest-path.js';

/** in-toto Statement v1 `_type`. */
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** Predicate type of a Keyward dataset manifest. */
export const DATASET_PREDICATE_TYPE = 'https://keyward.dev/dataset-manifest/v1';
/** DSSE payload type of an in-toto statement. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits (a SHA-256)');
const collectedAt = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: 'must be an ISO 8601 date (2026-01-31) or date-time (2026-01-31T12:00:00Z)',
});

/** One file of a dataset: its path (relative, `/`-separated, NFC), size in bytes and SHA-256 (hex). */
export const manifestFileSchema = z.strictObject({
  path: z.string().superRefine((p, ctx) => {
    const problem = manifestPathProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', message: `path ${JSON.stringify(p)} ${problem}` });
  }),
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  sha256: hex64,
});
/** One file of a dataset. */
export type ManifestFile = z.infer<typeof manifestFileSchema>;

/** How the file list was produced, so a verifier can recompute it (model-signing's `serialization`). */
export const serializationSchema = z.strictObject({
  method: z.literal('files'),
  hashType: z.literal('sha256'),
  allowSymlinks: z.literal(false),
});

/** The predicate of a dataset manifest statement. */
export const datasetPredicateSchema = z.strictObject({
  name: z.string().min(1),
  supplier: z.string().min(1),
  license: z.string().min(1).optional(),
  collectedAt: collectedAt.optional(),
  serialization: serializationSchema,
  rootDigest: hex64,
  fileCount: z.number().int().nonnegative(),
  totalBytes: z.number().int().nonnegative(),
  files: z.array(manifestFileSchema),
});
/** The predicate of a dataset manifest statement. */
export type DatasetPredicate = z.infer<typeof datasetPredicateSchema>;

/** An in-toto Statement v1 whose predicate is a dataset manifest. */
export const datasetStatementSchema = z.strictObject({
  _type: z.literal(STATEMENT_TYPE),
  subject: z
    .array(z.strictObject({ name: z.string().min(1), digest: z.strictObject({ sha256: hex64 }) }))
    .length(1, 'must hold exactly one subject (the dataset)'),
  predicateType: z.literal(DATASET_PREDICATE_TYPE),
  predicate: datasetPredicateSchema,
});
/** An in-toto Statement v1 carrying a dataset manifest. */
export type DatasetStatement = z.infer<typeof datasetStatementSchema>;

/** A dataset manifest as built from a directory: provenance, every file and the root digest. */
export interface Manifest {
  name: string;
  supplier: string;
  license?: string;
  collectedAt?: string;
  /** SHA-256 (hex) over the lines `<sha256>  <path>\n` of every file, in code-point order of path. */
  rootDigest: string;
  totalBytes: number;
  files: ManifestFile[];
}

/** Provenance given when building a manifest; validated with {@link provenanceSchema}. */
export const provenanceSchema = z.object({
  name: z.string().min(1).optional(),
  supplier: z.string().trim().min(1, 'is required (who supplied the dataset)'),
  license: z.string().trim().min(1).optional(),
  collectedAt: collectedAt.optional(),
});
