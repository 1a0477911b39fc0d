/**
 * Synthetic corpus for bench/secrets: a deterministic tree of realistic source, config, data and log files with
 * planted secrets (the built-in rules' positive cases) and tricky non-secrets (the rules' negative cases, UUIDs,
 * git SHAs, integrity hashes, base64 images, placeholders, innocent high-entropy ids), with the ground truth in
 * `<dir>/.bench-truth.json`. Text comes from pools of pre-built blocks, so hundreds of megabytes take seconds.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createCaseGen } from '../src/secrets/secret-case-gen.js';
import { compileRule, matchRule, type CompiledRule } from '../src/secrets/secret-rule-match.js';
import type { CaseGen, SecretRule } from '../src/secrets/secret-types.js';
import { BUILTIN_SECRET_RULES } from '../src/secrets/rules/index.js';
import { prng } from './detect-data.js';

/** Name of the ground-truth file at the corpus root; scanners are told to skip it. */
export const TRUTH_FILE = '.bench-truth.json';

/** Bumped whenever the generator's output changes, so an old corpus on disk is not reused. */
const GENERATOR_VERSION = 3;
/** Planted secrets and planted non-secrets per megabyte (about 2,000 of each in 500 MB). */
const SECRETS_PER_MB = 4;
const DECOYS_PER_MB = 4;

/** The kinds of file the corpus holds. */
export type FileKind =
  | 'ts'
  | 'js'
  | 'min-js'
  | 'py'
  | 'go'
  | 'json'
  | 'yaml'
  | 'k8s'
  | 'env'
  | 'mcp'
  | 'md'
  | 'csv'
  | 'jsonl'
  | 'log'
  | 'lock';

/** A secret the corpus holds on purpose: a finding in [line, endLine] of `path` is a true positive. */
export interface PlantedSecret {
  /** Path relative to the corpus root, posix separators. */
  path: string;
  /** 1-based first and last line of the planted snippet. */
  line: number;
  endLine: number;
  ruleId: string;
  provider: string;
  kind: FileKind;
}

/** A non-secret planted on purpose (any finding on it is a false positive), with what it is. */
export interface PlantedDecoy {
  path: string;
  line: number;
  endLine: number;
  /** `negative:<ruleId>`, `uuid`, `git-sha`, `integrity`, `base64-image`, `placeholder`, `high-entropy-id`. */
  decoy: string;
}

/** One file of the corpus, in generation order. */
export interface CorpusFile {
  path: string;
  bytes: number;
  kind: FileKind;
}

/** The ground truth and the parameters a corpus was generated with. */
export interface CorpusManifest {
  generatorVersion: number;
  megabytes: number;
  seed: number;
  /** Ids of the rules whose cases were planted (a corpus is reused only with the same rules). */
  rules: string[];
  bytes: number;
  files: CorpusFile[];
  secrets: PlantedSecret[];
  decoys: PlantedDecoy[];
  generatedSeconds: number;
}

/** Options of `generateCorpus`. */
export interface CorpusOptions {
  /** Approximate total size in megabytes (10^6 bytes). */
  megabytes: number;
  seed: number;
  /** Rules to plant cases of (default: every built-in rule present at run time). */
  rules?: readonly SecretRule[];
}

type Rand = () => number;

const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rand, a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
const cap = (s: string): string => s[0]!.toUpperCase() + s.slice(1);
const newlines = (s: string): number => {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
};

const NOUNS = [
  'user', 'account', 'order', 'invoice', 'session', 'project', 'workspace', 'team', 'member', 'policy',
  'report', 'widget', 'message', 'channel', 'thread', 'payment', 'customer', 'product', 'cart', 'shipment',
  'event', 'metric', 'queue', 'job', 'task', 'schedule', 'tenant', 'region', 'bucket', 'record', 'profile',
  'document', 'page', 'comment', 'review', 'agent', 'tool', 'prompt', 'model', 'dataset', 'pipeline', 'build',
]; // prettier-ignore
const VERBS = [
  'load', 'fetch', 'create', 'update', 'delete', 'list', 'find', 'sync', 'parse', 'render', 'validate',
  'resolve', 'apply', 'compute', 'merge', 'export', 'import', 'refresh', 'archive', 'publish', 'schedule',
]; // prettier-ignore
const WORDS = [
  'the', 'a', 'service', 'returns', 'when', 'with', 'for', 'every', 'request', 'cache', 'is', 'not', 'only',
  'after', 'before', 'retry', 'timeout', 'value', 'field', 'config', 'client', 'server', 'handler', 'result',
  'error', 'default', 'option', 'token', 'key', 'secret', 'environment', 'variable', 'rotate', 'expire', 'scope',
  'page', 'limit', 'batch', 'stream', 'file', 'path', 'and', 'or', 'of', 'to', 'in', 'on', 'this', 'that', 'we',
]; // prettier-ignore
const PACKAGES = [
  'react', 'lodash', 'zod', 'express', 'fastify', 'undici', 'pino', 'yaml', 'commander', 'semver', 'debug',
  'chalk', 'ms', 'uuid', 'ws', 'dotenv', 'glob', 'minimatch', 'typescript', 'vitest', 'esbuild', 'postcss',
]; // prettier-ignore

