/**
 * Decides whether a configuration value is a credential, of which type and for which provider, from the value's
 * format (known token prefixes, PEM blocks, JWTs, connection strings, auth header schemes) and, for values
 * without a known format, from the name of the key it sits under (`*_TOKEN`, `*_SECRET`, `*PASSWORD*`, …).
 * Pure functions: nothing here keeps, logs or returns a secret except in `secret`, which the caller fingerprints.
 */
import { shannonEntropy } from '../../core/randomness.js';
import type { CredentialType } from '../../core/types.js';

/** What a credential-looking value is. */
export interface DetectedCredential {
  type: CredentialType;
  /** Best guess of the issuing service: `github`, `openai`, `aws`, … or `unknown`. */
  provider: string;
  /** The exact text to fingerprint: the token inside `Bearer …`, the password inside a connection string. */
  secret: string;
  /** `reference` when what is fingerprinted is an identifier, not a secret (an AWS access key id). */
  fingerprintSource: 'value' | 'reference';
  /** A provider key id that is not secret (the AWS access key id), else null. */
  externalId: string | null;
  /** Expiry read from the value itself (a JWT's `exp`), else null. */
  expiresAt: string | null;
  /** Facts about the format, never the value: `{ classic: true }`, `{ scheme: 'bearer' }`. */
  attributes: Record<string, unknown>;
  /** Why it was flagged: `format ghp_`, `key name`, `connection string`, … */
  reason: string;
}

/** Context that helps classify a value. */
export interface DetectOptions {
  /** The variable, header, flag or JSON key the value sits under (`GITHUB_TOKEN`, `X-Api-Key`, `--api-key`). */
  keyName?: string | null;
  /** Further words for guessing the provider when the value does not say (a server name, a URL host). */
  hints?: readonly string[];
}

interface TokenFormat {
  re: RegExp;
  type: CredentialType;
  provider: string;
  reason: string;
  attributes?: (value: string) => Record<string, unknown>;
  /** The provider may be replaced by a hint (`sk-` keys are issued by several OpenAI-compatible services). */
  generic?: boolean;
}

const SLACK_KINDS: Record<string, string> = { b: 'bot', p: 'user', a: 'app', r: 'refresh', e: 'rotating' };

