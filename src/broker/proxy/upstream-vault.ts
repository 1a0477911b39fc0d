/**
 * The upstream vault: upstream credentials sealed at rest with the `vault` secret box, and the validation that
 * turns an upstream definition (from the API or the CLI) into the record `store.saveUpstream` takes.
 */
import { z } from 'zod';
import type { Upstream, UpstreamInput, UpstreamRoute } from '../../core/broker-types.js';
import { ValidationError, type ErrorDetail } from '../../core/errors.js';
import type { Fingerprinter } from '../../core/fingerprint.js';
import { createSecretBox } from '../../core/secret-box.js';
import { normalizeProxyPath, routePatternProblem, UPSTREAM_METHODS } from './upstream-routes.js';

/** Upstream names: lower-case letters and digits in hyphen-separated words (`github`, `jira-cloud`). */
export const UPSTREAM_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const MAX_UPSTREAM_NAME_LENGTH = 63;
/** The longest credential the vault takes (characters). */
export const MAX_UPSTREAM_SECRET_LENGTH = 8192;

/** Limits on an upstream definition; real ones stay far below them. */
export const UPSTREAM_LIMITS = { routes: 200, pathsPerRoute: 100, patternLength: 1000 } as const;

/**
 * Header names the credential may not be sent in: they frame the message or belong to one connection
 * (RFC 9110 §7.6.1), so setting them would break or smuggle requests.
 */
const FORBIDDEN_CREDENTIAL_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'upgrade',
  'expect',
]);

// RFC 9110 §5.6.2 token.
const HEADER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 6749 §3.3 scope-token.
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\x00-\x1f\x7f]/;

/**
 * The record id the vault binds an upstream's sealed credential to: `upstream:<name>`. The name, not the
 * `ups_…` id, because the store assigns the id when it inserts the record, after the credential is sealed;
 * the name is the upstream's natural key (saveUpstream is keyed by it) and never changes.
 */
export function upstreamVaultRecordId(upstreamName: string): string {
  return `upstream:${upstreamName}`;
}

/** Seals and opens upstream credentials under one master key (the `vault` purpose key is derived once). */
export interface UpstreamVault {
  seal(upstreamName: string, secret: string): string;
  /** Throws SecretBoxError (KW_INTERNAL) when the blob does not open; the message never holds the secret. */
  open(upstream: Pick<Upstream, 'name' | 'sealedSecret'>): string;
}

/**
 * Creates the upstream vault for an installation's master key.
 *
 * @example
 * const vault = createUpstreamVault(masterKey);
 * const proxy = createCredentialProxy({ ..., openSecret: (upstream) => vault.open(upstream) });
 */
export function createUpstreamVault(masterKey: Buffer): UpstreamVault {
  const box = createSecretBox(masterKey, 'vault');
  return {
    seal: (upstreamName, secret) => box.seal(secret, upstreamVaultRecordId(upstreamName)),
    open: (upstream) => box.openText(upstream.sealedSecret, upstreamVaultRecordId(upstream.name)),
  };
}

/** Seals an upstream credential (AES-256-GCM, `vault` purpose) bound to the upstream's name. */
export function sealUpstreamSecret(masterKey: Buffer, upstreamName: string, secret: string): string {
  return createUpstreamVault(masterKey).seal(upstreamName, secret);
}

/** Opens an upstream's sealed credential; throws SecretBoxError when it was changed or moved to another upstream. */
export function openUpstreamSecret(
  masterKey: Buffer,
  upstream: Pick<Upstream, 'name' | 'sealedSecret'>,
): string {
  return createUpstreamVault(masterKey).open(upstream);
}

/** An upstream as a person defines it: the credential in plaintext, before it is sealed. */
export interface UpstreamDefinition {
  name: string;
  /** `https://api.example.com` or with a path prefix (`https://example.com/api/v2`). */
  baseUrl: string;
  auth: { kind: 'header' | 'basic' | 'bearer'; headerName?: string };
  /** The credential: the header value, `user:password` for basic, the token for bearer. */
  secret: string;
  routes: UpstreamRoute[];
}