function sentence(r: Rand, min = 6, max = 18): string {
  const n = int(r, min, max);
  const w: string[] = [];
  for (let i = 0; i < n; i++) w.push(pick(r, WORDS));
  return cap(w.join(' ')) + '.';
}

// ---------------------------------------------------------------------------------------------------------
// Filler blocks. Each generator returns text ending in a newline; pools of them are built once per run.
// ---------------------------------------------------------------------------------------------------------

function tsBlock(r: Rand): string {
  const noun = pick(r, NOUNS);
  const N = cap(noun);
  const verb = pick(r, VERBS);
  const kind = int(r, 0, 3);
  if (kind === 0)
    return `/** ${sentence(r)} */
export async function ${verb}${N}(id: string, opts: ${N}Options = {}): Promise<${N} | null> {
  const row = await db.query('SELECT * FROM ${noun}s WHERE id = $1 LIMIT 1', [id]);
  if (!row) return null;
  // ${sentence(r)}
  const tags = (opts.tags ?? []).filter((t) => t.length > 0);
  return { id, name: String(row.name), createdAt: new Date(row.created_at), tags };
}

`;
  if (kind === 1)
    return `export interface ${N}Options {
  /** ${sentence(r, 4, 10)} */
  tags?: string[];
  limit?: number;
  timeoutMs?: number;
  apiKey?: string;
}

const ${noun}Client = createClient({ baseUrl: process.env.${noun.toUpperCase()}_API_URL, apiKey: process.env.${noun.toUpperCase()}_API_KEY });

`;
  if (kind === 2)
    return `export class ${N}Service {
  private readonly cache = new Map<string, ${N}>();

  constructor(private readonly repo: ${N}Repository, private readonly log: Logger) {}

  async ${verb}(id: string): Promise<${N}> {
    const hit = this.cache.get(id);
    if (hit) return hit;
    this.log.debug({ id }, '${verb} ${noun}');
    const value = await this.repo.${verb}(id);
    this.cache.set(id, value);
    return value;
  }
}

`;
  return `describe('${verb}${N}', () => {
  it('${sentence(r, 3, 8).toLowerCase().slice(0, -1)}', async () => {
    const ${noun} = await ${verb}${N}('${noun}-${int(r, 1, 9999)}');
    expect(${noun}?.tags).toEqual([]);
  });
});

`;
}

function tsHeader(r: Rand): string {
  const n = int(r, 2, 6);
  let s = '';
  for (let i = 0; i < n; i++) {
    const p = pick(r, PACKAGES);
    s += `import { ${pick(r, VERBS)}${cap(pick(r, NOUNS))} } from '${i % 2 ? './' + pick(r, NOUNS) + '.js' : p}';\n`;
  }
  return s + '\n';
}

function minJsLine(r: Rand): string {
  // A bundler's output: one long line of short identifiers (2–20 KB).
  const target = int(r, 2_000, 20_000);
  let s = '';
  while (s.length < target) {
    const a = pick(r, 'abcdefghijklmnopqrstuvwxyz'.split(''));
    const b = pick(r, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split(''));
    const noun = pick(r, NOUNS);
    s += `function ${a}${b}(${a},t){return ${a}.map(function(n){return n.id===t?{...n,${noun}:!0}:n})}var ${b}${a}="${noun}-${int(r, 0, 999)}",`;
    s += `${a}${a}=function(e){return e&&e.__esModule?e:{default:e}};`;
  }
  return s + '\n';
}

function pyBlock(r: Rand): string {
  const noun = pick(r, NOUNS);
  const verb = pick(r, VERBS);
  return `def ${verb}_${noun}(session, ${noun}_id: str, *, limit: int = ${int(r, 10, 500)}) -> list[dict]:
    """${sentence(r)}"""
    api_key = os.environ.get("${noun.toUpperCase()}_API_KEY")
    rows = session.execute("SELECT id, name FROM ${noun}s WHERE owner = :id LIMIT :n", {"id": ${noun}_id, "n": limit})
    # ${sentence(r)}
    return [dict(r) for r in rows if r["name"]]


`;
}