// Known token formats, most specific first. Sources: each provider's documented token prefixes
// (GitHub "Behind GitHub's new authentication token formats", Slack token types, AWS access key id prefixes, …).
const TOKEN_FORMATS: TokenFormat[] = [
  {
    re: /^github_pat_[A-Za-z0-9_]{22,}$/,
    type: 'pat',
    provider: 'github',
    reason: 'format github_pat_',
    attributes: () => ({ fineGrained: true }),
  },
  {
    re: /^ghp_[A-Za-z0-9]{20,}$/,
    type: 'pat',
    provider: 'github',
    reason: 'format ghp_',
    attributes: () => ({ classic: true }),
  },
  {
    re: /^gho_[A-Za-z0-9]{20,}$/,
    type: 'oauth-token',
    provider: 'github',
    reason: 'format gho_',
    attributes: () => ({ tokenKind: 'oauth-app' }),
  },
  {
    re: /^ghu_[A-Za-z0-9]{20,}$/,
    type: 'oauth-token',
    provider: 'github',
    reason: 'format ghu_',
    attributes: () => ({ tokenKind: 'user-to-server' }),
  },
  {
    re: /^ghs_[A-Za-z0-9]{20,}$/,
    type: 'oauth-token',
    provider: 'github',
    reason: 'format ghs_',
    attributes: () => ({ tokenKind: 'installation' }),
  },
  {
    re: /^ghr_[A-Za-z0-9]{20,}$/,
    type: 'oauth-token',
    provider: 'github',
    reason: 'format ghr_',
    attributes: () => ({ tokenKind: 'refresh' }),
  },
  { re: /^glpat-[A-Za-z0-9_-]{20,}$/, type: 'pat', provider: 'gitlab', reason: 'format glpat-' },
  {
    re: /^sk-ant-admin\d*-[A-Za-z0-9_-]{20,}$/,
    type: 'api-key',
    provider: 'anthropic',
    reason: 'format sk-ant-admin',
    attributes: () => ({ admin: true }),
  },
  {
    re: /^sk-ant-[a-z]{3}\d{2}-[A-Za-z0-9_-]{20,}$/,
    type: 'api-key',
    provider: 'anthropic',
    reason: 'format sk-ant-',
  },
  {
    re: /^sk-proj-[A-Za-z0-9_-]{20,}$/,
    type: 'api-key',
    provider: 'openai',
    reason: 'format sk-proj-',
    attributes: () => ({ project: true }),
  },
  {
    re: /^sk-svcacct-[A-Za-z0-9_-]{20,}$/,
    type: 'api-key',
    provider: 'openai',
    reason: 'format sk-svcacct-',
    attributes: () => ({ serviceAccount: true }),
  },
  {
    re: /^sk-admin-[A-Za-z0-9_-]{20,}$/,
    type: 'api-key',
    provider: 'openai',
    reason: 'format sk-admin-',
    attributes: () => ({ admin: true }),
  },
  {
    re: /^[sr]k_(live|test)_[A-Za-z0-9]{16,}$/,
    type: 'api-key',
    provider: 'stripe',
    reason: 'format sk_/rk_',
    attributes: (v) => ({ live: v.includes('_live_'), restricted: v.startsWith('rk_') }),
  },
  { re: /^whsec_[A-Za-z0-9+/=]{16,}$/, type: 'webhook-secret', provider: 'stripe', reason: 'format whsec_' },
  { re: /^sk-[A-Za-z0-9_-]{20,}$/, type: 'api-key', provider: 'openai', reason: 'format sk-', generic: true },
  {
    re: /^xox[bpare]-[A-Za-z0-9-]{10,}$/,
    type: 'oauth-token',
    provider: 'slack',
    reason: 'format xox?-',
    attributes: (v) => ({ tokenKind: SLACK_KINDS[v[3]!] }),
  },
  {
    re: /^xapp-\d-[A-Za-z0-9-]{10,}$/,
    type: 'oauth-token',
    provider: 'slack',
    reason: 'format xapp-',
    attributes: () => ({ tokenKind: 'app-level' }),
  },
  { re: /^npm_[A-Za-z0-9]{30,}$/, type: 'api-key', provider: 'npm', reason: 'format npm_' },
  { re: /^AIza[0-9A-Za-z_-]{35}$/, type: 'api-key', provider: 'google', reason: 'format AIza' },
  { re: /^ya29\.[0-9A-Za-z_-]{20,}$/, type: 'oauth-token', provider: 'google', reason: 'format ya29.' },
  { re: /^hf_[A-Za-z0-9]{30,}$/, type: 'api-key', provider: 'huggingface', reason: 'format hf_' },
  { re: /^pypi-[A-Za-z0-9_-]{50,}$/, type: 'api-key', provider: 'pypi', reason: 'format pypi-' },
  {
    re: /^SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}$/,
    type: 'api-key',
    provider: 'sendgrid',
    reason: 'format SG.',
  },
  { re: /^sbp_[A-Za-z0-9]{30,}$/, type: 'pat', provider: 'supabase', reason: 'format sbp_' },
  {
    re: /^sntry[su]_[A-Za-z0-9+/=_-]{30,}$/,
    type: 'api-key',
    provider: 'sentry',
    reason: 'format sntrys_/sntryu_',
  },
  { re: /^lin_api_[A-Za-z0-9]{30,}$/, type: 'api-key', provider: 'linear', reason: 'format lin_api_' },
  {
    re: /^(ntn_[A-Za-z0-9]{30,}|secret_[A-Za-z0-9]{43})$/,
    type: 'api-key',
    provider: 'notion',
    reason: 'format ntn_/secret_',
  },
  { re: /^pplx-[A-Za-z0-9]{30,}$/, type: 'api-key', provider: 'perplexity', reason: 'format pplx-' },
  { re: /^gsk_[A-Za-z0-9]{30,}$/, type: 'api-key', provider: 'groq', reason: 'format gsk_' },
  { re: /^xai-[A-Za-z0-9]{30,}$/, type: 'api-key', provider: 'xai', reason: 'format xai-' },
  { re: /^figd_[A-Za-z0-9_-]{30,}$/, type: 'pat', provider: 'figma', reason: 'format figd_' },
  { re: /^tvly-[A-Za-z0-9-]{20,}$/, type: 'api-key', provider: 'tavily', reason: 'format tvly-' },
  { re: /^r8_[A-Za-z0-9]{30,}$/, type: 'api-key', provider: 'replicate', reason: 'format r8_' },
  { re: /^dapi[a-f0-9]{32}(-\d+)?$/, type: 'pat', provider: 'databricks', reason: 'format dapi' },
  { re: /^shp(at|ca|pa|ss)_[a-fA-F0-9]{32}$/, type: 'api-key', provider: 'shopify', reason: 'format shpat_' },
];

