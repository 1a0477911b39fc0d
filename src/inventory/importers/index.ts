/** The importers by kind, and guessing the kind of a file from its name and content. */
import { ValidationError } from '../../core/errors.js';
import { awsExportShape, awsImporter } from './aws-importer.js';
import { DIRECTORY_FIELDS, directoryImporter } from './directory-importer.js';
import { dotenvImporter } from './dotenv-importer.js';
import { githubImporter } from './github-importer.js';
import { IMPORTER_KINDS, type Importer, type ImporterKind } from './importer-types.js';
import { kubernetesImporter } from './kubernetes-importer.js';
import { mcpImporter } from './mcp-importer.js';

export {
  detectCredential,
  isSecretReference,
  isSecretKeyName,
  type DetectedCredential,
} from './credential-detector.js';
export { parseDotenv, type DotenvEntry } from './dotenv-parser.js';

/** Every importer by kind. */
export const IMPORTERS: Record<ImporterKind, Importer> = {
  mcp: mcpImporter,
  dotenv: dotenvImporter,
  aws: awsImporter,
  kubernetes: kubernetesImporter,
  github: githubImporter,
  directory: directoryImporter,
};

/** True when a string names an importer kind. */
export function isImporterKind(kind: string): kind is ImporterKind {
  return (IMPORTER_KINDS as readonly string[]).includes(kind);
}

/**
 * The importer for a kind; a ValidationError listing the valid kinds for anything else.
 * @example getImporter('dotenv').parse({ fileName: '.env', content }, { fingerprinter, now })
 */
export function getImporter(kind: string): Importer {
  if (!isImporterKind(kind)) {
    throw new ValidationError(`unknown import kind "${kind}"; use one of: ${IMPORTER_KINDS.join(', ')}`, {
      details: [{ path: 'kind', message: `expected one of ${IMPORTER_KINDS.join(', ')}` }],
    });
  }
  return IMPORTERS[kind];
}

const MCP_FILE_NAMES = new Set([
  'claude_desktop_config.json',
  'mcp.json',
  '.mcp.json',
  'mcp_config.json',
  '.claude.json',
]);
// JSON larger than this is not parsed just to guess its kind; the name and the first bytes must do.
const MAX_SNIFF_PARSE = 16 << 20;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const normKey = (s: string): string => s.toLowerCase().replace(/[\s_-]+/g, '');
const EMAIL_KEYS = new Set(DIRECTORY_FIELDS.email.map(normKey));

function looksLikePerson(v: unknown): boolean {
  if (!isObject(v)) return false;
  if (isObject(v.profile) && ('email' in v.profile || 'login' in v.profile)) return true;
  return Object.keys(v).some((k) => EMAIL_KEYS.has(normKey(k))) || Array.isArray(v.emails);
}

function kindOfJson(doc: unknown, text: string): ImporterKind | null {
  if (Array.isArray(doc)) {
    const first = doc.find(isObject);
    if (!first) return null;
    if ('token_id' in first || 'app_slug' in first) return 'github';
    if (looksLikePerson(first)) return 'directory';
    return null;
  }
  if (!isObject(doc)) return null;
  if (isObject(doc.mcpServers) || (isObject(doc.servers) && !('items' in doc))) return 'mcp';
  if (
    isObject(doc.projects) &&
    Object.values(doc.projects).some((p) => isObject(p) && isObject(p.mcpServers))
  )
    return 'mcp';
  if (awsExportShape(text, doc) !== null) return 'aws';
  if (Array.isArray(doc.items) && (doc.kind === 'List' || /List$/.test(String(doc.kind))))
    return 'kubernetes';
  if (typeof doc.apiVersion === 'string' && typeof doc.kind === 'string' && isObject(doc.metadata))
    return 'kubernetes';
  if ('installations' in doc || 'deploy_keys' in doc || 'personal_access_tokens' in doc) return 'github';
  const keys = Object.keys(doc);
  if (keys.length > 0 && keys.every((k) => /^[^/\s]+\/[^/\s]+$/.test(k) && Array.isArray(doc[k])))
    return 'github';
  for (const k of ['users', 'people', 'employees', 'value', 'Resources', 'members']) {
    const list = doc[k];
    if (Array.isArray(list) && (list.length === 0 || looksLikePerson(list[0]))) return 'directory';
  }
  return null;
}

/**
 * Guesses which importer reads a file, from its name (`.env*`, `claude_desktop_config.json`, `mcp.json`) and
 * its content (top-level JSON keys, the CSV header, KEY=VALUE lines); null when nothing fits.
 * @example detectImporterKind('auth.json', readFileSync('auth.json')) // 'aws'
 */
export function detectImporterKind(fileName: string, content: Buffer | string): ImporterKind | null {
  const base = (fileName.split(/[\\/]/).pop() ?? fileName).toLowerCase();
  if (/^\.env(\..+)?$/.test(base) || /\.env$/.test(base)) return 'dotenv';
  if (MCP_FILE_NAMES.has(base)) return 'mcp';
  const size = typeof content === 'string' ? content.length : content.length;
  if (typeof content !== 'string' && content.subarray(0, 8192).includes(0)) return null;
  const head = (
    typeof content === 'string' ? content.slice(0, 8192) : content.subarray(0, 8192).toString('utf8')
  )
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (head === '') return null;
  if (/^user,arn,user_creation_time\b/i.test(head)) return 'aws';
  if (head[0] === '{' || head[0] === '[') {
    if (size > MAX_SNIFF_PARSE) return null;
    const text = typeof content === 'string' ? content : content.toString('utf8');
    try {
      return kindOfJson(JSON.parse(text.replace(/^\uFEFF/, '')) as unknown, text.trimStart());
    } catch {
      return null;
    }
  }
  const firstLine = head.split(/\r?\n/).find((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  if (firstLine === undefined) return null;
  if (/^\s*(export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=/.test(firstLine)) return 'dotenv';
  const header = firstLine.split(',').map((h) => normKey(h.replace(/^"|"$/g, '')));
  if (header.length > 1 && header.some((h) => EMAIL_KEYS.has(h))) return 'directory';
  return null;
}