function goBlock(r: Rand): string {
  const N = cap(pick(r, NOUNS));
  const verb = cap(pick(r, VERBS));
  return `// ${verb}${N} ${sentence(r).toLowerCase()}
func (s *Server) ${verb}${N}(ctx context.Context, id string) (*${N}, error) {
	token := os.Getenv("${N.toUpperCase()}_TOKEN")
	row, err := s.db.QueryContext(ctx, "SELECT id, name FROM ${N.toLowerCase()}s WHERE id = $1", id)
	if err != nil {
		return nil, fmt.Errorf("${verb.toLowerCase()} ${N.toLowerCase()}: %w", err)
	}
	_ = token
	return scan${N}(row)
}

`;
}

function jsonMember(r: Rand): string {
  const noun = pick(r, NOUNS);
  return `  "${noun}${int(r, 1, 99)}": {
    "enabled": ${r() < 0.5},
    "timeoutMs": ${int(r, 100, 30000)},
    "endpoint": "https://${noun}.internal.${pick(r, ['acme', 'corp', 'svc'])}.net/v${int(r, 1, 3)}",
    "tags": ["${pick(r, WORDS)}", "${pick(r, WORDS)}"],
    "description": "${sentence(r)}"
  }`;
}

function yamlBlock(r: Rand, workflow: boolean): string {
  const noun = pick(r, NOUNS);
  if (workflow)
    return `  ${noun}-job-${int(r, 1, 999)}:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - run: npm ci && npm test
        env:
          ${noun.toUpperCase()}_API_KEY: \${{ secrets.${noun.toUpperCase()}_API_KEY }}
          NODE_ENV: test
`;
  const container = `  - name: ${noun}-${int(r, 1, 999)}
    image: registry.internal/${noun}:${int(r, 1, 9)}.${int(r, 0, 20)}.${int(r, 0, 9)}
    resources:
      limits: { cpu: "${int(r, 1, 4)}", memory: ${int(r, 1, 8)}Gi }
    env:
      - name: ${noun.toUpperCase()}_PASSWORD
        valueFrom:
          secretKeyRef: { name: ${noun}-credentials, key: password }
      - name: LOG_LEVEL
        value: ${pick(r, ['info', 'debug', 'warn'])}
`;
  // Under `spec.template.spec.containers:` of the file header.
  return container.replace(/^(?=.)/gm, '      ');
}

function envLines(r: Rand): string {
  const noun = pick(r, NOUNS).toUpperCase();
  return pick(r, [
    `NODE_ENV=production\nPORT=${int(r, 3000, 9000)}\n`,
    `${noun}_URL=https://${noun.toLowerCase()}.internal.acme.net\n${noun}_TIMEOUT_MS=${int(r, 100, 9000)}\n`,
    `DATABASE_URL=postgres://app@db.internal:5432/${noun.toLowerCase()}\n`,
    `# ${sentence(r)}\n${noun}_API_KEY=\n`,
    `LOG_LEVEL=${pick(r, ['info', 'debug'])}\nFEATURE_${noun}=${r() < 0.5}\n`,
  ]);
}

function mcpServer(r: Rand): string {
  const noun = pick(r, NOUNS);
  return pick(r, [
    `    "${noun}": {\n      "command": "npx",\n      "args": ["-y", "@acme/${noun}-mcp@${int(r, 1, 3)}.${int(r, 0, 9)}.0"],\n      "env": { "${noun.toUpperCase()}_API_KEY": "\${${noun.toUpperCase()}_API_KEY}" }\n    }`,
    `    "${noun}-remote": {\n      "type": "http",\n      "url": "https://mcp.${noun}.acme.dev/mcp",\n      "headers": { "Authorization": "Bearer \${${noun.toUpperCase()}_TOKEN}" }\n    }`,
    `    "fs-${noun}": {\n      "command": "node",\n      "args": ["./tools/${noun}/server.js", "--root", "/srv/${noun}"]\n    }`,
  ]);
}

function mdBlock(r: Rand): string {
  const noun = pick(r, NOUNS);
  if (r() < 0.3)
    return `## ${cap(pick(r, VERBS))} a ${noun}\n\n${sentence(r)} ${sentence(r)}\n\n\`\`\`sh\nexport ${noun.toUpperCase()}_API_KEY=<your-api-key>\ncurl -H "Authorization: Bearer $${noun.toUpperCase()}_API_KEY" https://api.acme.dev/v1/${noun}s\n\`\`\`\n\n`;
  return `${sentence(r)} ${sentence(r)} ${sentence(r)} ${sentence(r)}\n\n- ${sentence(r, 3, 8)}\n- ${sentence(r, 3, 8)}\n\n`;
}

function csvRow(r: Rand, g: CaseGen): string {
  return `${int(r, 1, 999999)},${pick(r, NOUNS)}-${g.chars(6, 'abcdefghijklmnopqrstuvwxyz')},"${sentence(r)}","${sentence(r)}",${int(r, 0, 5)}\n`;
}