const AWS_KEY_ID = /^(AKIA|ASIA)[0-9A-Z]{16}$/;
const JWT = /^eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*$/;
const PEM_PRIVATE =
  /-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----[\s\S]*?-----END \1-----/;
const AUTH_SCHEME = /^(Bearer|Basic|token|Token|Bot|ApiKey|Api-Key|Key|Digest)\s+(\S[\s\S]*)$/i;
const URL_WITH_USERINFO = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#\s]*)@([^/?#\s]*)/;
const WEBHOOK_URLS: Array<{ re: RegExp; provider: string }> = [
  { re: /^https:\/\/hooks\.slack\.com\/(services|workflows|triggers)\/\S+$/, provider: 'slack' },
  { re: /^https:\/\/(discord|discordapp)\.com\/api\/webhooks\/\d+\/\S+$/, provider: 'discord' },
];
const CONNECTION_PROVIDERS: Record<string, string> = {
  postgres: 'postgres',
  postgresql: 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
  mongodb: 'mongodb',
  'mongodb+srv': 'mongodb',
  redis: 'redis',
  rediss: 'redis',
  amqp: 'rabbitmq',
  amqps: 'rabbitmq',
  mssql: 'mssql',
  sqlserver: 'mssql',
  clickhouse: 'clickhouse',
  nats: 'nats',
  kafka: 'kafka',
  ftp: 'ftp',
  sftp: 'sftp',
  smtp: 'smtp',
  smtps: 'smtp',
  ldap: 'ldap',
  ldaps: 'ldap',
};

/**
 * True for values that point at a secret kept elsewhere rather than holding one: `${env:X}`, `${X}`, `$X`,
 * `$(cmd)`, `%X%`, `{{ secrets.X }}`, `op://…`, `vault:…`, secret manager ARNs, and empty values.
 */
export function isSecretReference(value: string): boolean {
  const v = value.trim();
  if (v === '') return true;
  return (
    /^\$\{[^}]*\}$/.test(v) ||
    /^\$[A-Za-z_][A-Za-z0-9_]*$/.test(v) ||
    /^\$\([^)]*\)$/.test(v) ||
    /^%[A-Za-z_][A-Za-z0-9_]*%$/.test(v) ||
    /^\{\{[\s\S]*\}\}$/.test(v) ||
    /^(op|vault|vaults|doppler|infisical|keyring|gcpsm|azkv|secretsmanager|ssm|sops|bws|akv|env|file):/i.test(
      v,
    ) ||
    /^arn:aws[a-z-]*:(secretsmanager|ssm):/.test(v)
  );
}

