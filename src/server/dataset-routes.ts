/**
 * The dataset API: `POST /api/v1/datasets/verify` lets a training pipeline check a dataset on the server's disk
 * against its signed manifest before ingestion; the answer says whether to refuse it, and the verification is
 * recorded (event log and the dataset's inventory resource).
 */
import { isAbsolute } from 'node:path';
import { statSync } from 'node:fs';
import { z } from 'zod';
import { ValidationError } from '../core/errors.js';
import {
  managedDatasetKey,
  publicKeyPem,
  recordDatasetRun,
  verificationRun,
  verifyDataset,
} from '../datasets/index.js';
import { route, type ApiRoute } from './server-routes.js';

const verifyBody = z
  .object({
    path: z.string().min(1).max(4096).describe('Absolute path of the dataset directory on the server'),
    manifest: z
      .union([
        z
          .string()
          .min(1)
          .max(512 * 1024 * 1024),
        z.record(z.string(), z.unknown()),
      ])
      .describe('The signed manifest: the DSSE envelope as JSON text or as an object'),
    trust: z
      .array(z.string().min(1).max(10_000))
      .max(50)
      .optional()
      .describe('Trusted Ed25519 public keys (PEM); default: the key Keyward manages'),
    workers: z.number().int().min(0).max(64).optional().describe('Hashing worker threads'),
  })
  .strict();

const verificationSchema = z.object({
  ok: z.boolean(),
  dataset: z.string().nullable(),
  supplier: z.string().nullable(),
  signer: z.string().nullable(),
  problems: z.array(z.object({ path: z.string(), message: z.string() })),
  added: z.array(z.string()),
  missing: z.array(z.string()),
  modified: z.array(z.string()),
  renamed: z.array(z.object({ from: z.string(), to: z.string() })),
});

/** The dataset routes. */
export const DATASET_API_ROUTES: readonly ApiRoute[] = [
  route({
    operationId: 'verifyDataset',
    method: 'POST',
    path: '/api/v1/datasets/verify',
    tag: 'datasets',
    auth: true,
    summary: 'Verify a dataset on the server against its signed manifest (refuse it when ok is false)',
    description:
      'Checks the DSSE signature against the trusted keys, then every file: added, missing, modified and renamed ' +
      'files are listed. The verification is recorded as a dataset.verified event and on the dataset resource.',
    body: verifyBody,
    response: { status: 200, description: 'The verification', schema: verificationSchema },
    handler: async ({ app, body, actor }) => {
      if (!isAbsolute(body.path))
        throw new ValidationError('path must be an absolute directory path on the server', {
          details: [{ path: 'path', message: 'not absolute' }],
        });
      let isDir = false;
      try {
        isDir = statSync(body.path).isDirectory();
      } catch {
        // reported below
      }
      if (!isDir)
        throw new ValidationError(`${body.path} is not a directory on the server`, {
          details: [{ path: 'path', message: 'not a directory' }],
        });
      const envelope = typeof body.manifest === 'string' ? body.manifest : JSON.stringify(body.manifest);
      const trust = body.trust ?? [publicKeyPem(await managedDatasetKey(app.store, app.signingKeyBox))];
      const v = await verifyDataset(body.path, envelope, {
        trust,
        ...(body.workers === undefined ? {} : { workers: body.workers }),
      });
      const predicate = v.statement?.predicate;
      const dataset = v.statement?.subject[0]?.name ?? null;
      await recordDatasetRun(
        { store: app.store, importBatch: (b, a, s) => app.inventory.importBatch(b, a, s) },
        { ...verificationRun(v, body.path), actor, time: app.clock.now().toISOString() },
      );
      return {
        ok: v.ok,
        dataset,
        supplier: predicate?.supplier ?? null,
        signer: v.signer,
        problems: v.problems.map((p) => ({ path: p.path, message: p.message })),
        added: v.added,
        missing: v.missing,
        modified: v.modified,
        renamed: v.renamed,
      };
    },
  }),
];
