/** The `detect` section of the configuration: rules the server runs, correlation limits, webhooks. */
import { z } from 'zod';
import { webhookTargetSchema } from './webhooks.js';

export const detectConfigSchema = z
  .object({
    rules: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Rule files and directories the server loads for continuous detection, besides the built-in pack',
      ),
    builtinRules: z.boolean().default(true).describe("Load Keyward's own rule pack"),
    placeholders: z
      .record(z.string().regex(/^[A-Za-z0-9_.-]+$/), z.array(z.string()))
      .default({})
      .describe('Values of %placeholder% expansions (the expand modifier)'),
    allowedLatenessMs: z
      .number()
      .int()
      .min(0)
      .max(86_400_000)
      .default(60_000)
      .describe('How far behind the newest event time an event may arrive and still count'),
    maxStateEntries: z
      .number()
      .int()
      .min(1000)
      .max(100_000_000)
      .default(1_000_000)
      .describe('Most pending correlation entries kept; the stalest are evicted first'),
    ingestMaxBytes: z
      .number()
      .int()
      .positive()
      .default(16 * 1_048_576)
      .describe('Largest NDJSON body POST /api/v1/detect/events accepts'),
    logPollIntervalMs: z
      .number()
      .int()
      .min(50)
      .max(60_000)
      .default(1000)
      .describe('How often the server reads its own event log into detection'),
    webhooks: z.array(webhookTargetSchema).default([]).describe('Where alerts are sent'),
  })
  .strict()
  .refine((c) => new Set(c.webhooks.map((w) => w.name)).size === c.webhooks.length, {
    message: 'webhook names must be unique',
    path: ['webhooks'],
  });

export type DetectConfig = z.output<typeof detectConfigSchema>;