/** True for values people write in place of a secret: `<your-token>`, `xxx`, `changeme`, `your_api_key_here`. */
export function isPlaceholder(value: string): boolean {
  const v = value.trim();
  return (
    /^(x+|\*+|\.+|-+|_+|#+|0+|•+)$/i.test(v) ||
    /^<[^<>]*>$/.test(v) ||
    /^\[[^[\]]*\]$/.test(v) ||
    /^(todo|tbd|tbc|none|null|nil|undefined|empty|changeme|change[-_]?me|change[-_]?it|replace[-_]?me|example|sample|dummy|placeholder|secret|password|passwd|token|api[-_]?key|redacted|hidden|n\/a|true|false|yes|no|on|off)$/i.test(
      v,
    ) ||
    /^(your|enter|insert|put|add|my)[-_ ]/i.test(v) ||
    /[-_ ]here$/i.test(v)
  );
}

/** Splits a key name into lower-case words: `openaiApiKey` → openai, api, key; `X-GitHub-Token` → x, github, token. */
export function keyWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
}

const SECRET_WORDS = new Set([
  'token',
  'secret',
  'secrets',
  'password',
  'passwd',
  'pwd',
  'pass',
  'passphrase',
  'apikey',
  'key',
  'credential',
  'credentials',
  'auth',
  'authorization',
  'pat',
  'privatekey',
  'accesskey',
  'secretkey',
  'authtoken',
  'accesstoken',
  'clientsecret',
  'bearer',
]);
const PASSWORD_WORDS = new Set(['password', 'passwd', 'pwd', 'pass', 'passphrase']);
// A key ending in one of these names something about a secret (its id, file, URL, expiry), not the secret.
const NON_SECRET_LAST = new Set([
  'id',
  'ids',
  'name',
  'names',
  'file',
  'path',
  'dir',
  'url',
  'uri',
  'endpoint',
  'host',
  'hostname',
  'port',
  'region',
  'type',
  'kind',
  'length',
  'size',
  'ttl',
  'expiry',
  'expires',
  'expiration',
  'arn',
  'prefix',
  'header',
  'field',
  'count',
  'enabled',
  'enable',
  'disabled',
  'required',
  'version',
  'format',
  'alg',
  'algorithm',
  'env',
  'user',
  'username',
  'email',
  'location',
  'mode',
  'scope',
  'scopes',
  'issuer',
  'audience',
  'hint',
  'label',
  'provider',
  'timeout',
  'interval',
  'days',
  'seconds',
  'hours',
  'minutes',
  'at',
  'date',
  'time',
  'policy',
  'role',
  'rotation',
  'store',
  'vault',
  'command',
  'cmd',
  'helper',
]);
// A key containing one of these is about something that is not secret (a public key, a sort key).
const NON_SECRET_WORDS = new Set([
  'public',
  'publishable',
  'pub',
  'partition',
  'sort',
  'primary',
  'foreign',
  'routing',
  'cache',
  'idempotency',
  'keyboard',
  'monkey',
  'turkey',
]);

/** True when a key name says its value is a secret: `*_TOKEN`, `*_KEY`, `*_SECRET`, `*PASSWORD*`, `Authorization`, `--api-key`. */
export function isSecretKeyName(name: string): boolean {
  const words = keyWords(name);
  if (words.length === 0) return false;
  if (words.some((w) => NON_SECRET_WORDS.has(w))) return false;
  if (NON_SECRET_LAST.has(words[words.length - 1]!)) return false;
  if (words.some((w) => SECRET_WORDS.has(w))) return true;
  return /apikey|accesskey|secretkey|privatekey|authtoken|accesstoken|clientsecret|password|passwd|passphrase/.test(
    words.join(''),
  );
}