/** Options of describeUpstreamInput. */
export interface DescribeUpstreamOptions {
  /** Allow `http://` to any host (by default only https, and http on 127.0.0.1, [::1] and localhost). */
  allowInsecure?: boolean;
}

/** A type error message that says "is required" when the value is missing. */
function expected(what: string) {
  return {
    error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `expected ${what}`),
  };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

function baseUrlSchema(allowInsecure: boolean) {
  return z.string(expected('a URL')).transform((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `'${text}' is not an absolute URL` });
      return z.NEVER;
    }
    const problem = (message: string) => {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    };
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return problem('must be an https:// URL');
    if (url.protocol === 'http:' && !allowInsecure && !LOOPBACK_HOSTS.has(url.hostname)) {
      return problem(
        'must be an https:// URL (http:// only on 127.0.0.1, [::1] or localhost unless insecure upstreams are allowed)',
      );
    }
    if (url.username !== '' || url.password !== '') {
      return problem('must not hold a user name or password; put the credential in the secret');
    }
    if (url.search !== '' || text.includes('?')) return problem('must not have a query');
    if (url.hash !== '' || text.includes('#')) return problem('must not have a fragment');
    const pathname = url.pathname.replace(/\/+$/, '');
    if (pathname !== '') {
      const checked = normalizeProxyPath(pathname);
      if (!checked.ok) return problem(checked.message);
    }
    return `${url.origin}${pathname}`;
  });
}

const authSchema = z
  .strictObject(
    {
      kind: z.enum(['header', 'basic', 'bearer'], expected("'header', 'basic' or 'bearer'")),
      headerName: z.string(expected('a header name')).optional(),
    },
    expected('an object with a kind'),
  )
  .superRefine((auth, ctx) => {
    if (auth.kind !== 'header') {
      if (auth.headerName !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['headerName'], message: `is only used with kind 'header'` });
      }
      return;
    }
    const name = auth.headerName;
    if (name === undefined || name === '') {
      ctx.addIssue({ code: 'custom', path: ['headerName'], message: "is required for kind 'header'" });
    } else if (!HEADER_TOKEN.test(name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['headerName'],
        message: `'${name}' is not a header name (letters, digits and !#$%&'*+-.^_\`|~ only)`,
      });
    } else {
      const lower = name.toLowerCase();
      if (FORBIDDEN_CREDENTIAL_HEADERS.has(lower) || lower.startsWith('proxy-')) {
        ctx.addIssue({
          code: 'custom',
          path: ['headerName'],
          message: `'${name}' frames the message or belongs to one connection; the credential cannot be sent in it`,
        });
      }
    }
  });

const routeSchema = z.strictObject(
  {
    scope: z.string(expected('a scope')).superRefine((s, ctx) => {
      if (s === '') ctx.addIssue({ code: 'custom', message: 'must not be empty' });
      else if (!SCOPE_TOKEN.test(s)) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be a scope: printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3)',
        });
      }
    }),
    methods: z
      .array(
        z
          .string(expected('an HTTP method'))
          .transform((m) => m.toUpperCase())
          .refine((m) => (UPSTREAM_METHODS as readonly string[]).includes(m), {
            message: `must be one of ${UPSTREAM_METHODS.join(', ')}`,
          }),
        expected('a list of HTTP methods'),
      )
      .min(1, 'must list at least one method')
      .superRefine((list, ctx) => {
        list.forEach((m, i) => {
          const first = list.indexOf(m);
          if (first !== i) {
            ctx.addIssue({
              code: 'custom',
              path: [i],
              message: `'${m}' is listed twice (also at [${first}])`,
            });
          }
        });
      }),
    paths: z
      .array(
        z
          .string(expected('a path pattern'))
          .max(UPSTREAM_LIMITS.patternLength, `must be at most ${UPSTREAM_LIMITS.patternLength} characters`)
          .superRefine((p, ctx) => {
            const problem = routePatternProblem(p);
            if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
          }),
        expected('a list of path patterns'),
      )
      .min(1, 'must list at least one path pattern')
      .max(UPSTREAM_LIMITS.pathsPerRoute, `must not list more than ${UPSTREAM_LIMITS.pathsPerRoute} paths`),
  },
  expected('an object with scope, methods and paths'),
);

