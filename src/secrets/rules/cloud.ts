/**
 * Rules for cloud and infrastructure providers: AWS, Google Cloud, Azure, DigitalOcean, Cloudflare, Alibaba,
 * Tencent, IBM, PaaS hosts (Heroku, Vercel, Netlify, Fly.io, Render, Railway, Supabase) and infrastructure
 * tooling (Vault, Terraform Cloud, Doppler, Pulumi, 1Password, age).
 */
import { BASE62 } from '../secret-checks.js';
import type { CaseGen, SecretRule } from '../secret-types.js';
import {
  BECH32_CHARSET,
  URLSAFE,
  bech32Checksum,
  contextual,
  hasCharClasses,
  hasValidBech32,
  lineMatches,
  neighbourhood,
  prefixed,
} from './cloud-checks.js';
import { B, E, LOWER_ALNUM, decodeBase64Json, decodeBase64Text } from './rule-kit.js';

// Base64 values: `+`, `/` and `=` are part of the token.
const B64B = String.raw`(?<![A-Za-z0-9+/_-])`;
const B64E = String.raw`(?![A-Za-z0-9+/=_-])`;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const UPPER_ALNUM = BASE62.slice(0, 36);
const DIGITS = '0123456789';

const AWS_ID_PREFIXES = ['AK' + 'IA', 'AS' + 'IA', 'AB' + 'IA', 'AC' + 'CA'];
const AWS_KEY_ID = new RegExp(`(?<![A-Za-z0-9])(?:${AWS_ID_PREFIXES.join('|')})[A-Z2-7]{16}(?![A-Za-z0-9])`);
const AWS_SECRET_NAME = /secret[-_ ]?access[-_ ]?key|aws[-_ ]?secret|secretaccesskey/i;
const awsKeyId = (g: CaseGen): string => g.join('AK', 'IA', g.chars(16, BASE32));
const awsSecret = (g: CaseGen): string => g.base64(30);
// AWS's documentation pair; the engine's placeholder filter drops both (they contain EXAMPLE).
const AWS_DOC_ID = 'AKIA' + 'IOSFODNN7EXAMPLE';
const AWS_DOC_SECRET = ['wJalrXUtnFEMI', 'K7MDENG', 'bPxRfiCYEXAMPLEKEY'].join('/');

// Well-known public keys of the local emulators (Azurite, Cosmos DB emulator): documented, not secret.
const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq' + '/K1SZFPTOtr/KBHBeksoGMGw==';
const COSMOS_EMULATOR_KEY =
  'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw' + '/Jw==';

const uuid = (g: CaseGen): string => [g.hex(4), g.hex(2), g.hex(2), g.hex(2), g.hex(6)].join('-');
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** A JSON-escaped PKCS#8 PEM as it sits in a service-account key file (`\n` as two characters). */
function jsonPem(g: CaseGen): string {
  const body = g.base64(1190);
  const rows: string[] = [];
  for (let i = 0; i < body.length; i += 64) rows.push(body.slice(i, i + 64));
  return `-----BEGIN PRIVATE KEY-----\\n${rows.join('\\n')}\\n-----END PRIVATE KEY-----\\n`;
}

/** A Google Cloud service-account key file on one line. */
function serviceAccountJson(g: CaseGen, key: string): string {
  const project = `acme-prod-${g.chars(6, LOWER_ALNUM)}`;
  return JSON.stringify({
    type: 'service_account',
    project_id: project,
    private_key_id: g.hex(20),
    private_key: '@KEY@',
    client_email: `deployer@${project}.iam.gserviceaccount.com`,
    client_id: g.chars(21, DIGITS),
  }).replace('"@KEY@"', `"${key}"`);
}

/** An age X25519 identity: `AGE-SECRET-KEY-1` + 52 data + 6 checksum bech32 characters, upper case. */
function ageKey(g: CaseGen, valid = true): string {
  const data = g.chars(52, BECH32_CHARSET);
  const sum = valid ? bech32Checksum('age-secret-key-', data) : bech32Checksum('age-public-key-', data);
  return g.join('AGE-SECRET-', 'KEY-1', (data + sum).toUpperCase());
}

/** A 1Password service-account token: `ops_` + base64 of the JSON sign-in record. */
function opsToken(g: CaseGen, claims?: Record<string, unknown>): string {
  const record = claims ?? {
    signInAddress: 'my.1password.com',
    userAuth: { method: 'SRPg-4096', alg: 'PBES2g-HS256', iterations: 650000, salt: g.base64url(16) },
    email: `${g.chars(13, LOWER_ALNUM)}@1passwordserviceaccounts.com`,
    srpX: g.hex(32),
    muk: {
      alg: 'A256GCM',
      ext: true,
      k: g.base64url(32),
      key_ops: ['encrypt', 'decrypt'],
      kty: 'oct',
      kid: 'mp',
    },
    secretKey: `A3-${g.chars(6, UPPER_ALNUM)}-${g.chars(6, UPPER_ALNUM)}-${g.chars(5, UPPER_ALNUM)}`,
    throttleSecret: { seed: g.hex(32), uuid: g.chars(26, UPPER_ALNUM) },
    deviceUuid: g.chars(26, LOWER_ALNUM),
  };
  return g.join('ops', '_', Buffer.from(JSON.stringify(record)).toString('base64url'));
}

/** A long-term Amazon Bedrock API key: `ABSK` + base64 of `BedrockAPIKey-<id>-at-<account>:<secret>`. */
function bedrockKey(g: CaseGen, decoded?: string): string {
  const plain =
    decoded ?? `BedrockAPIKey-${g.chars(4, LOWER_ALNUM)}-at-${g.chars(12, DIGITS)}:${g.base64(33)}`;
  return g.join('AB', 'SK', Buffer.from(plain).toString('base64'));
}

/** A Doppler token rule (`dp.<kind>.` + 40–44 base62; service tokens may carry an environment segment). */
function dopplerToken(kind: string, id: string, title: string, severity: SecretRule['severity']): SecretRule {
  const prefix = `dp.${kind}.`;
  const env = kind === 'st' ? '(?:[a-z0-9_-]{1,40}\\.)?' : '';
  return prefixed({
    id,
    title,
    provider: 'doppler',
    severity,
    type: kind === 'pt' ? 'pat' : kind === 'sa' ? 'service-account-token' : 'api-key',
    prefix,
    body: `${env}[A-Za-z0-9]{40,44}`,
    make: (g) => g.join('dp.', kind, '.', kind === 'st' ? 'prd.' : '', g.chars(43)),
    malformed: (g) => g.join('dp.', kind, '.', g.chars(30)),
    env: 'DOPPLER_TOKEN',
    verifiedFormat: false,
    minEntropy: 3.5,
    docs: 'https://docs.doppler.com/reference/auth-token-formats',
  });
}