const PROVIDER_WORDS: Record<string, string> = {
  github: 'github',
  gh: 'github',
  ghcr: 'github',
  githubcopilot: 'github',
  gitlab: 'gitlab',
  glab: 'gitlab',
  openai: 'openai',
  anthropic: 'anthropic',
  claude: 'anthropic',
  slack: 'slack',
  aws: 'aws',
  amazon: 'aws',
  amazonaws: 'aws',
  npm: 'npm',
  npmjs: 'npm',
  google: 'google',
  googleapis: 'google',
  gcp: 'google',
  gemini: 'google',
  firebase: 'google',
  gcloud: 'google',
  stripe: 'stripe',
  azure: 'azure',
  datadog: 'datadog',
  dd: 'datadog',
  sentry: 'sentry',
  twilio: 'twilio',
  sendgrid: 'sendgrid',
  huggingface: 'huggingface',
  hf: 'huggingface',
  notion: 'notion',
  linear: 'linear',
  supabase: 'supabase',
  postgres: 'postgres',
  postgresql: 'postgres',
  pg: 'postgres',
  mysql: 'mysql',
  mongodb: 'mongodb',
  mongo: 'mongodb',
  redis: 'redis',
  jira: 'atlassian',
  atlassian: 'atlassian',
  confluence: 'atlassian',
  brave: 'brave',
  cloudflare: 'cloudflare',
  vercel: 'vercel',
  netlify: 'netlify',
  heroku: 'heroku',
  docker: 'docker',
  dockerhub: 'docker',
  pagerduty: 'pagerduty',
  discord: 'discord',
  telegram: 'telegram',
  mistral: 'mistral',
  cohere: 'cohere',
  groq: 'groq',
  perplexity: 'perplexity',
  deepseek: 'deepseek',
  openrouter: 'openrouter',
  replicate: 'replicate',
  pinecone: 'pinecone',
  figma: 'figma',
  okta: 'okta',
  auth0: 'auth0',
  shopify: 'shopify',
  mailgun: 'mailgun',
  algolia: 'algolia',
  airtable: 'airtable',
  elastic: 'elastic',
  elasticsearch: 'elastic',
  snowflake: 'snowflake',
  databricks: 'databricks',
  kubernetes: 'kubernetes',
  k8s: 'kubernetes',
  kube: 'kubernetes',
  tavily: 'tavily',
  exa: 'exa',
  firecrawl: 'firecrawl',
  xai: 'xai',
  grafana: 'grafana',
  newrelic: 'newrelic',
  circleci: 'circleci',
};

/** Guesses the provider from words in key names and hints (`GITHUB_TOKEN`, `api.githubcopilot.com`); `unknown` when none says. */
export function guessProvider(...sources: Array<string | null | undefined>): string {
  for (const s of sources) {
    if (!s) continue;
    for (const w of keyWords(s)) {
      const p = PROVIDER_WORDS[w];
      if (p) return p;
    }
  }
  return 'unknown';
}

function result(
  partial: Pick<DetectedCredential, 'type' | 'provider' | 'secret' | 'reason'> & Partial<DetectedCredential>,
): DetectedCredential {
  return {
    fingerprintSource: 'value',
    externalId: null,
    expiresAt: null,
    attributes: {},
    ...partial,
  };
}

/** Classifies a value by its format alone (token prefixes, AWS key ids, JWTs); null when it has no known format. */
export function classifyTokenFormat(value: string, hints: readonly string[] = []): DetectedCredential | null {
  const v = value.trim();
  if (AWS_KEY_ID.test(v)) {
    return result({
      type: 'access-key',
      provider: 'aws',
      secret: v,
      fingerprintSource: 'reference',
      externalId: v,
      attributes: v.startsWith('ASIA') ? { temporary: true } : {},
      reason: `format ${v.slice(0, 4)}`,
    });
  }
  for (const f of TOKEN_FORMATS) {
    if (!f.re.test(v)) continue;
    const hinted = f.generic ? guessProvider(...hints) : 'unknown';
    return result({
      type: f.type,
      provider: hinted !== 'unknown' ? hinted : f.provider,
      secret: v,
      attributes: f.attributes?.(v) ?? {},
      reason: f.reason,
    });
  }
  if (JWT.test(v)) {
    const claims = jwtClaims(v);
    const issuer = typeof claims?.iss === 'string' ? claims.iss : null;
    const exp = typeof claims?.exp === 'number' && Number.isFinite(claims.exp) ? claims.exp : null;
    return result({
      type: 'jwt',
      provider: guessProvider(...hints, issuer),
      secret: v,
      expiresAt: exp !== null && Math.abs(exp) < 8.64e12 ? new Date(exp * 1000).toISOString() : null,
      attributes: issuer ? { issuer } : {},
      reason: 'format JWT',
    });
  }
  return null;
}