function chatRecord(r: Rand, g: CaseGen): string {
  const turns: Array<{ role: string; content: string }> = [];
  const n = int(r, 2, 6);
  for (let i = 0; i < n; i++)
    turns.push({
      role: i % 2 ? 'assistant' : 'user',
      content: `${sentence(r)} ${sentence(r)} ${sentence(r)}`,
    });
  return (
    JSON.stringify({ id: `conv-${g.chars(10, 'abcdefghijklmnopqrstuvwxyz0123456789')}`, messages: turns }) +
    '\n'
  );
}

function logLines(r: Rand, g: CaseGen): string {
  const t = `2026-11-${String(int(r, 1, 28)).padStart(2, '0')}T${String(int(r, 0, 23)).padStart(2, '0')}:${String(int(r, 0, 59)).padStart(2, '0')}:${String(int(r, 0, 59)).padStart(2, '0')}.${int(r, 100, 999)}Z`;
  return pick(r, [
    `${t} ##[group]Run actions/checkout@v4\n${t} HEAD is now at ${g.hex(20).slice(0, 7)} ${sentence(r, 3, 8)}\n${t} ##[endgroup]\n`,
    `${t} npm warn deprecated ${pick(r, PACKAGES)}@${int(r, 1, 9)}.${int(r, 0, 9)}.${int(r, 0, 9)}: ${sentence(r, 4, 9)}\n`,
    `${t} [${pick(r, NOUNS)}] ${sentence(r)} (${int(r, 1, 5000)} ms)\n`,
    `${t} ✓ test/${pick(r, NOUNS)}.test.ts (${int(r, 1, 60)} tests) ${int(r, 5, 900)}ms\n`,
    `${t} Downloading ${pick(r, PACKAGES)}-${int(r, 1, 9)}.${int(r, 0, 9)}.${int(r, 0, 9)}.tgz (${int(r, 10, 900)} kB)\n`,
  ]);
}

function lockMember(r: Rand, g: CaseGen): string {
  const p = pick(r, PACKAGES);
  const v = `${int(r, 0, 12)}.${int(r, 0, 30)}.${int(r, 0, 20)}`;
  return `    "node_modules/${p}${r() < 0.5 ? '' : '-' + pick(r, NOUNS)}": {\n      "version": "${v}",\n      "resolved": "https://registry.npmjs.org/${p}/-/${p}-${v}.tgz",\n      "integrity": "sha512-${g.base64(64)}",\n      "license": "MIT"\n    }`;
}

// ---------------------------------------------------------------------------------------------------------
// Planted values.
// ---------------------------------------------------------------------------------------------------------

interface Plant {
  /** The rule's positive case as written (may span lines). */
  text: string;
  /** The credential alone, when the owning rule extracts it from `text`. */
  value: string | null;
  rule: CompiledRule;
}