/** Cloud and infrastructure rules. */
export const CLOUD_RULES: SecretRule[] = [
  // ---- AWS ----
  {
    id: 'aws-access-key-id',
    title: 'AWS access key ID',
    severity: 'high',
    provider: 'aws',
    type: 'access-key',
    keywords: AWS_ID_PREFIXES,
    // AKIA (long-term), ASIA (STS), ABIA (STS service bearer), ACCA (context-specific) + 16 base32 characters.
    pattern: new RegExp(`${B}(?<secret>(?:${AWS_ID_PREFIXES.join('|')})[A-Z2-7]{16})${E}`),
    verifiedFormat: true,
    minEntropy: 3,
    docs: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids',
    cases: {
      positives: (g) => [
        `aws_access_key_id = ${awsKeyId(g)}`,
        `AWS_ACCESS_KEY_ID=${awsKeyId(g)}`,
        `  "AccessKeyId": "${g.join('AS', 'IA', g.chars(16, BASE32))}",`,
      ],
      negatives: (g) => [
        `aws_access_key_id = ${AWS_DOC_ID}`,
        `AWS_ACCESS_KEY_ID=${g.join('AK', 'IA', g.chars(15, BASE32), '0')}`,
        `AWS_ACCESS_KEY_ID=${g.join('AK', 'IA', g.chars(12, BASE32))}`,
        `AWS_ACCESS_KEY_ID=${g.join('ak', 'ia', g.chars(16, BASE32.toLowerCase()))}`,
        'Access key IDs begin with AKIA for long-term keys and ASIA for temporary ones.',
      ],
    },
  },
  {
    id: 'aws-secret-access-key',
    title: 'AWS secret access key',
    severity: 'critical',
    provider: 'aws',
    type: 'access-key',
    // `aws` or the key's own name on the line, or a key id up to five lines away (see `check`).
    keywords: [
      'aws',
      'secretaccesskey',
      'secret_access_key',
      'secret-access-key',
      'secret access key',
      ...AWS_ID_PREFIXES,
    ],
    keywordReach: 5,
    // 40 base64 characters; on their own indistinguishable from other data, so reported only when the line
    // names the key or an access key ID sits within 5 lines / 1000 characters.
    pattern: /(?<![A-Za-z0-9/+])(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/,
    check: (secret, _m, ctx) =>
      hasCharClasses(secret, 3) &&
      secret.split('/').length <= 5 &&
      (lineMatches(ctx, AWS_SECRET_NAME) || AWS_KEY_ID.test(neighbourhood(ctx, 5, 1000))),
    verifiedFormat: false,
    minEntropy: 4,
    docs: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html',
    cases: {
      positives: (g) => [
        `aws_secret_access_key = ${awsSecret(g)}`,
        `export AWS_SECRET_ACCESS_KEY="${awsSecret(g)}"`,
        `{"AccessKeyId": "${awsKeyId(g)}", "SecretAccessKey": "${awsSecret(g)}"}`,
        `[deploy]\nkey_id: ${awsKeyId(g)}\nregion: eu-west-1\nkey_secret: ${awsSecret(g)}`,
        `User name,Access key ID,Secret access key\nci-bot,${awsKeyId(g)},${awsSecret(g)}`,
      ],
      negatives: (g) => [
        `aws_access_key_id = ${AWS_DOC_ID}\naws_secret_access_key = ${AWS_DOC_SECRET}`,
        `token = ${awsSecret(g)}`,
        `aws-sdk pinned at commit ${g.hex(20)}`,
        `key_id: ${awsKeyId(g)}\n${'# filler\n'.repeat(8)}key_secret: ${awsSecret(g)}`,
        `aws_secret_access_key = ${g.base64(27)}`,
      ],
    },
  },
  {
    id: 'aws-session-token',
    title: 'AWS session token',
    severity: 'medium',
    provider: 'aws',
    type: 'access-key',
    keywords: ['session_token', 'sessiontoken', 'security-token', 'security_token'],
    pattern:
      /(?:aws_session_token|sessiontoken|x-amz-security-token|aws_security_token)["']?\s*[:=]\s*["']?(?<secret>[A-Za-z0-9/+=%]{100,4096})/,
    ignoreCase: true,
    check: (secret) => hasCharClasses(secret, 3),
    verifiedFormat: false,
    minEntropy: 4,
    docs: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_use-resources.html',
    cases: {
      positives: (g) => [
        `aws_session_token = ${g.join('IQoJb3JpZ2luX2Vj', g.base64(420))}`,
        `  "SessionToken": "${g.join('FwoGZXIvYXdzE', g.base64(300))}",`,
        `X-Amz-Security-Token: ${g.base64(330)}`,
      ],
      negatives: (g) => [
        `aws_session_token = ${'x'.repeat(300)}`,
        `AWS_SESSION_TOKEN=${g.base64(40)}`,
        'AWS_SESSION_TOKEN=$AWS_SESSION_TOKEN',
      ],
    },
  },
  {
    id: 'aws-bedrock-api-key',
    title: 'Amazon Bedrock API key (long-term)',
    severity: 'high',
    provider: 'aws',
    type: 'api-key',
    keywords: ['ABSKQmVkcm9ja0FQSUtleS'],
    // `ABSK` + base64 of `BedrockAPIKey-<id>-at-<12-digit account>:<secret>`; the decoded form is checked.
    pattern: new RegExp(`${B64B}(?<secret>ABSKQmVkcm9ja0FQSUtleS[A-Za-z0-9+/]{40,400}={0,2})${B64E}`),
    check: (secret) =>
      /^BedrockAPIKey-[A-Za-z0-9]+-at-\d{12}:[A-Za-z0-9+/=]{20,}$/.test(decodeBase64Text(secret.slice(4))),
    verifiedFormat: true,
    minEntropy: 3.5,
    docs: 'https://docs.aws.amazon.com/bedrock/latest/userguide/api-keys.html',
    cases: {
      positives: (g) => [
        `AWS_BEARER_TOKEN_BEDROCK=${bedrockKey(g)}`,
        `os.environ["AWS_BEARER_TOKEN_BEDROCK"] = "${bedrockKey(g)}"`,
      ],
      negatives: (g) => [
        `AWS_BEARER_TOKEN_BEDROCK=${bedrockKey(g, `BedrockAPIKey-test-key-${g.chars(10, DIGITS)}`)}`,
        `AWS_BEARER_TOKEN_BEDROCK=${bedrockKey(g).slice(0, 30)}`,
        'AWS_BEARER_TOKEN_BEDROCK=ABSKQmVkcm9ja0FQSUtleS0...',
      ],
    },
  },
  prefixed({
    // Short-term keys are `bedrock-api-key-` + base64 of a presigned `bedrock.amazonaws.com/?Action=…` URL.
    id: 'aws-bedrock-short-term-key',
    title: 'Amazon Bedrock API key (short-term)',
    provider: 'aws',
    severity: 'medium',
    prefix: 'bedrock-api-key-',
    keywords: ['bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t'],
    body: 'YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/]{100,4096}={0,2}',
    make: (g) =>
      g.join(
        'bedrock-api-key-',
        Buffer.from(
          `bedrock.amazonaws.com/?Action=CallWithBearerToken&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${awsKeyId(g)}%2F20260101%2Fus-east-1%2Fbedrock%2Faws4_request&X-Amz-Signature=${g.hex(32)}&Version=1`,
        ).toString('base64'),
      ),
    malformed: (g) => g.join('bedrock-api-key-', 'YmVkcm9jay5hbWF6b25hd3MuY29t', g.base64(30)),
    env: 'AWS_BEARER_TOKEN_BEDROCK',
    verifiedFormat: false,
    docs: 'https://docs.aws.amazon.com/bedrock/latest/userguide/api-keys.html',
  }),
  prefixed({
    id: 'amazon-mws-auth-token',
    title: 'Amazon Marketplace Web Service auth token',
    provider: 'aws',
    prefix: 'amzn.mws.',
    body: UUID,
    make: (g) => g.join('amzn.', 'mws.', uuid(g)),
    malformed: (g) => g.join('amzn.', 'mws.', g.hex(16)),
    env: 'MWS_AUTH_TOKEN',
    verifiedFormat: true,
  }),

  // ---- Google Cloud / Firebase ----
  prefixed({
    // One rule for every Google API key (Maps, Gemini / Generative Language, Firebase web config, GCP).
    id: 'google-api-key',
    title: 'Google API key',
    provider: 'google',
    prefix: 'AIza',
    body: '[A-Za-z0-9_-]{35}',
    make: (g) => g.join('AI', 'za', g.chars(35, URLSAFE)),
    malformed: (g) => g.join('AI', 'za', g.chars(30, URLSAFE)),
    env: 'GOOGLE_API_KEY',
    verifiedFormat: true,
    // SDK samples spell the alphabet out (`AIzaSyabcdefgh…1234567`); random keys never hold such runs.
    check: (secret) => !/abcdefgh|12345678/i.test(secret),
    docs: 'https://cloud.google.com/docs/authentication/api-keys',
    extraNegatives: () => [
      'GEMINI_API_KEY=AIza_your_key_here',
      `apiKey: "${['AIza', 'Sy', 'abcdefghijklmnopqrstuvwxyz', '1234567'].join('')}"`,
    ],
  }),
  {
    id: 'gcp-service-account-key',
    title: 'Google Cloud service account key (JSON)',
    severity: 'critical',
    provider: 'google',
    type: 'private-key',
    keywords: ['private_key'],
    // The JSON-escaped PEM on one line; the key file's other fields confirm it is a service account.
    pattern:
      /"private_key"\s*:\s*"(?<secret>-----BEGIN PRIVATE KEY-----\\n[A-Za-z0-9+/=\\]{64,8192}-----END PRIVATE KEY-----(?:\\n)?)"/,
    check: (_secret, _m, ctx) =>
      /"type"\s*:\s*"service_account"|gserviceaccount\.com|"private_key_id"/.test(
        ctx.text.slice(Math.max(0, ctx.offset - 2000), ctx.offset + 12000),
      ),
    verifiedFormat: false,
    minEntropy: 4,
    docs: 'https://cloud.google.com/iam/docs/keys-create-delete',
    tags: ['service-account'],
    cases: {
      positives: (g) => [
        serviceAccountJson(g, jsonPem(g)),
        `{\n  "type": "service_account",\n  "project_id": "acme",\n  "private_key_id": "${g.hex(20)}",\n  "private_key": "${jsonPem(g)}",\n  "client_email": "ci@acme.iam.gserviceaccount.com"\n}`,
      ],
      negatives: (g) => [
        serviceAccountJson(g, '-----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----\\n'),
        serviceAccountJson(g, '<your-private-key>'),
        `{"private_key": "${jsonPem(g)}"}`,
      ],
    },
  },
  prefixed({
    id: 'gcp-oauth-client-secret',
    title: 'Google OAuth client secret',
    provider: 'google',
    type: 'oauth-client-secret',
    prefix: 'GOCSPX-',
    body: '[A-Za-z0-9_-]{28}',
    make: (g) => g.join('GOC', 'SPX-', g.chars(28, URLSAFE)),
    malformed: (g) => g.join('GOC', 'SPX-', g.chars(20, URLSAFE)),
    env: 'GOOGLE_CLIENT_SECRET',
    verifiedFormat: true,
    docs: 'https://developers.google.com/identity/protocols/oauth2',
  }),
  prefixed({
    id: 'google-oauth-access-token',
    title: 'Google OAuth access token',
    provider: 'google',
    severity: 'medium',
    type: 'oauth-token',
    prefix: 'ya29.',
    body: '[A-Za-z0-9_-]{30,2048}',
    make: (g) => g.join('ya29', '.', g.chars(150, URLSAFE)),
    malformed: (g) => g.join('ya29', '.', g.chars(20, URLSAFE)),
    env: 'GOOGLE_ACCESS_TOKEN',
    verifiedFormat: false,
    minEntropy: 3.5,
    docs: 'https://developers.google.com/identity/protocols/oauth2',
  }),
  prefixed({
    id: 'google-oauth-refresh-token',
    title: 'Google OAuth refresh token',
    provider: 'google',
    type: 'oauth-token',
    prefix: '1//0',
    body: '[A-Za-z0-9_-]{40,512}',
    make: (g) => g.join('1//', '0', g.chars(1, 'abcdefghijklmnopqrstuvwxyz'), g.chars(98, URLSAFE)),
    malformed: (g) => g.join('1//', '0', g.chars(20, URLSAFE)),
    env: 'GOOGLE_REFRESH_TOKEN',
    verifiedFormat: false,
    minEntropy: 3.5,
    docs: 'https://developers.google.com/identity/protocols/oauth2',
  }),
  prefixed({
    // Legacy FCM server key: `AAAA` + 7 characters, `:`, then 140 characters starting `APA91b`.
    id: 'firebase-fcm-server-key',
    title: 'Firebase Cloud Messaging legacy server key',
    provider: 'google',
    prefix: 'AAAA',
    keywords: [':APA91b'],
    body: '[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{134}',
    make: (g) => g.join('AAAA', g.chars(7, URLSAFE), ':', 'APA91b', g.chars(134, URLSAFE)),
    malformed: (g) => g.join('AAAA', g.chars(7, URLSAFE), ':', 'APA91b', g.chars(100, URLSAFE)),
    env: 'FCM_SERVER_KEY',
    verifiedFormat: true,
    docs: 'https://firebase.google.com/docs/cloud-messaging/auth-server',
  }),

  // ---- Azure ----
  {
    id: 'azure-storage-account-key',
    title: 'Azure Storage account key',
    severity: 'critical',
    provider: 'azure',
    type: 'access-key',
    keywords: ['AccountKey', 'AZURE_STORAGE_KEY', 'AZURE_STORAGE_ACCOUNT_KEY'],
    // 512-bit keys: 86 base64 characters and `==`.
    pattern:
      /(?:AccountKey\s*=\s*|AZURE_STORAGE_(?:ACCOUNT_)?KEY["']?\s*[:=]\s*["']?)(?<secret>[A-Za-z0-9+/]{86}==)(?![A-Za-z0-9+/=])/,
    ignoreCase: true,
    check: (secret, _m, ctx) =>
      secret !== AZURITE_KEY && !lineMatches(ctx, /documents\.azure\.com|devstoreaccount1/i),
    verifiedFormat: true,
    minEntropy: 4.5,
    docs: 'https://learn.microsoft.com/en-us/azure/storage/common/storage-account-keys-manage',
    cases: {
      positives: (g) => [
        `DefaultEndpointsProtocol=https;AccountName=acmedata;AccountKey=${g.base64(64)};EndpointSuffix=core.windows.net`,
        `AZURE_STORAGE_KEY=${g.base64(64)}`,
      ],
      negatives: (g) => [
        `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${AZURITE_KEY};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;`,
        `DefaultEndpointsProtocol=https;AccountName=acmedata;AccountKey=${g.base64(60)};EndpointSuffix=core.windows.net`,
        'AccountKey=<storage-account-key>',
      ],
    },
  },
  {
    id: 'azure-cosmosdb-key',
    title: 'Azure Cosmos DB account key',
    severity: 'critical',
    provider: 'azure',
    type: 'access-key',
    keywords: ['documents.azure.com', 'cosmos'],
    pattern:
      /(?:AccountKey\s*=\s*|COSMOS(?:DB)?_(?:PRIMARY_)?KEY["']?\s*[:=]\s*["']?)(?<secret>[A-Za-z0-9+/]{86}==)(?![A-Za-z0-9+/=])/,
    ignoreCase: true,
    check: (secret, _m, ctx) =>
      secret !== COSMOS_EMULATOR_KEY && lineMatches(ctx, /documents\.azure\.com|cosmos/i),
    verifiedFormat: true,
    minEntropy: 4.5,
    docs: 'https://learn.microsoft.com/en-us/azure/cosmos-db/secure-access-to-data',
    cases: {
      positives: (g) => [
        `AccountEndpoint=https://acme-db.documents.azure.com:443/;AccountKey=${g.base64(64)};`,
        `AZURE_COSMOS_KEY=${g.base64(64)}`,
      ],
      negatives: (g) => [
        `AccountEndpoint=https://localhost:8081/;AccountKey=${COSMOS_EMULATOR_KEY}`,
        `AccountEndpoint=https://acme-db.documents.azure.com:443/;AccountKey=${g.base64(48)};`,
        `AccountKey=${g.base64(64)}`,
      ],
    },
  },
  {
    id: 'azure-sas-token',
    title: 'Azure shared access signature (SAS) token',
    severity: 'high',
    provider: 'azure',
    type: 'access-key',
    keywords: ['sig='],
    // The signature is base64 of an HMAC-SHA256 (32 bytes), URL-encoded; `sv=` (the service version) must be
    // in the same URL or connection string.
    pattern: /[?&;]sig=(?<secret>[A-Za-z0-9%+/=]{43,150})(?![A-Za-z0-9%+/=])/,
    check: (secret, _m, ctx) => {
      if (!lineMatches(ctx, /[?&;=]sv=\d{4}-\d{2}-\d{2}/)) return false;
      let raw: string;
      try {
        raw = decodeURIComponent(secret);
      } catch {
        return false;
      }
      return /^[A-Za-z0-9+/]{43}=$/.test(raw) && Buffer.from(raw, 'base64').length === 32;
    },
    verifiedFormat: true,
    minEntropy: 3.5,
    docs: 'https://learn.microsoft.com/en-us/rest/api/storageservices/create-service-sas',
    cases: {
      positives: (g) => [
        `https://acmedata.blob.core.windows.net/exports/report.csv?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2026-12-31T00:00:00Z&spr=https&sig=${encodeURIComponent(g.base64(32))}`,
        `BlobEndpoint=https://acmedata.blob.core.windows.net/;SharedAccessSignature=sv=2021-06-08&ss=bfqt&srt=sco&sp=rwdlacup&se=2026-06-01T00:00:00Z&sig=${encodeURIComponent(g.base64(32))}`,
      ],
      negatives: (g) => [
        `https://example.org/callback?state=1&sig=${encodeURIComponent(g.base64(32))}`,
        `https://acmedata.blob.core.windows.net/x?sv=2022-11-02&sp=r&sig=${encodeURIComponent(g.base64(40))}`,
        'https://acmedata.blob.core.windows.net/x?sv=2022-11-02&sp=r&sig=<signature>',
      ],
    },
  },
  {
    id: 'azure-ad-client-secret',
    title: 'Microsoft Entra ID (Azure AD) client secret',
    severity: 'high',
    provider: 'azure',
    type: 'oauth-client-secret',
    keywords: ['Q~'],
    // Three characters, a digit and `Q~` (a version marker), then 31–34 characters.
    pattern:
      /(?<![A-Za-z0-9_~.-])(?<secret>[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~.-])/,
    check: (secret) => hasCharClasses(secret, 3),
    verifiedFormat: false,
    minEntropy: 3.5,
    docs: 'https://learn.microsoft.com/en-us/purview/sit-defn-azure-ad-client-secret',
    cases: {
      positives: (g) => {
        const secret = (): string =>
          g.join(g.chars(3), g.chars(1, DIGITS), 'Q~', g.chars(34, BASE62 + '_~.-'));
        return [
          `AZURE_CLIENT_SECRET=${secret()}`,
          `  "clientSecret": "${secret()}",`,
          `client_secret: '${secret()}'`,
        ];
      },
      negatives: (g) => [
        `AZURE_CLIENT_SECRET=${g.chars(3)}8Q~${'x'.repeat(34)}`,
        `AZURE_CLIENT_SECRET=${g.chars(3)}xQ~${g.chars(34)}`,
        `AZURE_CLIENT_SECRET=${g.chars(3)}8Q~${g.chars(20)}`,
        'buf.WriteString("~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~")',
      ],
    },
  },
  contextual({
    // Classic Azure DevOps PATs: 52 lower-case base32 characters.
    id: 'azure-devops-pat',
    title: 'Azure DevOps personal access token',
    provider: 'azure',
    type: 'pat',
    keywords: ['azure', 'visualstudio.com'],
    context: /azure|visualstudio\.com/i,
    value: '[a-z2-7]{52}',
    make: (g) => g.chars(52, BASE32.toLowerCase()),
    malformed: (g) => g.chars(52, 'abcdefgh01890189'),
    env: 'AZURE_DEVOPS_PAT',
    check: (secret) => /[2-7]/.test(secret),
    docs: 'https://learn.microsoft.com/en-us/azure/devops/organizations/accounts/use-personal-access-tokens-to-authenticate',
  }),
  prefixed({
    // 2024 format: 84 base62 characters with the `AZDO` signature at positions 77–80.
    id: 'azure-devops-pat-v2',
    title: 'Azure DevOps personal access token (84-character)',
    provider: 'azure',
    type: 'pat',
    prefix: '',
    keywords: ['AZDO'],
    body: '[A-Za-z0-9]{76}AZDO[A-Za-z0-9]{4}',
    make: (g) => g.join(g.chars(76), 'AZ', 'DO', g.chars(4)),
    malformed: (g) => g.join(g.chars(70), 'AZ', 'DO', g.chars(10)),
    env: 'AZURE_DEVOPS_EXT_PAT',
    verifiedFormat: false,
    minEntropy: 4,
    docs: 'https://learn.microsoft.com/en-us/azure/devops/organizations/accounts/use-personal-access-tokens-to-authenticate',
  }),
  {
    id: 'azure-service-bus-key',
    title: 'Azure Service Bus / Event Hubs shared access key',
    severity: 'high',
    provider: 'azure',
    type: 'access-key',
    keywords: ['SharedAccessKey='],
    // 256-bit keys: 43 base64 characters and `=`.
    pattern: /SharedAccessKey\s*=\s*(?<secret>[A-Za-z0-9+/]{43}=)(?![A-Za-z0-9+/=])/,
    verifiedFormat: true,
    minEntropy: 4,
    docs: 'https://learn.microsoft.com/en-us/azure/service-bus-messaging/service-bus-sas',
    cases: {
      positives: (g) => [
        `Endpoint=sb://acme-bus.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${g.base64(32)}`,
        `EVENTHUB_CONNECTION=Endpoint=sb://acme-ev.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=${g.base64(32)};EntityPath=orders`,
      ],
      negatives: (g) => [
        'Endpoint=sb://acme-bus.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=<key>',
        `Endpoint=sb://acme-bus.servicebus.windows.net/;SharedAccessKey=${g.base64(24)}`,
        `SharedAccessKeyName=${g.base64(32)}`,
      ],
    },
  },

  // ---- DigitalOcean ----
  prefixed({
    id: 'digitalocean-pat',
    title: 'DigitalOcean personal access token',
    provider: 'digitalocean',
    severity: 'critical',
    type: 'pat',
    prefix: 'dop_v1_',
    body: '[a-f0-9]{64}',
    make: (g) => g.join('dop', '_v1_', g.hex(32)),
    malformed: (g) => g.join('dop', '_v1_', g.hex(30)),
    env: 'DIGITALOCEAN_TOKEN',
    verifiedFormat: true,
    docs: 'https://docs.digitalocean.com/reference/api/create-personal-access-token/',
  }),
  prefixed({
    id: 'digitalocean-oauth-token',
    title: 'DigitalOcean OAuth access token',
    provider: 'digitalocean',
    type: 'oauth-token',
    prefix: 'doo_v1_',
    body: '[a-f0-9]{64}',
    make: (g) => g.join('doo', '_v1_', g.hex(32)),
    malformed: (g) => g.join('doo', '_v1_', g.chars(64, 'ghijklmnopqrstuvwxyz')),
    env: 'DIGITALOCEAN_ACCESS_TOKEN',
    verifiedFormat: true,
    docs: 'https://docs.digitalocean.com/reference/api/oauth/',
  }),
  prefixed({
    id: 'digitalocean-refresh-token',
    title: 'DigitalOcean OAuth refresh token',
    provider: 'digitalocean',
    type: 'oauth-token',
    prefix: 'dor_v1_',
    body: '[a-f0-9]{64}',
    make: (g) => g.join('dor', '_v1_', g.hex(32)),
    malformed: (g) => g.join('dor', '_v1_', g.hex(33)),
    env: 'DIGITALOCEAN_REFRESH_TOKEN',
    verifiedFormat: true,
    docs: 'https://docs.digitalocean.com/reference/api/oauth/',
  }),

  // ---- Cloudflare ----
  contextual({
    id: 'cloudflare-api-token',
    title: 'Cloudflare API token',
    provider: 'cloudflare',
    keywords: ['cloudflare', 'cf_api_token'],
    context: /cloudflare|cf_api_token/i,
    value: '[A-Za-z0-9_-]{40}',
    make: (g) => g.chars(40, URLSAFE),
    malformed: (g) => g.chars(32, URLSAFE),
    env: 'CLOUDFLARE_API_TOKEN',
    minEntropy: 4,
    check: (secret) => hasCharClasses(secret, 3),
    docs: 'https://developers.cloudflare.com/fundamentals/api/get-started/create-token/',
  }),
  contextual({
    id: 'cloudflare-global-api-key',
    title: 'Cloudflare Global API key',
    provider: 'cloudflare',
    severity: 'critical',
    keywords: ['cloudflare', 'cf_api_key'],
    context: /cloudflare|cf_api_key/i,
    value: '[a-f0-9]{37}',
    make: (g) => g.hex(19).slice(0, 37),
    malformed: (g) => g.hex(16),
    env: 'CLOUDFLARE_API_KEY',
    docs: 'https://developers.cloudflare.com/fundamentals/api/get-started/keys/',
  }),
  prefixed({
    id: 'cloudflare-origin-ca-key',
    title: 'Cloudflare Origin CA key',
    provider: 'cloudflare',
    prefix: 'v1.0-',
    body: '[a-f0-9]{24}-[a-f0-9]{146}',
    make: (g) => g.join('v1.0', '-', g.hex(12), '-', g.hex(73)),
    malformed: (g) => g.join('v1.0', '-', g.hex(12), '-', g.hex(60)),
    env: 'CF_ORIGIN_CA_KEY',
    verifiedFormat: true,
    docs: 'https://developers.cloudflare.com/fundamentals/api/get-started/ca-keys/',
  }),

  // ---- Alibaba Cloud, Tencent Cloud, IBM Cloud ----
  prefixed({
    id: 'alibaba-access-key-id',
    title: 'Alibaba Cloud AccessKey ID',
    provider: 'alibaba',
    type: 'access-key',
    prefix: 'LTAI',
    body: '[A-Za-z0-9]{12,20}',
    make: (g) => g.join('LT', 'AI', g.chars(20)),
    malformed: (g) => g.join('LT', 'AI', g.chars(8)),
    env: 'ALIBABA_CLOUD_ACCESS_KEY_ID',
    verifiedFormat: false,
    minEntropy: 3.5,
    check: (secret) => hasCharClasses(secret.slice(4), 2),
    docs: 'https://www.alibabacloud.com/help/en/ram/user-guide/create-an-accesskey-pair',
  }),
  contextual({
    id: 'alibaba-access-key-secret',
    title: 'Alibaba Cloud AccessKey secret',
    provider: 'alibaba',
    severity: 'critical',
    type: 'access-key',
    keywords: ['alibaba', 'aliyun', 'alicloud', 'accesskeysecret', 'access_key_secret'],
    context: /alibaba|aliyun|alicloud|accesskeysecret|access_key_secret/i,
    value: '[A-Za-z0-9]{30}',
    make: (g) => g.chars(30),
    malformed: (g) => g.chars(26),
    env: 'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
    minEntropy: 3.8,
    check: (secret) => hasCharClasses(secret, 3),
    docs: 'https://www.alibabacloud.com/help/en/ram/user-guide/create-an-accesskey-pair',
  }),
  prefixed({
    id: 'tencent-secret-id',
    title: 'Tencent Cloud SecretId',
    provider: 'tencent',
    type: 'access-key',
    prefix: 'AKID',
    body: '[A-Za-z0-9]{32}',
    make: (g) => g.join('AK', 'ID', g.chars(32)),
    malformed: (g) => g.join('AK', 'ID', g.chars(24)),
    env: 'TENCENTCLOUD_SECRET_ID',
    verifiedFormat: false,
    minEntropy: 3.5,
    docs: 'https://www.tencentcloud.com/document/product/598',
  }),
  contextual({
    id: 'tencent-secret-key',
    title: 'Tencent Cloud SecretKey',
    provider: 'tencent',
    severity: 'critical',
    type: 'access-key',
    keywords: ['tencent', 'qcloud'],
    context: /tencent|qcloud/i,
    value: '[A-Za-z0-9]{32}',
    make: (g) => g.chars(32),
    malformed: (g) => g.chars(28),
    env: 'TENCENTCLOUD_SECRET_KEY',
    minEntropy: 3.8,
    check: (secret) => hasCharClasses(secret, 3),
    docs: 'https://www.tencentcloud.com/document/product/598',
  }),
  contextual({
    id: 'ibm-cloud-api-key',
    title: 'IBM Cloud API key',
    provider: 'ibm',
    keywords: ['ibm', 'ic_api_key'],
    context: /ibm|ic_api_key/i,
    value: '[A-Za-z0-9_-]{44}',
    make: (g) => g.chars(44, URLSAFE),
    malformed: (g) => g.chars(40, URLSAFE),
    env: 'IBMCLOUD_API_KEY',
    minEntropy: 4,
    check: (secret) => hasCharClasses(secret, 3),
    docs: 'https://cloud.ibm.com/docs/account?topic=account-userapikey',
  }),

  // ---- PaaS hosts ----
  prefixed({
    id: 'heroku-api-key-v2',
    title: 'Heroku API key',
    provider: 'heroku',
    prefix: 'HRKU-AA',
    body: '[A-Za-z0-9_-]{58}',
    make: (g) => g.join('HRKU', '-AA', g.chars(58, URLSAFE)),
    malformed: (g) => g.join('HRKU', '-AA', g.chars(50, URLSAFE)),
    env: 'HEROKU_API_KEY',
    verifiedFormat: true,
    docs: 'https://devcenter.heroku.com/articles/authentication',
  }),
  contextual({
    id: 'heroku-api-key',
    title: 'Heroku API key (legacy UUID)',
    provider: 'heroku',
    keywords: ['heroku'],
    context: /heroku/i,
    value: UUID,
    make: uuid,
    malformed: (g) => g.hex(16),
    env: 'HEROKU_API_KEY',
    docs: 'https://devcenter.heroku.com/articles/authentication',
  }),
  contextual({
    id: 'vercel-token',
    title: 'Vercel access token',
    provider: 'vercel',
    keywords: ['vercel'],
    context: /vercel/i,
    value: '[A-Za-z0-9]{24}',
    make: (g) => g.chars(24),
    malformed: (g) => g.chars(20),
    env: 'VERCEL_TOKEN',
    minEntropy: 3.8,
    check: (secret) => hasCharClasses(secret, 3),
    docs: 'https://vercel.com/docs/rest-api',
  }),
  prefixed({
    id: 'netlify-pat',
    title: 'Netlify personal access token',
    provider: 'netlify',
    type: 'pat',
    prefix: 'nfp_',
    body: '[A-Za-z0-9]{36}',
    make: (g) => g.join('nfp', '_', g.chars(32), g.hex(2)),
    malformed: (g) => g.join('nfp', '_', g.chars(30)),
    env: 'NETLIFY_AUTH_TOKEN',
    verifiedFormat: false,
    docs: 'https://docs.netlify.com/api/get-started/',
  }),
  prefixed({
    id: 'flyio-access-token',
    title: 'Fly.io access token',
    provider: 'flyio',
    prefix: 'fo1_',
    body: '[A-Za-z0-9_-]{43}',
    make: (g) => g.join('fo1', '_', g.base64url(32)),
    malformed: (g) => g.join('fo1', '_', g.base64url(24)),
    env: 'FLY_API_TOKEN',
    verifiedFormat: true,
    docs: 'https://fly.io/docs/security/tokens/',
  }),
  {
    id: 'flyio-macaroon-token',
    title: 'Fly.io macaroon token',
    severity: 'high',
    provider: 'flyio',
    type: 'api-key',
    keywords: ['fm1a_', 'fm1r_', 'fm2_'],
    pattern: new RegExp(`${B64B}(?<secret>fm(?:1[ar]|2)_[A-Za-z0-9+/]{100,4096}={0,3})${B64E}`),
    verifiedFormat: false,
    minEntropy: 4,
    docs: 'https://fly.io/docs/security/tokens/',
    cases: {
      positives: (g) => [
        `FLY_API_TOKEN="FlyV1 ${g.join('fm2', '_', g.base64(180))}"`,
        `fly_token: FlyV1 ${g.join('fm1r', '_', g.base64(240))},${g.join('fm1a', '_', g.base64(120))}`,
      ],
      negatives: (g) => [
        `FLY_API_TOKEN="FlyV1 fm2_${g.base64(30)}"`,
        `FLY_API_TOKEN="FlyV1 fm2_${'x'.repeat(160)}"`,
        'Deploy tokens start with FlyV1 fm2_ and are long.',
      ],
    },
  },
  prefixed({
    id: 'render-api-key',
    title: 'Render API key',
    provider: 'render',
    prefix: 'rnd_',
    body: '[A-Za-z0-9]{32}',
    make: (g) => g.join('rnd', '_', g.chars(32)),
    malformed: (g) => g.join('rnd', '_', g.chars(24)),
    env: 'RENDER_API_KEY',
    verifiedFormat: false,
    docs: 'https://render.com/docs/api',
  }),
  contextual({
    id: 'railway-token',
    title: 'Railway API token',
    provider: 'railway',
    keywords: ['railway'],
    context: /railway/i,
    value: UUID,
    make: uuid,
    malformed: (g) => g.hex(16),
    env: 'RAILWAY_TOKEN',
    docs: 'https://docs.railway.com/',
  }),
  prefixed({
    id: 'supabase-pat',
    title: 'Supabase personal access token',
    provider: 'supabase',
    severity: 'critical',
    type: 'pat',
    prefix: 'sbp_',
    body: '[a-f0-9]{40}',
    make: (g) => g.join('sbp', '_', g.hex(20)),
    malformed: (g) => g.join('sbp', '_', g.hex(16)),
    env: 'SUPABASE_ACCESS_TOKEN',
    verifiedFormat: true,
    docs: 'https://supabase.com/docs/reference/api/introduction',
  }),
  prefixed({
    // sb_secret_ + 22 base64url + _ + 8 (a checksum of unpublished algorithm).
    id: 'supabase-secret-key',
    title: 'Supabase secret API key',
    provider: 'supabase',
    severity: 'critical',
    prefix: 'sb_secret_',
    body: '[A-Za-z0-9_-]{22}_[A-Za-z0-9_-]{8}',
    make: (g) => g.join('sb_', 'secret_', g.chars(22, URLSAFE), '_', g.chars(8, URLSAFE)),
    malformed: (g) => g.join('sb_', 'secret_', g.chars(22, URLSAFE), '_', g.chars(5, URLSAFE)),
    env: 'SUPABASE_SECRET_KEY',
    verifiedFormat: false,
    docs: 'https://supabase.com/docs/guides/api/api-keys',
  }),

  // ---- Infrastructure tooling ----
  prefixed({
    id: 'vault-token',
    title: 'HashiCorp Vault service or recovery token',
    provider: 'hashicorp',
    type: 'service-account-token',
    prefix: 'hv',
    keywords: ['hvs.', 'hvr.'],
    body: '[sr]\\.[A-Za-z0-9_-]{90,512}',
    make: (g) => g.join('hvs', '.', g.chars(95, URLSAFE)),
    malformed: (g) => g.join('hvs', '.', g.chars(24)),
    env: 'VAULT_TOKEN',
    verifiedFormat: false,
    minEntropy: 4,
    docs: 'https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes',
  }),
  prefixed({
    id: 'vault-batch-token',
    title: 'HashiCorp Vault batch token',
    provider: 'hashicorp',
    type: 'service-account-token',
    prefix: 'hvb.',
    body: '[A-Za-z0-9_-]{138,512}',
    make: (g) => g.join('hvb', '.', g.chars(150, URLSAFE)),
    malformed: (g) => g.join('hvb', '.', g.chars(100, URLSAFE)),
    env: 'VAULT_TOKEN',
    verifiedFormat: false,
    minEntropy: 4,
    docs: 'https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes',
  }),
  {
    id: 'terraform-cloud-token',
    title: 'HCP Terraform / Terraform Enterprise API token',
    severity: 'high',
    provider: 'hashicorp',
    type: 'api-key',
    keywords: ['.atlasv1.'],
    // <14 alphanumerics>.atlasv1.<about 67 characters>.
    pattern:
      /(?<![A-Za-z0-9_.-])(?<secret>[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})(?![A-Za-z0-9_=-])/,
    verifiedFormat: false,
    minEntropy: 4,
    docs: 'https://developer.hashicorp.com/terraform/cloud-docs/users-teams-organizations/api-tokens',
    cases: {
      positives: (g) => [
        `TF_TOKEN_app_terraform_io=${g.chars(14)}.atlasv1.${g.chars(67, URLSAFE)}`,
        `credentials "app.terraform.io" { token = "${g.chars(14)}.atlasv1.${g.chars(67, URLSAFE)}" }`,
      ],
      negatives: (g) => [
        `token = "${'x'.repeat(14)}.atlasv1.${'x'.repeat(67)}"`,
        `token = "${g.chars(14)}.atlasv1.${g.chars(40, URLSAFE)}"`,
        'Tokens look like <id>.atlasv1.<secret>.',
      ],
    },
  },
  dopplerToken('pt', 'doppler-personal-token', 'Doppler personal token', 'high'),
  dopplerToken('st', 'doppler-service-token', 'Doppler service token', 'high'),
  dopplerToken('sa', 'doppler-service-account-token', 'Doppler service account token', 'critical'),
  dopplerToken('ct', 'doppler-cli-token', 'Doppler CLI token', 'high'),
  prefixed({
    id: 'pulumi-access-token',
    title: 'Pulumi access token',
    provider: 'pulumi',
    prefix: 'pul-',
    body: '[a-f0-9]{40}',
    make: (g) => g.join('pul', '-', g.hex(20)),
    malformed: (g) => g.join('pul', '-', g.hex(16)),
    env: 'PULUMI_ACCESS_TOKEN',
    verifiedFormat: true,
    docs: 'https://www.pulumi.com/docs/pulumi-cloud/access-management/access-tokens/',
  }),
  {
    id: '1password-service-account-token',
    title: '1Password service account token',
    severity: 'critical',
    provider: '1password',
    type: 'service-account-token',
    keywords: ['ops_eyJ'],
    // `ops_` + base64 of a JSON sign-in record; decoded and checked for the record's key fields.
    pattern: new RegExp(`${B}(?<secret>ops_eyJ[A-Za-z0-9+/_-]{250,8192}={0,3})${B64E}`),
    check: (secret) => {
      const record = decodeBase64Json(secret.slice(4));
      return record !== null && 'secretKey' in record && ('muk' in record || 'srpX' in record);
    },
    verifiedFormat: true,
    minEntropy: 4,
    docs: 'https://developer.1password.com/docs/service-accounts/security/',
    cases: {
      positives: (g) => [
        `export OP_SERVICE_ACCOUNT_TOKEN=${opsToken(g)}`,
        `OP_SERVICE_ACCOUNT_TOKEN: "${opsToken(g)}"`,
      ],
      negatives: (g) => [
        'export OP_SERVICE_ACCOUNT_TOKEN=ops_eyJzaWduSW5BZGRyZXNzIjoiaHR0cHM6...',
        `OP_SERVICE_ACCOUNT_TOKEN=${opsToken(g, { note: g.chars(300), kind: 'not-a-token' })}`,
        `OP_SERVICE_ACCOUNT_TOKEN=ops_eyJ${g.base64(240)}`,
      ],
    },
  },
  {
    id: 'age-secret-key',
    title: 'age secret key',
    severity: 'critical',
    provider: 'age',
    type: 'private-key',
    keywords: ['AGE-SECRET-KEY-1'],
    // Bech32 (BIP-173) with HRP `age-secret-key-`: 52 data + 6 checksum characters, upper case.
    pattern:
      /(?<![A-Za-z0-9-])(?<secret>AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})(?![A-Za-z0-9])/,
    check: (secret) => hasValidBech32(secret),
    verifiedFormat: true,
    minEntropy: 4,
    docs: 'https://age-encryption.org/v1',
    cases: {
      positives: (g) => [
        `# created: 2026-01-01T00:00:00Z\n# public key: age1${g.chars(58, BECH32_CHARSET)}\n${ageKey(g)}`,
        `SOPS_AGE_KEY=${ageKey(g)}`,
      ],
      negatives: (g) => [
        `SOPS_AGE_KEY=${ageKey(g, false)}`,
        `SOPS_AGE_KEY=${ageKey(g).slice(0, -4)}`,
        `SOPS_AGE_KEY=AGE-SECRET-KEY-1${'Q'.repeat(58)}`,
      ],
    },
  },
  contextual({
    id: 'scaleway-secret-key',
    title: 'Scaleway secret key',
    provider: 'scaleway',
    severity: 'high',
    type: 'access-key',
    keywords: ['scaleway', 'scw_'],
    context: /scaleway|scw_/i,
    value: UUID,
    make: uuid,
    malformed: (g) => g.hex(16),
    env: 'SCW_SECRET_KEY',
    docs: 'https://www.scaleway.com/en/docs/iam/concepts/',
  }),
  prefixed({
    id: 'scaleway-access-key',
    title: 'Scaleway access key ID',
    provider: 'scaleway',
    severity: 'medium',
    type: 'access-key',
    prefix: 'SCW',
    body: '[A-Z0-9]{17}',
    make: (g) => g.join('SC', 'W', g.chars(17, UPPER_ALNUM)),
    malformed: (g) => g.join('SC', 'W', g.chars(12, UPPER_ALNUM)),
    env: 'SCW_ACCESS_KEY',
    verifiedFormat: false,
    check: (secret) => /[0-9]/.test(secret) && /[A-Z]/.test(secret.slice(3)),
    docs: 'https://www.scaleway.com/en/docs/iam/concepts/',
  }),
  contextual({
    id: 'linode-token',
    title: 'Linode (Akamai) personal access token',
    provider: 'linode',
    type: 'pat',
    keywords: ['linode'],
    context: /linode/i,
    value: '[a-f0-9]{64}',
    make: (g) => g.hex(32),
    malformed: (g) => g.hex(30),
    env: 'LINODE_TOKEN',
    docs: 'https://techdocs.akamai.com/linode-api/reference/get-started',
  }),
  contextual({
    id: 'hetzner-cloud-token',
    title: 'Hetzner Cloud API token',
    provider: 'hetzner',
    keywords: ['hcloud', 'hetzner'],
    context: /hcloud|hetzner/i,
    value: '[A-Za-z0-9]{64}',
    make: (g) => g.chars(64),
    malformed: (g) => g.chars(60),
    env: 'HCLOUD_TOKEN',
    minEntropy: 4,
    check: (secret) => hasCharClasses(secret, 3),
    docs: 'https://docs.hetzner.cloud/#authentication',
  }),
  prefixed({
    id: 'databricks-token',
    title: 'Databricks personal access token',
    provider: 'databricks',
    type: 'pat',
    prefix: 'dapi',
    body: '[a-f0-9]{32}(?:-[0-9])?',
    make: (g) => g.join('da', 'pi', g.hex(16)),
    malformed: (g) => g.join('da', 'pi', g.hex(14)),
    env: 'DATABRICKS_TOKEN',
    verifiedFormat: true,
    docs: 'https://docs.databricks.com/en/dev-tools/auth/pat.html',
  }),
  prefixed({
    id: 'akamai-edgegrid-token',
    title: 'Akamai EdgeGrid client or access token',
    provider: 'akamai',
    severity: 'medium',
    prefix: 'akab-',
    body: '[a-z0-9]{16}-[a-z0-9]{16}',
    make: (g) => g.join('ak', 'ab-', g.chars(16, LOWER_ALNUM), '-', g.chars(16, LOWER_ALNUM)),
    malformed: (g) => g.join('ak', 'ab-', g.chars(16, LOWER_ALNUM), '-', g.chars(10, LOWER_ALNUM)),
    env: 'AKAMAI_CLIENT_TOKEN',
    verifiedFormat: false,
    docs: 'https://techdocs.akamai.com/developer/docs/',
  }),
];
