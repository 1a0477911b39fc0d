/**
 * The `dotenv` importer: a `.env` file belongs to one workload identity (named after the file or its directory);
 * every credential-looking variable in it becomes a credential located at `file:line` under the variable name.
 */
import { emptyBatch, type IdentityInput, type InventoryBatch } from '../../core/inventory-batch.js';
import { detectCredential } from './credential-detector.js';
import { parseDotenv } from './dotenv-parser.js';
import {
  credentialInputsFrom,
  decodeText,
  environmentFromName,
  type FoundCredential,
} from './importer-support.js';
import type { Importer, ImporterContext, ImportSource } from './importer-types.js';

const GENERIC_BASE = /^\.env(\..+)?$/i;
const NAMED_BASE = /^(.+)\.env$/i;

/** Derives the identity name and environment from a `.env` file's path: `services/billing/.env.production` → billing, production. */
export function dotenvIdentityName(fileName: string): { name: string; environment: string | null } {
  const parts = fileName.split(/[\\/]+/).filter((p) => p !== '' && p !== '.' && p !== '..');
  const base = parts[parts.length - 1] ?? fileName;
  const dir = parts.length > 1 ? parts[parts.length - 2]! : null;
  const generic = GENERIC_BASE.exec(base);
  if (generic) {
    const suffix = generic[1]?.slice(1) ?? '';
    return {
      name: dir ?? base,
      environment: environmentFromName(suffix) ?? (dir ? environmentFromName(dir) : null),
    };
  }
  const named = NAMED_BASE.exec(base);
  if (named) {
    const stem = named[1]!;
    const stemEnv = environmentFromName(stem);
    // `prod.env` names an environment, not a workload: the directory names the workload.
    const stemIsOnlyEnv = stemEnv !== null && stem.split(/[^A-Za-z0-9]+/).length === 1;
    return {
      name: stemIsOnlyEnv && dir ? dir : stem,
      environment: stemEnv ?? (dir ? environmentFromName(dir) : null),
    };
  }
  return { name: base, environment: dir ? environmentFromName(dir) : null };
}

function parse(source: ImportSource, ctx: ImporterContext): InventoryBatch {
  const { fileName } = source;
  const text = decodeText(source, 'a .env file of KEY=VALUE lines');
  const entries = parseDotenv(fileName, text);
  const { name, environment } = dotenvIdentityName(fileName);
  const identity: IdentityInput = {
    provider: 'dotenv',
    externalId: fileName,
    name,
    kind: 'workload',
    environment,
    description: `Workload configured by ${fileName}`,
    attributes: { file: fileName, variables: entries.length },
  };
  const found: FoundCredential[] = [];
  for (const e of entries) {
    const detected = detectCredential(e.value, { keyName: e.key });
    if (!detected) continue;
    found.push({
      detected,
      name: e.key,
      location: { kind: 'file', path: fileName, line: e.line, key: e.key },
    });
  }
  const batch = emptyBatch();
  batch.identities.push(identity);
  batch.credentials.push(
    ...credentialInputsFrom(
      found,
      { provider: identity.provider, externalId: identity.externalId },
      ctx.fingerprinter,
    ),
  );
  return batch;
}

/** Imports a `.env` file. */
export const dotenvImporter: Importer = {
  kind: 'dotenv',
  description:
    'A .env file (KEY=VALUE lines): one workload identity, a credential per secret-looking variable',
  parse,
};
