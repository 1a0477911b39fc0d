/**
 * Rules for credentials that are not one provider's: private keys (PEM, OpenSSH, PuTTY, PGP), JWTs, connection
 * URLs with passwords, basic auth in URLs, Authorization headers, and generic `password=` / `api_key:` /
 * `secret` assignments scored by entropy and context.
 */
import { assignmentFollows, isPlaceholder, shannonEntropy } from '../secret-checks.js';
import type { CaseGen, SecretRule } from '../secret-types.js';
import { decodeBase64Json } from './rule-kit.js';

const DASHES = '-----';

/** Decodes base64 (standard or url, padding optional, whitespace and JSON-escaped newlines removed). */
function decodeBase64(text: string): Buffer | null {
  const clean = text.replace(/\\[nr]|\s/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(clean) || clean.length < 16) return null;
  return Buffer.from(clean.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** The base64 body of a PEM block, without its header lines (`Proc-Type:`, `DEK-Info:`). */
function pemBody(block: string): string {
  const inner = block.replace(/^-----BEGIN [^-]+-----/, '').replace(/-----END [^-]+-----$/, '');
  return inner
    .split(/\\n|\r?\n/)
    .filter((l) => !/^[A-Za-z-]+:/.test(l.trim()))
    .join('');
}

/** A PEM private key whose body decodes to DER (a SEQUENCE) or, for OpenSSH, to the `openssh-key-v1` magic. */
function validPrivateKeyBlock(block: string): boolean {
  const der = decodeBase64(pemBody(block));
  if (!der || der.length < 48) return false;
  if (block.includes('OPENSSH')) return der.subarray(0, 15).toString('latin1') === 'openssh-key-v1\0';
  return der[0] === 0x30;
}

/** A random DER-looking PEM body: a SEQUENCE header and random content, wrapped at 64 columns. */
function fakePemBody(g: CaseGen, sep: string, magic?: string): string {
  const head = magic ? Buffer.from(magic, 'latin1') : Buffer.from([0x30, 0x82, 0x04, 0xa4]);
  const body = Buffer.concat([head, Buffer.from(g.base64(600), 'base64')]).toString('base64');
  return body.match(/.{1,64}/g)!.join(sep);
}

function pem(g: CaseGen, label: string, sep = '\n', magic?: string): string {
  return `${DASHES}BEGIN ${label}${DASHES}${sep}${fakePemBody(g, sep, magic)}${sep}${DASHES}END ${label}${DASHES}`;
}

const b64urlLength = (bytes: number): number => Math.ceil((bytes * 4) / 3);
const RSA_LENGTHS = [256, 384, 512].map(b64urlLength);
/** Base64url lengths of JWS signatures by algorithm: HMAC tag sizes, ECDSA R||S, Ed25519/Ed448, RSA moduli. */
const JWS_SIGNATURE_LENGTHS: Record<string, number[]> = {
  HS256: [b64urlLength(32)],
  HS384: [b64urlLength(48)],
  HS512: [b64urlLength(64)],
  ES256: [b64urlLength(64)],
  ES256K: [b64urlLength(64)],
  ES384: [b64urlLength(96)],
  ES512: [b64urlLength(132)],
  EdDSA: [b64urlLength(64), b64urlLength(114)],
  Ed25519: [b64urlLength(64)],
  RS256: RSA_LENGTHS,
  RS384: RSA_LENGTHS,
  RS512: RSA_LENGTHS,
  PS256: RSA_LENGTHS,
  PS384: RSA_LENGTHS,
  PS512: RSA_LENGTHS,
};

/** A JWT whose header and payload are JSON objects and whose signature has its algorithm's length. */
export function validJwt(jwt: string): boolean {
  const [h, p, sig] = jwt.split('.');
  const header = decodeBase64Json(h!);
  if (header === null || typeof header['alg'] !== 'string' || decodeBase64Json(p!) === null) return false;
  // The signature has the length its algorithm produces (RFC 7518 §3); `SIGNATURE` or `sig` is a sample.
  const lengths = JWS_SIGNATURE_LENGTHS[header['alg']];
  return lengths ? lengths.includes((sig ?? '').length) : shannonEntropy(sig ?? '') >= 3.5;
}

// Passwords that are defaults or examples, not secrets (compared lower-case).
const DEFAULT_PASSWORDS = new Set([
  'password',
  'passwd',
  'pass',
  'pwd',
  'secret',
  'root',
  'admin',
  'test',
  'user',
  'guest',
  'postgres',
  'mysql',
  'redis',
  'mongo',
  'rabbitmq',
  'changeme',
  'example',
  'pa55word',
  'p4ssw0rd',
  'password1',
  'password123',
  'qwerty',
  'letmein',
  'default',
]);

/** True when a password taken from a URL or assignment is a default, the user name again, or a template. */
function weakOrTemplatePassword(password: string, user = ''): boolean {
  const p = password.toLowerCase();
  if (DEFAULT_PASSWORDS.has(p) || p === user.toLowerCase()) return true;
  if (/^[*x•.]+$/i.test(p) || /[${}<>%]/.test(p)) return true;
  return false;
}

const URL_SCHEMES = [
  'postgres',
  'postgresql',
  'mysql',
  'mariadb',
  'mongodb',
  'mongodb+srv',
  'redis',
  'rediss',
  'amqp',
  'amqps',
  'mssql',
  'sqlserver',
  'oracle',
  'cockroachdb',
  'clickhouse',
  'nats',
  'kafka',
  'memcached',
  'couchdb',
  'neo4j',
  'neo4j+s',
  'bolt',
  'ldap',
  'ldaps',
  'ftp',
  'sftp',
  'smtp',
  'smtps',
  'mqtt',
  'mqtts',
  'jdbc:postgresql',
  'jdbc:mysql',
];

// Secret-ish names in identifiers: `DB_PASSWORD`, `apiKey`, `client_secret`, `auth-token`.
const SECRET_NAME =
  /(?:pass(?:word|wd|phrase)?|pwd|secret|api[_.-]?key|apikey|access[_.-]?key|private[_.-]?key|(?:auth|access|refresh|bearer|api|session)[_.-]?token|token|credentials?|client[_.-]?secret|signing[_.-]?key|encryption[_.-]?key)/i;
// Names that contain a secret word but hold no secret: `token_url`, `password_min_length`, `secret_name`,
// `hashed_token`, `tokenJti`, `ADMIN_TOKEN_SETTING`.
const NOT_SECRET_NAME =
  /(?:url|uri|endpoint|path|file|dir|name|id|ids|type|length|len|count|policy|expir\w*|ttl|timeout|prefix|header|field|param|label|hint|description|placeholder|regex|pattern|env|var|format|mode|enabled|required|setting|jti|kid|scope|version|size|usage|method|algorithm|alg)s?$/i;
const HASH_NAME = /hash|digest|checksum|fingerprint|sha\d*|md5|salt(?!ed)|nonce|integrity/i;
// Descriptive fake values: `tk_live_UPSTREAM_SECRET_1a2b`, `agent-token.PAYLOAD.signature`.
const DESCRIPTIVE_VALUE =
  /secret|token|passw|signature|payload|example|sample|dummy|fake|test|invalid|wrong|bogus/i;

/** True when the secret word in a name ends a word (`DB_PASSWORD`, `apiKey`), not `secretlint` or `tokenizer`. */
const SECRET_NAME_ALL = new RegExp(SECRET_NAME.source, 'gi');

function secretWordEndsWord(name: string): boolean {
  const re = SECRET_NAME_ALL;
  re.lastIndex = 0;
  for (let m = re.exec(name); m !== null; m = re.exec(name)) {
    const next = name[m.index + m[0].length];
    if (next === undefined || !/[a-z]/.test(next)) return true;
  }
  return false;
}

/** A base64 value that decodes to printable text (Kubernetes Secret data): the text, else null. */
function printableBase64(value: string): string | null {
  if (value.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return null;
  const text = Buffer.from(value, 'base64').toString('utf8');
  return /^[\x20-\x7e]+$/.test(text) ? text : null;
}

/** True when a name is one a secret is assigned to (`DB_PASSWORD`, `apiKey`; not `token_url`, `secretlint`). */
function isSecretName(keyName: string): boolean {
  return (
    SECRET_NAME.test(keyName) &&
    !NOT_SECRET_NAME.test(keyName) &&
    !HASH_NAME.test(keyName) &&
    secretWordEndsWord(keyName)
  );
}

/**
 * `isSecretName` of names already judged. The generic rule's pattern matches every assignment on a line that holds a
 * secret word, whatever its name (`baseUrl: …` beside `apiKey: …`), and the same few hundred names come back line
 * after line: a lookup costs a fraction of the four regular expressions. Cleared when full, so it stays small.
 */
const secretNames = new Map<string, boolean>();
const SECRET_NAMES_MAX = 4_096;

function isSecretNameCached(keyName: string): boolean {
  let verdict = secretNames.get(keyName);
  if (verdict === undefined) {
    verdict = isSecretName(keyName);
    if (secretNames.size >= SECRET_NAMES_MAX) secretNames.clear();
    secretNames.set(keyName, verdict);
  }
  return verdict;
}

/** True when a candidate for a generic assignment looks like a random credential, not code or prose. */
export function looksLikeGenericSecret(value: string, keyName: string): boolean {
  if (!isSecretNameCached(keyName)) return false;
  if (value.length < 8 || value.length > 200) return false;
  if (/\s/.test(value)) return false;
  // Code and references: `os.getenv(...)`, `config.db.password`, `reg.clientSecret!`, paths, URLs, queries.
  if (
    /[()[\]{}&]|^[a-z_$][\w$]*(\??\.[a-z_$][\w$]*)+!?$|^[a-z_$][\w$]*!$|^\.{0,2}\/|:\/\/|^[a-z]+:[a-z]/i.test(
      value,
    )
  )
    return false;
  if (/\/[\w.-]+\.[a-z]{1,5}$/i.test(value)) return false;
  if (/^(true|false|null|none|nil|undefined|required|optional)$/i.test(value)) return false;
  // Plain words and identifiers (`my-app-secret`, `someValue`, `admin_token_sha256`, `SECRET_HASH_2`).
  if (value.split(/[-_.]/).every((part) => /^[A-Za-z]*$/.test(part) || /^\d{1,4}$/.test(part))) return false;
  if (/^[a-z]+([A-Z][a-z]+)+$/.test(value)) return false;
  if (DESCRIPTIVE_VALUE.test(value)) return false;
  const decoded = printableBase64(value);
  if (decoded !== null && (isPlaceholder(decoded) || DESCRIPTIVE_VALUE.test(decoded))) return false;
  if (/^\d+$/.test(value) || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value))
    return /pass|pwd|secret|key|token/i.test(keyName) && value.length >= 32;
  if (weakOrTemplatePassword(value)) return false;
  const classes =
    Number(/[a-z]/.test(value)) +
    Number(/[A-Z]/.test(value)) +
    Number(/\d/.test(value)) +
    Number(/[^A-Za-z0-9]/.test(value));
  const entropy = shannonEntropy(value);
  // Short values must be varied; long ones random-looking (a hex or base64 key).
  if (value.length < 16) return classes >= 3 && entropy >= 2.8;
  return classes >= 2 && entropy >= 3.2;
}

// Every name SECRET_NAME accepts holds one of these (case-insensitively), so they are the rule's prefilter.
const GENERIC_KEYWORDS = [
  'pass',
  'pwd',
  'secret',
  'apikey',
  'api_key',
  'api-key',
  'api.key',
  'accesskey',
  'access_key',
  'access-key',
  'access.key',
  'privatekey',
  'private_key',
  'private-key',
  'private.key',
  'signingkey',
  'signing_key',
  'signing-key',
  'encryptionkey',
  'encryption_key',
  'encryption-key',
  'token',
  'credential',
] as const;

/** Generic rules. */
export const GENERIC_RULES: SecretRule[] = [
  {
    id: 'private-key-pem',
    title: 'Private key (PEM: PKCS#1, PKCS#8, SEC1, DSA, encrypted)',
    severity: 'critical',
    provider: 'generic',
    type: 'private-key',
    keywords: ['private key-----'],
    // The body may use real or JSON-escaped (`\n`) line breaks; the END label must repeat the BEGIN label.
    pattern:
      /(?<secret>-----BEGIN (?<label>(?:RSA |EC |DSA |ENCRYPTED |)PRIVATE KEY)-----(?:\\[nr]|\s)+(?:[A-Za-z-]+: [^\n\\]*(?:\\n|\n))*(?:\\[nr]|[\sA-Za-z0-9+/=])+?-----END \k<label>-----)/,
    multiline: true,
    check: validPrivateKeyBlock,
    verifiedFormat: true,
    docs: 'https://www.rfc-editor.org/rfc/rfc7468',
    cases: {
      positives: (g) => [
        pem(g, 'RSA PRIVATE KEY'),
        pem(g, 'PRIVATE KEY'),
        `"private_key": "${pem(g, 'EC PRIVATE KEY', '\\n')}\\n",`,
      ],
      negatives: (g) => [
        `${DASHES}BEGIN PRIVATE KEY${DASHES}\n...\n${DASHES}END PRIVATE KEY${DASHES}`,
        `${DASHES}BEGIN RSA PRIVATE KEY${DASHES}\n${g.chars(64)}\n${DASHES}END PRIVATE KEY${DASHES}`,
        `const header = '${DASHES}BEGIN PRIVATE KEY${DASHES}';`,
        `${DASHES}BEGIN PRIVATE KEY${DASHES}\n${'QUFB'.repeat(40)}\n${DASHES}END PRIVATE KEY${DASHES}`,
      ],
    },
  },
  {
    id: 'private-key-openssh',
    title: 'OpenSSH private key',
    severity: 'critical',
    provider: 'generic',
    type: 'private-key',
    keywords: ['openssh private key'],
    pattern:
      /(?<secret>-----BEGIN OPENSSH PRIVATE KEY-----(?:\\[nr]|\s)+(?:\\[nr]|[\sA-Za-z0-9+/=])+?-----END OPENSSH PRIVATE KEY-----)/,
    multiline: true,
    check: validPrivateKeyBlock,
    verifiedFormat: true,
    docs: 'https://github.com/openssh/openssh-portable/blob/master/PROTOCOL.key',
    cases: {
      positives: (g) => [pem(g, 'OPENSSH PRIVATE KEY', '\n', 'openssh-key-v1\0')],
      negatives: (g) => [
        pem(g, 'OPENSSH PRIVATE KEY'),
        `${DASHES}BEGIN OPENSSH PRIVATE KEY${DASHES}\n<paste here>\n${DASHES}END OPENSSH PRIVATE KEY${DASHES}`,
      ],
    },
  },
  {
    id: 'private-key-pgp',
    title: 'PGP private key block',
    severity: 'critical',
    provider: 'generic',
    type: 'private-key',
    keywords: ['pgp private key block'],
    pattern:
      /(?<secret>-----BEGIN PGP PRIVATE KEY BLOCK-----(?:\\[nr]|\s)+(?:[A-Za-z-]+: [^\n\\]*(?:\\n|\n))*(?:\\[nr]|[\sA-Za-z0-9+/=])+?-----END PGP PRIVATE KEY BLOCK-----)/,
    multiline: true,
    check: (block) => (decodeBase64(pemBody(block).replace(/=[A-Za-z0-9+/]{4}$/, ''))?.length ?? 0) >= 64,
    verifiedFormat: false,
    docs: 'https://www.rfc-editor.org/rfc/rfc4880#section-6.2',
    cases: {
      positives: (g) => [
        `${DASHES}BEGIN PGP PRIVATE KEY BLOCK${DASHES}\n\n${g
          .base64(300)
          .match(/.{1,64}/g)!
          .join('\n')}\n=${g.chars(4)}\n${DASHES}END PGP PRIVATE KEY BLOCK${DASHES}`,
      ],
      negatives: () => [
        `${DASHES}BEGIN PGP PRIVATE KEY BLOCK${DASHES}\n\n...\n${DASHES}END PGP PRIVATE KEY BLOCK${DASHES}`,
        `${DASHES}BEGIN PGP PUBLIC KEY BLOCK${DASHES}`,
      ],
    },
  },
  {
    id: 'private-key-putty',
    title: 'PuTTY private key file',
    severity: 'critical',
    provider: 'generic',
    type: 'private-key',
    keywords: ['putty-user-key-file-'],
    pattern:
      /(?<secret>PuTTY-User-Key-File-[23]: [a-z0-9-]+\r?\nEncryption: [a-z0-9-]+\r?\n[\s\S]{0,4000}?Private-Lines: \d+\r?\n[A-Za-z0-9+/=\r\n]{40,}?\r?\nPrivate-MAC: [0-9a-f]{40,64})/,
    multiline: true,
    verifiedFormat: true,
    docs: 'https://the.earth.li/~sgtatham/putty/0.78/htmldoc/AppendixC.html',
    cases: {
      positives: (g) => [
        `PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy\nPublic-Lines: 2\n${g.base64(48)}\n${g.base64(12)}\nPrivate-Lines: 1\n${g.base64(48)}\nPrivate-MAC: ${g.hex(32)}`,
      ],
      negatives: (g) => [
        'PuTTY-User-Key-File-3: ssh-ed25519',
        `PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPrivate-Lines: 1\n${g.base64(48)}\nPrivate-MAC: nope`,
      ],
    },
  },
  {
    id: 'jwt',
    title: 'JSON Web Token',
    severity: 'medium',
    provider: 'generic',
    type: 'jwt',
    keywords: ['eyj'],
    pattern:
      /(?<![A-Za-z0-9_-])(?<secret>eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,})(?![A-Za-z0-9_.-])/,
    check: validJwt,
    verifiedFormat: true,
    docs: 'https://www.rfc-editor.org/rfc/rfc7519',
    cases: {
      positives: (g) => [`Authorization: Bearer ${g.jwt()}`, `const token = "${g.jwt({ sub: 'ci-bot' })}";`],
      negatives: (g) => [
        `eyJ${g.chars(20)}.eyJ${g.chars(30)}.${g.chars(30)}`,
        `${g.jwt().split('.').slice(0, 2).join('.')}.FAKE_SIGNATURE_FOR_TESTS`,
        `${Buffer.from('{"typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"x1234567"}').toString('base64url')}.${g.base64url(32)}`,
      ],
    },
  },
  {
    id: 'connection-string-password',
    title: 'Database, broker or cache URL with a password',
    severity: 'high',
    provider: 'generic',
    type: 'connection-string',
    keywords: URL_SCHEMES.map((s) => `${s}://`),
    pattern: new RegExp(
      String.raw`(?<![A-Za-z0-9+])(?:${URL_SCHEMES.map((s) => s.replace(/[+]/g, '\\+')).join('|')})://(?<user>[^\s:@/"'\x60<>]{0,128}):(?<secret>[^\s@/"'\x60<>]{3,128})@(?<host>[A-Za-z0-9._\[\]:-]+)`,
    ),
    ignoreCase: true,
    check: (password, m) => !weakOrTemplatePassword(password, m.groups?.['user'] ?? ''),
    verifiedFormat: false,
    cases: {
      positives: (g) => [
        `DATABASE_URL=postgres://app:${g.chars(20)}@db.internal:5432/app`,
        `mongodb+srv://svc:${g.chars(16)}@cluster0.mongodb.net/prod`,
        `REDIS_URL="rediss://default:${g.chars(32)}@cache.upstash.io:6379"`,
        `amqp://worker:${g.chars(12)}@mq:5672/`,
      ],
      negatives: () => [
        'postgres://postgres:postgres@localhost:5432/dev',
        'postgres://user:password@localhost/db',
        'DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app',
        'mysql://root:<password>@127.0.0.1/test',
        'redis://localhost:6379',
      ],
    },
  },
  {
    id: 'url-basic-auth',
    title: 'Password in an HTTP(S) URL (basic auth)',
    severity: 'high',
    provider: 'generic',
    type: 'basic-auth',
    keywords: ['http://', 'https://'],
    pattern:
      /(?<![A-Za-z0-9])https?:\/\/(?<user>[A-Za-z0-9._~%!$&'*+,;=-]{1,128}):(?<secret>[A-Za-z0-9._~%!$&'*+,;=-]{6,128})@(?<host>[A-Za-z0-9.-]+\.[A-Za-z]{2,}|localhost|\d+\.\d+\.\d+\.\d+)/,
    check: (password, m) =>
      !weakOrTemplatePassword(password, m.groups?.['user'] ?? '') && shannonEntropy(password) >= 2.5,
    verifiedFormat: false,
    docs: 'https://www.rfc-editor.org/rfc/rfc3986#section-3.2.1',
    cases: {
      positives: (g) => [
        `git clone https://deploy:${g.chars(24)}@git.corp.io/team/repo.git`,
        `registry=https://ci:${g.chars(12)}@npm.corp.io/`,
      ],
      negatives: () => [
        'https://user:password@host.com/',
        'https://user:${TOKEN}@host.com/',
        'see https://github.com/org/repo@v1.2.3',
        'http://localhost:8080/path',
      ],
    },
  },
  {
    id: 'authorization-bearer',
    title: 'Bearer token in an Authorization header',
    severity: 'high',
    provider: 'generic',
    type: 'oauth-token',
    keywords: ['bearer '],
    pattern:
      /(?:authorization|auth)["']?\s*[:=,]\s*["'`]?bearer\s+(?<secret>[A-Za-z0-9._~+/-]{20,512}=*)(?![A-Za-z0-9._~+/=-])/,
    ignoreCase: true,
    minEntropy: 3.5,
    // A JWT-shaped bearer token is judged as a JWT: a sample signature makes it a sample.
    check: (token) => !/^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*$/.test(token) || validJwt(token),
    verifiedFormat: false,
    docs: 'https://www.rfc-editor.org/rfc/rfc6750#section-2.1',
    cases: {
      positives: (g) => [
        `curl -H "Authorization: Bearer ${g.chars(40)}" https://api.corp.io`,
        `headers: { Authorization: 'Bearer ${g.base64url(32)}' }`,
      ],
      negatives: () => [
        'Authorization: Bearer ${TOKEN}',
        "headers: { Authorization: 'Bearer ' + token }",
        'Authorization: Bearer <access-token>',
      ],
    },
  },
  {
    id: 'authorization-basic',
    title: 'Basic credentials in an Authorization header',
    severity: 'high',
    provider: 'generic',
    type: 'basic-auth',
    keywords: ['basic '],
    pattern:
      /authorization["']?\s*[:=,]\s*["'`]?basic\s+(?<secret>[A-Za-z0-9+/]{8,256}={0,2})(?![A-Za-z0-9+/=])/,
    ignoreCase: true,
    check: (b64) => {
      const decoded = Buffer.from(b64, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0 || !/^[\x20-\x7e\u00a0-\uffef]+$/.test(decoded) || decoded.length - colon - 1 < 6)
        return false;
      return !weakOrTemplatePassword(decoded.slice(colon + 1), decoded.slice(0, colon));
    },
    verifiedFormat: true,
    docs: 'https://www.rfc-editor.org/rfc/rfc7617',
    cases: {
      positives: (g) => [
        `Authorization: Basic ${Buffer.from(`svc-deploy:${g.chars(18)}`).toString('base64')}`,
      ],
      negatives: () => [
        `Authorization: Basic ${Buffer.from('user:password').toString('base64')}`,
        'Authorization: Basic <base64>',
        `Authorization: Basic ${Buffer.from('not-a-pair').toString('base64')}`,
      ],
    },
  },
  {
    id: 'generic-secret-assignment',
    title: 'Secret assigned to a password, key, token or secret variable',
    severity: 'medium',
    provider: 'generic',
    type: 'password',
    keywords: GENERIC_KEYWORDS,
    // The secret word must be part of a name that is assigned to: most lines with `token` or `key` are prose.
    afterKeyword: assignmentFollows,
    // A query string or form body: `url=…&password=…` (a refused `url` value holds the password's assignment).
    resumeAfter: /[?&]/,
    // NAME = "value" | NAME: value | "name": "value" | name := `value`; the name must hold a secret word.
    // The match starts at the operator (the lookahead makes every other position fail at once) and reads the
    // name behind it: far cheaper than trying a 60-character name at every position of a line.
    pattern:
      /(?=[:=])(?<=(?<![A-Za-z0-9_])(?<name>[A-Za-z_][A-Za-z0-9_.-]{0,60})["'`]?\s{0,4})(?::=|=>|=|:)\s{0,4}(?<q>["'`]?)(?<secret>[^\s"'`,;]{8,200})\k<q>/,
    check: (value, m) => {
      const name = m.groups?.['name'] ?? '';
      // Bare values (no quotes) must end the statement: `x = compute(...)` is code, not a secret.
      return looksLikeGenericSecret(value, name);
    },
    verifiedFormat: false,
    cases: {
      positives: (g) => [
        `DB_PASSWORD=${g.chars(14, 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!#%')}`,
        `DB_PASSWORD=5M8a8z${g.chars(4)}!iHu8`,
        `api_key: "${g.hex(20)}"`,
        `"client_secret": "${g.chars(40)}",`,
        `const authToken = '${g.base64url(24)}';`,
        `SIGNING_KEY := "${g.base64(32)}"`,
        `callback_url=https://svc.example/cb?user=bot&password=${g.chars(16, 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789')}`,
      ],
      negatives: (g) => [
        'password = os.getenv("DB_PASSWORD")',
        'DB_PASSWORD=changeme',
        'api_key: "${API_KEY}"',
        "token_url: 'https://auth.example.com/token'",
        'secret_name = "prod-db-credentials"',
        'const token = await getToken();',
        'password_min_length = 12345678',
        `request_id = "${g.hex(16)}"`,
        'password: "hunter2hunter2"',
        'apiKey: process.env.OPENAI_API_KEY',
        'pass: result?.precision === null',
        '"secretId":"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db/password"',
      ],
    },
  },
];
