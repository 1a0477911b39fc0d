/** Keyward's configuration: one zod schema, parsed once at start-up from defaults, a YAML file, env and flags. */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { detectConfigSchema } from '../detect/detect-config.js';
import { parseDocument } from 'yaml';
import { ValidationError, type ErrorDetail } from '../core/errors.js';
import { brokerConfigSchema, normalizeIssuer, type BrokerConfig } from '../broker/index.js';
import { postureConfigSchema } from '../inventory/index.js';

export const appConfigSchema = z
  .object({
    dataDir: z
      .string()
      .min(1)
      .default('.keyward')
      .describe('Directory for the SQLite file, the master key and the admin token file'),
    databaseUrl: z
      .string()
      .min(1)
      .optional()
      .describe(
        'postgres://… to use PostgreSQL; sqlite:PATH for another SQLite file; absent: <dataDir>/keyward.db',
      ),
    host: z.string().min(1).default('127.0.0.1').describe('Address the HTTP server listens on'),
    port: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(7300)
      .describe('Port the HTTP server listens on (0: any free port)'),
    masterKey: z
      .string()
      .optional()
      .describe('32-byte master key, base64 or hex; absent: generated into <dataDir>/master.key (0600)'),
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('Server log level'),
    bodyLimitBytes: z
      .number()
      .int()
      .positive()
      .default(1_048_576)
      .describe('Largest JSON request body the API accepts'),
    maxImportBytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1_048_576)
      .describe('Largest import file, in bytes'),
    posture: postureConfigSchema
      .default(postureConfigSchema.parse({}))
      .describe('Posture finding thresholds'),
    broker: brokerConfigSchema
      .default(brokerConfigSchema.parse({}))
      .describe(
        'Credential broker: issuer URL, token lifetimes, key rotation, revocation polling, DPoP, approvals',
      ),
    detect: detectConfigSchema
      .default(detectConfigSchema.parse({}))
      .describe('Detection: rules the server runs, correlation limits, alert webhooks'),
  })
  .strict();

/** Validated, frozen configuration; the broker's issuer is resolved (default `http://<host>:<port>`). */
export type AppConfig = Readonly<Omit<z.infer<typeof appConfigSchema>, 'broker'> & { broker: BrokerConfig }>;

/** The default issuer URL for a listen address: `http://<host>:<port>` (IPv6 hosts in brackets). */
export function defaultIssuer(host: string, port: number): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

/** Turns zod issues into error details with dotted paths, prefixed by where the value came from. */
export function zodDetails(error: z.ZodError, prefix: string): ErrorDetail[] {
  return error.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter(Boolean).join('.'),
    message: i.message,
  }));
}

/** Reads a YAML config file; errors name the file and line. */
export function readConfigFile(path: string): Record<string, unknown> {
  if (!existsSync(path))
    throw new ValidationError(`config file ${path} does not exist`, { code: 'KW_INVALID_CONFIG' });
  const doc = parseDocument(readFileSync(path, 'utf8'), { prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line;
    throw new ValidationError(`${path}${line ? `:${line}` : ''}: ${e.message.split('\n')[0]}`, {
      code: 'KW_INVALID_CONFIG',
    });
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError(`${path}: the config file must be a YAML mapping`, {
      code: 'KW_INVALID_CONFIG',
    });
  }
  return value as Record<string, unknown>;
}

/** Reads the KEYWARD_* environment variables that map to config fields. */
export function configFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (env.KEYWARD_DATA_DIR) out.dataDir = env.KEYWARD_DATA_DIR;
  if (env.KEYWARD_DATABASE_URL) out.databaseUrl = env.KEYWARD_DATABASE_URL;
  if (env.KEYWARD_HOST) out.host = env.KEYWARD_HOST;
  if (env.KEYWARD_PORT) out.port = Number(env.KEYWARD_PORT);
  if (env.KEYWARD_MASTER_KEY) out.masterKey = env.KEYWARD_MASTER_KEY;
  if (env.KEYWARD_LOG_LEVEL) out.logLevel = env.KEYWARD_LOG_LEVEL;
  if (env.KEYWARD_ISSUER) out.broker = { issuer: env.KEYWARD_ISSUER };
  return out;
}

/**
 * Builds the configuration: defaults, then the file (`--config` or `<dataDir>/keyward.yaml` when present),
 * then the environment, then flags. Throws ValidationError naming the source and field of a bad value.
 */
export function loadConfig(sources: {
  env: NodeJS.ProcessEnv;
  flags?: Record<string, unknown>;
  configFile?: string;
}): AppConfig {
  const fromEnv = configFromEnv(sources.env);
  const flags = Object.fromEntries(Object.entries(sources.flags ?? {}).filter(([, v]) => v !== undefined));
  const dataDir = String(flags.dataDir ?? fromEnv.dataDir ?? '.keyward');
  const filePath = sources.configFile ?? `${dataDir}/keyward.yaml`;
  const fromFile = sources.configFile || existsSync(filePath) ? readConfigFile(filePath) : {};

  for (const [name, layer] of [
    [filePath, fromFile],
    ['environment', fromEnv],
  ] as const) {
    const partial = appConfigSchema.partial().safeParse(layer);
    if (!partial.success) {
      throw new ValidationError(`invalid configuration in ${name}`, {
        code: 'KW_INVALID_CONFIG',
        details: zodDetails(partial.error, ''),
      });
    }
  }
  const merged: Record<string, unknown> = { ...fromFile, ...fromEnv, ...flags };
  // The broker section is merged field by field, so KEYWARD_ISSUER does not drop the file's other broker settings.
  const brokerLayers = [fromFile.broker, fromEnv.broker, flags.broker].filter(
    (b): b is Record<string, unknown> => typeof b === 'object' && b !== null && !Array.isArray(b),
  );
  if (brokerLayers.length > 0) merged.broker = Object.assign({}, ...brokerLayers) as Record<string, unknown>;
  const parsed = appConfigSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ValidationError('invalid configuration', {
      code: 'KW_INVALID_CONFIG',
      details: zodDetails(parsed.error, ''),
    });
  }
  const { broker, ...rest } = parsed.data;
  const issuer =
    broker.issuer === undefined ? defaultIssuer(rest.host, rest.port) : normalizeIssuer(broker.issuer)!;
  return Object.freeze({ ...rest, broker: Object.freeze({ ...broker, issuer }) });
}