function jwtClaims(jwt: string): Record<string, unknown> | null {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as unknown;
    return payload && typeof payload === 'object' && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function fromAuthScheme(value: string, hints: readonly string[]): DetectedCredential | null | undefined {
  const m = AUTH_SCHEME.exec(value.trim());
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  const token = m[2]!.trim();
  if (isSecretReference(token) || isPlaceholder(token) || /\$\{[^}]*\}/.test(token)) return null;
  if (scheme === 'basic') {
    return result({
      type: 'basic-auth',
      provider: guessProvider(...hints),
      secret: token,
      attributes: { scheme: 'basic' },
      reason: 'Basic authorization value',
    });
  }
  if (scheme === 'digest') return null;
  const known = classifyTokenFormat(token, hints);
  if (known)
    return { ...known, attributes: { ...known.attributes, scheme }, reason: `${m[1]} ${known.reason}` };
  if (token.length < 8 || /\s/.test(token)) return null;
  return result({
    type: 'api-key',
    provider: guessProvider(...hints),
    secret: token,
    attributes: { scheme },
    reason: `${m[1]} authorization value`,
  });
}

function pemBody(pem: string): string {
  return pem
    .replace(/-----(BEGIN|END) [A-Z ]+-----/g, '\n')
    .split(/\r?\n/)
    .filter((l) => !/^[A-Za-z-]+:/.test(l.trim()))
    .join('')
    .replace(/\s+/g, '');
}

function fromPem(value: string, hints: readonly string[]): DetectedCredential | null {
  const normalised = value.includes('\\n') && !value.includes('\n') ? value.replace(/\\n/g, '\n') : value;
  const m = PEM_PRIVATE.exec(normalised);
  if (!m) return null;
  const label = m[1]!;
  const isGcpKey =
    /"type"\s*:\s*"service_account"/.test(normalised) || /gserviceaccount\.com/.test(normalised);
  return result({
    type: 'private-key',
    provider: isGcpKey ? 'google' : guessProvider(...hints),
    // The key body without armour, headers or line breaks, so the same key fingerprints alike however it is wrapped.
    secret: pemBody(m[0]),
    attributes: {
      keyFormat: label.replace(/ ?PRIVATE KEY( BLOCK)?$/, '') || 'PKCS8',
      ...(isGcpKey ? { gcpServiceAccountKey: true } : {}),
    },
    reason: `PEM ${label}`,
  });
}