/** Non-secret values that look like secrets, each with its decoy kind. */
function decoyText(r: Rand, g: CaseGen, rules: readonly CompiledRule[]): { text: string; decoy: string } {
  const k = int(r, 0, 9);
  if (k <= 2 && rules.length > 0) {
    const rule = pick(r, rules);
    const negatives = rule.rule.cases.negatives(g);
    if (negatives.length > 0) return { text: pick(r, negatives), decoy: `negative:${rule.rule.id}` };
  }
  const uuid = (): string => {
    const h = g.hex(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  };
  if (k === 3) return { text: `  "requestId": "${uuid()}", "traceId": "${g.hex(16)}",`, decoy: 'uuid' };
  if (k === 4)
    return {
      text: `commit ${g.hex(20)}\nMerge: ${g.hex(4).slice(0, 7)} ${g.hex(4).slice(0, 7)}`,
      decoy: 'git-sha',
    };
  if (k === 5) return { text: `      "integrity": "sha512-${g.base64(64)}",`, decoy: 'integrity' };
  if (k === 6)
    return {
      text: `<img alt="logo" src="data:image/png;base64,${g.base64(int(r, 200, 3000))}">`,
      decoy: 'base64-image',
    };
  if (k === 7) {
    // Documentation placeholders; the AWS pair is the one from AWS's own docs (split so no scan of this file sees it).
    const akid = 'AKIA' + 'IOSFODNN7EXAMPLE';
    const awsSecret = ['wJalrXUtnFEMI', 'K7MDENG', 'bPxRfiCYEXAMPLEKEY'].join('/');
    return {
      text: pick(r, [
        `AWS_ACCESS_KEY_ID=${akid}\nAWS_SECRET_ACCESS_KEY=${awsSecret}`,
        `OPENAI_API_KEY=sk-${'x'.repeat(48)}`,
        `api_key: "<your-api-key>"`,
        `OPENAI_API_KEY=\${OPENAI_API_KEY}`,
        `const apiKey = process.env.OPENAI_API_KEY;`,
        `GITHUB_TOKEN={{ secrets.GITHUB_TOKEN }}`,
        `"Authorization": "Bearer \${API_TOKEN}"`,
        `password: changeme`,
        `STRIPE_SECRET_KEY=sk_live_` + 'REPLACE_ME',
      ]),
      decoy: 'placeholder',
    };
  }
  if (k === 8)
    return {
      text: pick(r, [
        `  "etag": "W/\\"${g.hex(16)}\\"",`,
        `x-amz-request-id: ${g.chars(16, '0123456789ABCDEF')}`,
        `session_id=${g.base64url(24)}`,
        `"cursor": "${g.base64(30)}"`,
        `checksum sha256:${g.hex(32)}`,
      ]),
      decoy: 'high-entropy-id',
    };
  return { text: `  id: ${uuid()}`, decoy: 'uuid' };
}

function keyNameOf(rule: SecretRule): string {
  return rule.provider.toUpperCase().replace(/[^A-Z0-9]+/g, '_') + '_API_KEY';
}

function camel(rule: SecretRule): string {
  return (
    rule.provider.toLowerCase().replace(/[^a-z0-9]+([a-z0-9])/g, (_, c: string) => c.toUpperCase()) + 'Key'
  );
}

/** Ways of writing a planted secret into a file of `kind`, most specific first; raw kinds end with the text. */
function plantForms(kind: FileKind, p: Plant, r: Rand): string[] {
  const single = !p.text.includes('\n');
  const q = JSON.stringify(p.text);
  const v = p.value;
  const key = keyNameOf(p.rule.rule);
  const forms: string[] = [];
  switch (kind) {
    case 'ts':
    case 'js':
    case 'min-js':
      if (v)
        forms.push(`const ${camel(p.rule.rule)} = '${v}';`, `  headers: { Authorization: \`Bearer ${v}\` },`);
      if (single) forms.push(`// ${p.text}`, `const config = ${q};`);
      break;
    case 'py':
      if (v) forms.push(`${key} = "${v}"`, `client = Client(api_key="${v}")`);
      if (single) forms.push(`# ${p.text}`);
      break;
    case 'go':
      if (v) forms.push(`\tconst ${camel(p.rule.rule)} = "${v}"`);
      if (single) forms.push(`// ${p.text}`, `\tcfg := ${q}`);
      break;
    case 'md':
      forms.push('```\n' + p.text + '\n```');
      break;
    case 'log':
      if (single) forms.push(`2026-11-02T10:11:12.345Z [deploy] ${p.text}`);
      break;
    case 'env':
      if (v) forms.push(`${key}=${v}`);
      break;
    case 'yaml':
    case 'k8s':
      if (v) forms.push(`  ${key.toLowerCase()}: ${v}`, `          ${key}: "${v}"`);
      if (single) forms.push(`  note: ${q}`);
      return forms; // structured: no raw fallback
    case 'json':
    case 'lock':
      if (v) forms.push(`  "${key.toLowerCase()}": "${v}"`);
      if (single) forms.push(`  "note": ${q}`);
      return forms;
    case 'mcp':
      if (v)
        forms.push(
          `    "${p.rule.rule.provider}": {\n      "command": "npx",\n      "args": ["-y", "@acme/${p.rule.rule.provider}-mcp"],\n      "env": { "${key}": "${v}" }\n    }`,
          `    "${p.rule.rule.provider}-remote": {\n      "type": "http",\n      "url": "https://mcp.acme.dev/${p.rule.rule.provider}",\n      "headers": { "Authorization": "Bearer ${v}" }\n    }`,
          `    "${p.rule.rule.provider}-cli": {\n      "command": "npx",\n      "args": ["-y", "@acme/${p.rule.rule.provider}-mcp", "--api-key", "${v}"]\n    }`,
        );
      if (single) forms.push(`    "${p.rule.rule.provider}-notes": { "command": "true", "args": [${q}] }`);
      return forms;
    case 'csv':
      if (single) forms.push(`${int(r, 1, 999999)},pasted,"${p.text.replace(/"/g, '""')}","ok",1`);
      return forms;
    case 'jsonl':
      if (single)
        forms.push(
          JSON.stringify({
            id: 'conv-planted',
            messages: [
              { role: 'user', content: `my config is failing, here it is:\n${p.text}\nwhat is wrong?` },
              {
                role: 'assistant',
                content: 'Please rotate that credential first: it is now in this transcript.',
              },
            ],
          }),
        );
      return forms;
  }
  // Raw kinds: shuffle the specific forms a little, then the case exactly as the rule wrote it.
  if (forms.length > 1 && r() < 0.5) forms.reverse();
  forms.push(p.text);
  return forms;
}

const RAW_KINDS: ReadonlySet<FileKind> = new Set(['ts', 'js', 'min-js', 'py', 'go', 'md', 'log', 'env']);

/** How a decoy is written into a file of `kind` (structured kinds quote it). */
function decoyForm(kind: FileKind, text: string): string {
  const q = JSON.stringify(text);
  switch (kind) {
    case 'yaml':
    case 'k8s':
      return `  note: ${q}`;
    case 'json':
    case 'lock':
      return `  "note": ${q}`;
    case 'mcp':
      return `    "notes": { "command": "true", "args": [${q}] }`;
    case 'csv':
      return `${1000000},note,"${text.replace(/"/g, '""')}","ok",0`;
    case 'jsonl':
      return JSON.stringify({ id: 'conv-note', messages: [{ role: 'user', content: text }] });
    default:
      return text;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Files.
// ---------------------------------------------------------------------------------------------------------

/** Relative number of files per kind (sizes differ by kind, see `fileSize`). */
const KIND_WEIGHTS: Array<[FileKind, number]> = [
  ['ts', 20],
  ['js', 5],
  ['min-js', 3],
  ['py', 11],
  ['go', 8],
  ['json', 5],
  ['yaml', 3],
  ['k8s', 2],
  ['env', 1],
  ['mcp', 1],
  ['md', 10],
  ['csv', 5],
  ['jsonl', 12],
  ['log', 8],
  ['lock', 5],
];
const WEIGHT_SUM = KIND_WEIGHTS.reduce((s, [, w]) => s + w, 0);

function pickKind(r: Rand): FileKind {
  let x = r() * WEIGHT_SUM;
  for (const [k, w] of KIND_WEIGHTS) {
    x -= w;
    if (x < 0) return k;
  }
  return 'ts';
}

function fileSize(r: Rand, kind: FileKind): number {
  if (kind === 'env' || kind === 'mcp') return int(r, 300, 3_000);
  // A few large data and log files; otherwise log-uniform between 1 KB and 200 KB.
  if ((kind === 'jsonl' || kind === 'csv' || kind === 'log' || kind === 'min-js') && r() < 0.01)
    return int(r, 500_000, 3_000_000);
  return Math.round(Math.exp(Math.log(1_000) + r() * (Math.log(200_000) - Math.log(1_000))));
}

function filePath(r: Rand, kind: FileKind, n: number): string {
  const noun = pick(r, NOUNS);
  const pkg = pick(r, NOUNS);
  const sub = pick(r, ['lib', 'routes', 'handlers', 'models', 'util', 'core']);
  switch (kind) {
    case 'ts':
      return `packages/${pkg}/src/${sub}/${noun}-${pick(r, VERBS)}-${n}.ts`;
    case 'js':
      return `scripts/${pkg}/${noun}-${n}.js`;
    case 'min-js':
      return `web/dist/assets/${noun}-${n.toString(16).padStart(8, '0')}.min.js`;
    case 'py':
      return `services/${pkg}/${sub}/${noun}_${n}.py`;
    case 'go':
      return `internal/${pkg}/${noun}_${n}.go`;
    case 'json':
      return `config/${pkg}/${noun}-${n}.json`;
    case 'yaml':
      return `.github/workflows/${noun}-${n}.yml`;
    case 'k8s':
      return `deploy/k8s/${pkg}/${noun}-${n}.yaml`;
    case 'env':
      return n % 3 === 0 ? `services/${pkg}/.env.${n}` : `services/${pkg}/.env.${noun}-${n}`;
    case 'mcp':
      return n % 2 === 0 ? `tools/${pkg}-${n}/.mcp.json` : `.cursor/${noun}-${n}/mcp.json`;
    case 'md':
      return `docs/${pkg}/${noun}-${n}.md`;
    case 'csv':
      return `data/exports/${noun}-${n}.csv`;
    case 'jsonl':
      return `data/chats/${noun}-${n}.jsonl`;
    case 'log':
      return `ci/logs/${pkg}/build-${n}.log`;
    case 'lock':
      return `packages/${pkg}-${n}/package-lock.json`;
  }
}

/** Builds one file's text, tracking the current line so planted snippets get their line numbers. */
class FileText {
  private readonly parts: string[] = [];
  line = 1;
  bytes = 0;
  push(text: string): void {
    this.parts.push(text);
    this.bytes += Buffer.byteLength(text);
    this.line += newlines(text);
  }
  text(): string {
    return this.parts.join('');
  }
}

interface Pools {
  blocks: Map<FileKind, string[]>;
}

const POOL_SIZE = 96;

function buildPools(r: Rand, g: CaseGen): Pools {
  const blocks = new Map<FileKind, string[]>();
  const fill = (kind: FileKind, make: () => string): void => {
    const a: string[] = [];
    for (let i = 0; i < POOL_SIZE; i++) a.push(make());
    blocks.set(kind, a);
  };
  fill('ts', () => tsBlock(r));
  fill('js', () => tsBlock(r).replace(/: [A-Z][A-Za-z]*(\[\])?( \| null)?/g, ''));
  fill('min-js', () => minJsLine(r));
  fill('py', () => pyBlock(r));
  fill('go', () => goBlock(r));
  fill('json', () => jsonMember(r));
  fill('yaml', () => yamlBlock(r, true));
  fill('k8s', () => yamlBlock(r, false));
  fill('env', () => envLines(r));
  fill('mcp', () => mcpServer(r));
  fill('md', () => mdBlock(r));
  fill('csv', () => csvRow(r, g) + csvRow(r, g) + csvRow(r, g));
  fill('jsonl', () => chatRecord(r, g));
  fill('log', () => logLines(r, g) + logLines(r, g) + logLines(r, g));
  fill('lock', () => lockMember(r, g));
  return { blocks };
}

/** True for kinds written as one JSON object whose members are joined with commas. */
const isJsonObject = (kind: FileKind): boolean => kind === 'json' || kind === 'mcp' || kind === 'lock';

/** Reads the manifest of a corpus directory, or null when there is none (or it does not parse). */
export function readCorpusManifest(dir: string): CorpusManifest | null {
  const file = join(dir, TRUTH_FILE);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CorpusManifest;
  } catch {
    return null;
  }
}

/** True when `m` was generated by this generator with these parameters and rules. */
export function manifestMatches(m: CorpusManifest | null, opts: CorpusOptions): boolean {
  const rules = (opts.rules ?? BUILTIN_SECRET_RULES).map((r) => r.id).sort();
  return (
    m !== null &&
    m.generatorVersion === GENERATOR_VERSION &&
    m.megabytes === opts.megabytes &&
    m.seed === opts.seed &&
    JSON.stringify(m.rules) === JSON.stringify(rules)
  );
}

/**
 * Writes a corpus of about `megabytes` MB into `dir` (which must be empty, missing or an earlier corpus) and its ground truth into
 * `<dir>/.bench-truth.json`; the same seed and rules give the same bytes.
 * @example
 * const manifest = await generateCorpus('/tmp/corpus', { megabytes: 20, seed: 1 });
 */
export async function generateCorpus(dir: string, opts: CorpusOptions): Promise<CorpusManifest> {
  const started = performance.now();
  const rules = [...(opts.rules ?? BUILTIN_SECRET_RULES)].map(compileRule);
  const r = prng(opts.seed);
  const g = createCaseGen(opts.seed ^ 0x5eed);
  const pools = buildPools(r, g);
  // Only an empty directory or an earlier corpus (it has a truth file) is ever emptied.
  if (existsSync(dir) && readdirSync(dir).length > 0 && !existsSync(join(dir, TRUTH_FILE)))
    throw new Error(`${dir} is not empty and holds no ${TRUTH_FILE}: refusing to replace it with a corpus`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  const target = opts.megabytes * 1e6;
  const files: CorpusFile[] = [];
  const secrets: PlantedSecret[] = [];
  const decoys: PlantedDecoy[] = [];
  const madeDirs = new Set<string>();
  // Multi-line cases and those no structured form could hold wait for the next raw-text file.
  const pendingRaw: Plant[] = [];
  let total = 0;
  let n = 0;
  let repo = 0;
  let repoBytes = 0;
  let repoTarget = int(r, 8e6, 30e6);
  // Fractional expected counts carry over from file to file so the overall rate is exact.
  let secretDebt = 0;
  let decoyDebt = 0;

  const newPlant = (): Plant => {
    const rule = pick(r, rules);
    const text = pick(r, rule.rule.cases.positives(g));
    const hits = matchRule(rule, text);
    const value = hits.length === 1 && !text.includes('\n') ? hits[0]!.secret : null;
    return { text, value, rule };
  };

  while (total < target) {
    if (repoBytes >= repoTarget) {
      repo++;
      repoBytes = 0;
      repoTarget = int(r, 8e6, 30e6);
    }
    const kind = pickKind(r);
    const size = Math.min(fileSize(r, kind), Math.max(1_000, target - total + 1_000));
    const rel = `repo-${String(repo).padStart(3, '0')}/${filePath(r, kind, n++)}`;
    const pool = pools.blocks.get(kind)!;
    const f = new FileText();

    // What goes into this file: planted secrets and decoys at the corpus-wide rate.
    secretDebt += (size / 1e6) * SECRETS_PER_MB;
    decoyDebt += (size / 1e6) * DECOYS_PER_MB;
    const plants: Plant[] = [];
    // `.env` files and MCP configs are where credentials gather: a third of them hold one, borrowed from the rate.
    if ((kind === 'env' || kind === 'mcp') && secretDebt < 1 && r() < 0.3) secretDebt = 1;
    while (rules.length > 0 && secretDebt >= 1) {
      plants.push(RAW_KINDS.has(kind) && pendingRaw.length > 0 ? pendingRaw.shift()! : newPlant());
      secretDebt--;
    }
    const decoyCount = Math.floor(decoyDebt);
    decoyDebt -= decoyCount;
    // Insert after a random block index each, in order.
    type Item = { at: number; plant?: Plant; decoy?: { text: string; decoy: string } };
    const estBlocks = Math.max(1, Math.round(size / Math.max(200, pool[0]!.length)));
    const items: Item[] = [
      ...plants.map((plant) => ({ at: int(r, 0, estBlocks), plant })),
      ...Array.from({ length: decoyCount }, () => ({
        at: int(r, 0, estBlocks),
        decoy: decoyText(r, g, rules),
      })),
    ].sort((a, b) => a.at - b.at);

    const json = isJsonObject(kind);
    let members = 0;
    const member = (text: string): number => {
      // JSON objects: comma-separate members; the member starts on the line after the separator.
      if (json && members++ > 0) f.push(',\n');
      const line = f.line;
      f.push(json ? text : text + '\n');
      return line;
    };
    if (kind === 'ts' || kind === 'js') f.push(tsHeader(r));
    else if (kind === 'py') f.push('import os\nfrom typing import Any\n\n');
    else if (kind === 'go')
      f.push(`package ${pick(r, NOUNS)}\n\nimport (\n\t"context"\n\t"fmt"\n\t"os"\n)\n\n`);
    else if (kind === 'csv') f.push('id,name,question,answer,rating\n');
    else if (kind === 'md') f.push(`# ${cap(pick(r, NOUNS))} ${pick(r, NOUNS)}s\n\n`);
    else if (kind === 'yaml') f.push(`name: ${pick(r, NOUNS)}\non: [push]\njobs:\n`);
    else if (kind === 'k8s')
      f.push(
        `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${pick(r, NOUNS)}\nspec:\n  template:\n    spec:\n      containers:\n`,
      );
    else if (kind === 'lock')
      f.push(`{\n  "name": "${pick(r, NOUNS)}",\n  "lockfileVersion": 3,\n  "packages": {\n`);
    else if (kind === 'mcp') f.push('{\n  "mcpServers": {\n');
    else if (kind === 'json') f.push('{\n');

    let block = 0;
    let next = 0;
    const place = (item: Item): void => {
      if (item.plant) {
        const p = item.plant;
        const forms = plantForms(kind, p, r);
        // A specific form is used only when the owning rule still reports the value written that way.
        const form = RAW_KINDS.has(kind)
          ? (forms.find((t, i) => i === forms.length - 1 || matchRule(p.rule, t).length > 0) ?? p.text)
          : forms.find((t) => matchRule(p.rule, t).length > 0);
        if (form === undefined) {
          pendingRaw.push(p);
          secretDebt++;
          return;
        }
        const line = member(form);
        secrets.push({
          path: rel,
          line,
          endLine: line + newlines(form),
          ruleId: p.rule.rule.id,
          provider: p.rule.rule.provider,
          kind,
        });
      } else if (item.decoy) {
        const form = decoyForm(kind, item.decoy.text);
        const line = member(form);
        decoys.push({ path: rel, line, endLine: line + newlines(form), decoy: item.decoy.decoy });
      }
    };
    while (f.bytes < size || next < items.length) {
      while (next < items.length && items[next]!.at <= block) place(items[next++]!);
      if (f.bytes >= size && next >= items.length) break;
      const b = pool[Math.floor(r() * pool.length)]!;
      if (json) {
        if (members++ > 0) f.push(',\n');
        f.push(b);
      } else f.push(b);
      block++;
    }
    if (kind === 'lock') f.push('\n  }\n}\n');
    else if (kind === 'mcp') f.push('\n  }\n}\n');
    else if (kind === 'json') f.push('\n}\n');

    const abs = join(dir, rel);
    const parent = dirname(abs);
    if (!madeDirs.has(parent)) {
      mkdirSync(parent, { recursive: true });
      madeDirs.add(parent);
    }
    const text = f.text();
    writeFileSync(abs, text);
    files.push({ path: rel, bytes: f.bytes, kind });
    total += f.bytes;
    // Files overshoot their planned size by up to a block: keep the rates per byte actually written.
    secretDebt += ((f.bytes - size) / 1e6) * SECRETS_PER_MB;
    decoyDebt += ((f.bytes - size) / 1e6) * DECOYS_PER_MB;
    repoBytes += f.bytes;
  }

  const manifest: CorpusManifest = {
    generatorVersion: GENERATOR_VERSION,
    megabytes: opts.megabytes,
    seed: opts.seed,
    rules: rules.map((c) => c.rule.id).sort(),
    bytes: total,
    files,
    secrets,
    decoys,
    generatedSeconds: (performance.now() - started) / 1000,
  };
  writeFileSync(join(dir, TRUTH_FILE), JSON.stringify(manifest));
  return manifest;
}