// The secret's checks never put any part of the value into a message.
const secretSchema = z.string(expected('the credential as text')).superRefine((secret, ctx) => {
  if (secret === '') ctx.addIssue({ code: 'custom', message: 'must not be empty' });
  else if (secret.length > MAX_UPSTREAM_SECRET_LENGTH) {
    ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_UPSTREAM_SECRET_LENGTH} characters` });
  } else if (CONTROL_CHARS.test(secret)) {
    ctx.addIssue({ code: 'custom', message: 'must not hold control characters (line breaks, tabs, NUL)' });
  } else if (secret.trim() !== secret) {
    ctx.addIssue({ code: 'custom', message: 'must not start or end with white space' });
  }
});

function definitionSchema(allowInsecure: boolean) {
  return z
    .strictObject(
      {
        name: z
          .string(expected('a name'))
          .max(MAX_UPSTREAM_NAME_LENGTH, `must be at most ${MAX_UPSTREAM_NAME_LENGTH} characters`)
          .refine((n) => UPSTREAM_NAME.test(n), {
            message: 'must be a slug: lower-case letters and digits in hyphen-separated words (jira-cloud)',
          }),
        baseUrl: baseUrlSchema(allowInsecure),
        auth: authSchema,
        secret: secretSchema,
        routes: z
          .array(routeSchema, expected('a list of routes'))
          .min(1, 'must list at least one route; an upstream without routes allows no call')
          .max(UPSTREAM_LIMITS.routes, `must not list more than ${UPSTREAM_LIMITS.routes} routes`),
      },
      expected('an object with name, baseUrl, auth, secret and routes'),
    )
    .superRefine((d, ctx) => {
      if (d.auth.kind === 'basic' && typeof d.secret === 'string' && !d.secret.includes(':')) {
        ctx.addIssue({
          code: 'custom',
          path: ['secret'],
          message: "must be 'user:password' for kind 'basic'",
        });
      }
    });
}

/** `routes[0].paths[1]` from a zod path. */
function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(upstream)' : out;
}

function toDetails(issues: readonly z.core.$ZodIssue[]): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        details.push({ path: fieldPath([...issue.path, key]), message: 'unknown field' });
      }
    } else {
      details.push({ path: fieldPath(issue.path), message: issue.message });
    }
  }
  return details;
}

/**
 * Validates an upstream definition, seals its credential and returns what `store.saveUpstream` takes, with
 * the credential's keyed fingerprint and redacted preview. Throws ValidationError with one detail per problem
 * (`baseUrl`, `auth.headerName`, `routes[2].paths[0]`); no message ever holds the credential.
 *
 * @example
 * const input = describeUpstreamInput(
 *   { name: 'github', baseUrl: 'https://api.github.com', auth: { kind: 'bearer' }, secret: token,
 *     routes: [{ scope: 'repo:read', methods: ['GET'], paths: ['/repos/acme/*'] }] },
 *   masterKey, fingerprinter);
 * await store.saveUpstream(input, { time, actor });
 */
export function describeUpstreamInput(
  input: unknown,
  masterKey: Buffer,
  fingerprinter: Pick<Fingerprinter, 'describe'>,
  options: DescribeUpstreamOptions = {},
): UpstreamInput {
  const parsed = definitionSchema(options.allowInsecure === true).safeParse(input);
  if (!parsed.success) {
    const details = toDetails(parsed.error.issues);
    const first = details[0]!;
    throw new ValidationError(
      `invalid upstream definition: ${first.path} ${first.message}` +
        (details.length > 1 ? ` (and ${details.length - 1} more)` : ''),
      { details },
    );
  }
  const d = parsed.data;
  const { fingerprint, preview } = fingerprinter.describe(d.secret);
  return {
    name: d.name,
    baseUrl: d.baseUrl,
    auth:
      d.auth.kind === 'header' ? { kind: 'header', headerName: d.auth.headerName! } : { kind: d.auth.kind },
    sealedSecret: sealUpstreamSecret(masterKey, d.name, d.secret),
    secretFingerprint: fingerprint,
    secretPreview: preview,
    routes: d.routes.map((r) => ({ scope: r.scope, methods: [...r.methods], paths: [...r.paths] })),
  };
}