function fromUrl(value: string, hints: readonly string[]): DetectedCredential | null {
  const v = value.trim();
  for (const w of WEBHOOK_URLS) {
    if (w.re.test(v))
      return result({ type: 'webhook-secret', provider: w.provider, secret: v, reason: 'webhook URL' });
  }
  const m = URL_WITH_USERINFO.exec(v);
  if (m) {
    const scheme = m[1]!.toLowerCase();
    const userinfo = m[2]!;
    const colon = userinfo.indexOf(':');
    const rawPassword = colon === -1 ? '' : userinfo.slice(colon + 1);
    let password = rawPassword;
    try {
      password = decodeURIComponent(rawPassword);
    } catch {
      // Not percent-encoded; keep as written.
    }
    if (
      password !== '' &&
      !isSecretReference(password) &&
      !isPlaceholder(password) &&
      !/\$\{[^}]*\}/.test(password)
    ) {
      const host = m[3]!;
      const known = classifyTokenFormat(password, hints);
      if (known)
        return { ...known, attributes: { ...known.attributes, host }, reason: `${known.reason} in URL` };
      const isHttp = scheme === 'http' || scheme === 'https';
      return result({
        type: isHttp ? 'basic-auth' : 'connection-string',
        provider: CONNECTION_PROVIDERS[scheme] ?? guessProvider(...hints, host),
        secret: password,
        attributes: { scheme, host },
        reason: isHttp ? 'password in URL' : 'connection string with password',
      });
    }
  }
  const q = v.indexOf('?');
  if (!/^[a-zA-Z][a-zA-Z0-9+.:-]*:\/\//.test(v) || q === -1) return null;
  for (const part of v.slice(q + 1).split(/[&#]/)) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    let name = part.slice(0, eq);
    let val = part.slice(eq + 1);
    try {
      name = decodeURIComponent(name);
      val = decodeURIComponent(val.replace(/\+/g, ' '));
    } catch {
      continue;
    }
    const found = detectCredential(val, { keyName: name, hints });
    if (found)
      return {
        ...found,
        attributes: { ...found.attributes, queryParam: name },
        reason: `${found.reason} in URL query`,
      };
  }
  return null;
}

function typeFromKeyName(words: string[]): { type: CredentialType; password: boolean } {
  const has = (w: string): boolean => words.includes(w);
  const joined = words.join('');
  if (words.some((w) => PASSWORD_WORDS.has(w)) || /password|passwd|passphrase/.test(joined)) {
    return { type: 'password', password: true };
  }
  if ((has('client') && has('secret')) || joined.includes('clientsecret'))
    return { type: 'oauth-client-secret', password: false };
  if ((has('webhook') || has('signing')) && has('secret')) return { type: 'webhook-secret', password: false };
  if ((has('private') && has('key')) || joined.includes('privatekey'))
    return { type: 'private-key', password: false };
  if (has('aws') && has('secret')) return { type: 'access-key', password: false };
  if (has('secret') && has('access') && has('key')) return { type: 'access-key', password: false };
  if ((has('personal') && has('access') && has('token')) || has('pat'))
    return { type: 'pat', password: false };
  if (has('token') && (has('access') || has('refresh') || has('oauth') || has('bearer') || has('id'))) {
    return { type: 'oauth-token', password: false };
  }
  return { type: 'api-key', password: false };
}

function fromKeyName(value: string, keyName: string, hints: readonly string[]): DetectedCredential | null {
  if (!isSecretKeyName(keyName)) return null;
  const v = value.trim();
  if (isPlaceholder(v) || /^-?\d+(\.\d+)?$/.test(v)) return null;
  if (/^(\/|\.\.?\/|~\/|[A-Za-z]:\\)/.test(v) || /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(v)) return null;
  if (/\$\{[^}]*\}/.test(v)) return null;
  const words = keyWords(keyName);
  const { type, password } = typeFromKeyName(words);
  if (password) {
    if ([...v].length < 4) return null;
  } else if ([...v].length < 12 || /\s/.test(v) || shannonEntropy(v) < 3) {
    return null;
  }
  const provider = guessProvider(keyName, ...hints);
  return result({ type, provider, secret: v, reason: `key name ${keyName}` });
}

/**
 * Decides whether a value is a credential. References to secrets kept elsewhere (`${env:X}`, `op://…`) and
 * placeholders are not. Known formats win over key names; key names only flag values that look like secrets.
 * @example detectCredential('ghp_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE0000', { keyName: 'GITHUB_TOKEN' })?.type // 'pat'
 */
export function detectCredential(value: string, options: DetectOptions = {}): DetectedCredential | null {
  const keyName = options.keyName ?? null;
  const hints = [...(keyName ? [keyName] : []), ...(options.hints ?? [])];
  if (typeof value !== 'string' || isSecretReference(value)) return null;
  const v = value.trim();
  const pem = fromPem(v, hints);
  if (pem) return pem;
  const known = classifyTokenFormat(v, hints);
  if (known) return known;
  const scheme = fromAuthScheme(v, hints);
  if (scheme !== undefined) return scheme;
  const url = fromUrl(v, hints);
  if (url) return url;
  if (keyName) return fromKeyName(v, keyName, hints);
  return null;
}
