import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import { createFingerprinter } from '../../core/fingerprint.js';
import { createSecretBox, SecretBoxError } from '../../core/secret-box.js';
import {
  createUpstreamVault,
  describeUpstreamInput,
  openUpstreamSecret,
  sealUpstreamSecret,
  upstreamVaultRecordId,
} from './upstream-vault.js';

const masterKey = Buffer.alloc(32, 7);
const fingerprinter = createFingerprinter(masterKey);
// Built from parts so the project's own secret scan does not take this test value for a committed key.
const SECRET = ['sk', 'live', '9f8e7d6c5b4a3210ZZ'].join('-');

function definition(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'tickets',
    baseUrl: 'https://tickets.example.com/api/v2/',
    auth: { kind: 'header', headerName: 'X-Api-Key' },
    secret: SECRET,
    routes: [
      { scope: 'tickets:read', methods: ['GET', 'head'], paths: ['/tickets/*', '/me'] },
      { scope: 'tickets:write', methods: ['POST'], paths: ['/tickets'] },
    ],
    ...overrides,
  };
}

/** The ValidationError details describeUpstreamInput throws for a definition. */
function problems(input: unknown, options = {}): Array<{ path: string; message: string }> {
  try {
    describeUpstreamInput(input, masterKey, fingerprinter, options);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    const e = err as ValidationError;
    expect(e.code).toBe('KW_VALIDATION');
    expect(JSON.stringify({ message: e.message, details: e.details })).not.toContain(SECRET);
    return e.details;
  }
  throw new Error('expected a ValidationError');
}

describe('sealing upstream credentials', () => {
  it('round-trips and binds the blob to the upstream name', () => {
    const sealed = sealUpstreamSecret(masterKey, 'tickets', SECRET);
    expect(sealed).toMatch(/^kw1\./);
    expect(sealed).not.toContain(SECRET);
    expect(openUpstreamSecret(masterKey, { name: 'tickets', sealedSecret: sealed })).toBe(SECRET);
    expect(upstreamVaultRecordId('tickets')).toBe('upstream:tickets');
  });

  it('does not open for another upstream, another purpose or another master key', () => {
    const sealed = sealUpstreamSecret(masterKey, 'tickets', SECRET);
    const attempts = [
      () => openUpstreamSecret(masterKey, { name: 'billing', sealedSecret: sealed }),
      () => openUpstreamSecret(randomBytes(32), { name: 'tickets', sealedSecret: sealed }),
      () => createSecretBox(masterKey, 'signing-keys').open(sealed, 'upstream:tickets'),
    ];
    for (const attempt of attempts) {
      let error: unknown;
      try {
        attempt();
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(SecretBoxError);
      expect((error as SecretBoxError).reason).toBe('authentication-failed');
      expect((error as Error).message).not.toContain(SECRET);
    }
  });

  it('seals with the vault purpose: the plain secret box opens it under the record id', () => {
    const vault = createUpstreamVault(masterKey);
    const sealed = vault.seal('tickets', SECRET);
    expect(createSecretBox(masterKey, 'vault').openText(sealed, 'upstream:tickets')).toBe(SECRET);
    expect(vault.open({ name: 'tickets', sealedSecret: sealed })).toBe(SECRET);
  });
});

describe('describeUpstreamInput', () => {
  it('returns the record for saveUpstream: normalised URL and methods, sealed secret, fingerprint, preview', () => {
    const input = describeUpstreamInput(definition(), masterKey, fingerprinter);
    const { sealedSecret, ...rest } = input;
    expect(rest).toEqual({
      name: 'tickets',
      baseUrl: 'https://tickets.example.com/api/v2',
      auth: { kind: 'header', headerName: 'X-Api-Key' },
      secretFingerprint: fingerprinter.fingerprint(SECRET),
      secretPreview: 'sk-l…10ZZ',
      routes: [
        { scope: 'tickets:read', methods: ['GET', 'HEAD'], paths: ['/tickets/*', '/me'] },
        { scope: 'tickets:write', methods: ['POST'], paths: ['/tickets'] },
      ],
    });
    expect(JSON.stringify(input)).not.toContain(SECRET);
    expect(openUpstreamSecret(masterKey, { name: 'tickets', sealedSecret })).toBe(SECRET);
  });

  it('keeps basic and bearer auth without a header name', () => {
    expect(
      describeUpstreamInput(
        definition({ auth: { kind: 'basic' }, secret: 'bot:pa55' }),
        masterKey,
        fingerprinter,
      ).auth,
    ).toEqual({ kind: 'basic' });
    expect(
      describeUpstreamInput(definition({ auth: { kind: 'bearer' } }), masterKey, fingerprinter).auth,
    ).toEqual({
      kind: 'bearer',
    });
  });

  it('accepts http only on loopback, unless insecure upstreams are allowed', () => {
    for (const url of ['http://127.0.0.1:8080', 'http://localhost:3000/x', 'http://[::1]:9000']) {
      expect(describeUpstreamInput(definition({ baseUrl: url }), masterKey, fingerprinter).baseUrl).toBe(url);
    }
    expect(problems(definition({ baseUrl: 'http://tickets.internal' }))).toEqual([
      {
        path: 'baseUrl',
        message:
          'must be an https:// URL (http:// only on 127.0.0.1, [::1] or localhost unless insecure upstreams are allowed)',
      },
    ]);
    expect(
      describeUpstreamInput(definition({ baseUrl: 'http://tickets.internal' }), masterKey, fingerprinter, {
        allowInsecure: true,
      }).baseUrl,
    ).toBe('http://tickets.internal');
  });

  it.each([
    ['ftp://tickets.example.com', 'must be an https:// URL'],
    ['tickets.example.com', "'tickets.example.com' is not an absolute URL"],
    [
      'https://bot:pw@tickets.example.com',
      'must not hold a user name or password; put the credential in the secret',
    ],
    ['https://tickets.example.com/api?key=1', 'must not have a query'],
    ['https://tickets.example.com/api#x', 'must not have a fragment'],
    ['https://tickets.example.com/a%2Fb', 'the path holds an encoded slash (%2F)'],
  ])('refuses the base URL %j', (baseUrl, message) => {
    expect(problems(definition({ baseUrl }))).toEqual([{ path: 'baseUrl', message }]);
  });

  it('names every problem by its field path', () => {
    expect(
      problems({
        name: 'Tickets App',
        baseUrl: 'https://tickets.example.com',
        auth: { kind: 'header', headerName: 'Content-Length' },
        secret: SECRET,
        routes: [
          { scope: '', methods: ['GET', 'FETCH', 'get'], paths: ['tickets/*', '/a/../b', '/ok'] },
          { scope: 'has space', methods: [], paths: [] },
          { scope: 'x', methods: ['GET'], paths: ['/x'], extra: true },
        ],
        color: 'blue',
      }),
    ).toEqual([
      {
        path: 'name',
        message: 'must be a slug: lower-case letters and digits in hyphen-separated words (jira-cloud)',
      },
      {
        path: 'auth.headerName',
        message:
          "'Content-Length' frames the message or belongs to one connection; the credential cannot be sent in it",
      },
      { path: 'routes[0].scope', message: 'must not be empty' },
      {
        path: 'routes[0].methods[1]',
        message: 'must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
      },
      { path: 'routes[0].methods[2]', message: "'GET' is listed twice (also at [0])" },
      { path: 'routes[0].paths[0]', message: "must start with '/'" },
      { path: 'routes[0].paths[1]', message: 'holds a dot segment (..)' },
      {
        path: 'routes[1].scope',
        message: 'must be a scope: printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3)',
      },
      { path: 'routes[1].methods', message: 'must list at least one method' },
      { path: 'routes[1].paths', message: 'must list at least one path pattern' },
      { path: 'routes[2].extra', message: 'unknown field' },
      { path: 'color', message: 'unknown field' },
    ]);
  });

  it.each([
    [{ kind: 'header' }, 'auth.headerName', "is required for kind 'header'"],
    [
      { kind: 'header', headerName: 'X Api Key' },
      'auth.headerName',
      "'X Api Key' is not a header name (letters, digits and !#$%&'*+-.^_`|~ only)",
    ],
    [
      { kind: 'header', headerName: 'host' },
      'auth.headerName',
      "'host' frames the message or belongs to one connection; the credential cannot be sent in it",
    ],
    [
      { kind: 'header', headerName: 'Transfer-Encoding' },
      'auth.headerName',
      "'Transfer-Encoding' frames the message or belongs to one connection; the credential cannot be sent in it",
    ],
    [
      { kind: 'header', headerName: 'Connection' },
      'auth.headerName',
      "'Connection' frames the message or belongs to one connection; the credential cannot be sent in it",
    ],
    [
      { kind: 'header', headerName: 'Proxy-Authorization' },
      'auth.headerName',
      "'Proxy-Authorization' frames the message or belongs to one connection; the credential cannot be sent in it",
    ],
    [{ kind: 'bearer', headerName: 'X-Api-Key' }, 'auth.headerName', "is only used with kind 'header'"],
    [{ kind: 'digest' }, 'auth.kind', "expected 'header', 'basic' or 'bearer'"],
  ])('refuses the auth %j', (auth, path, message) => {
    expect(problems(definition({ auth }))).toEqual([{ path, message }]);
  });

  it.each([
    ['', 'must not be empty'],
    [`${SECRET}\r\nX-Injected: 1`, 'must not hold control characters (line breaks, tabs, NUL)'],
    [` ${SECRET}`, 'must not start or end with white space'],
    ['x'.repeat(8193), 'must be at most 8192 characters'],
  ])('refuses a bad secret without quoting it (%#)', (secret, message) => {
    expect(problems(definition({ secret }))).toEqual([{ path: 'secret', message }]);
  });

  it('requires user:password for basic auth and never quotes the secret', () => {
    expect(problems(definition({ auth: { kind: 'basic' } }))).toEqual([
      { path: 'secret', message: "must be 'user:password' for kind 'basic'" },
    ]);
  });

  it('says what is missing', () => {
    expect(problems({})).toEqual([
      { path: 'name', message: 'is required' },
      { path: 'baseUrl', message: 'is required' },
      { path: 'auth', message: 'is required' },
      { path: 'secret', message: 'is required' },
      { path: 'routes', message: 'is required' },
    ]);
    expect(problems(definition({ routes: [] }))).toEqual([
      { path: 'routes', message: 'must list at least one route; an upstream without routes allows no call' },
    ]);
    expect(problems(definition({ name: 5, routes: 'all' }))).toEqual([
      { path: 'name', message: 'expected a name' },
      { path: 'routes', message: 'expected a list of routes' },
    ]);
    expect(problems('tickets')).toEqual([
      { path: '(upstream)', message: 'expected an object with name, baseUrl, auth, secret and routes' },
    ]);
  });

  it('puts the first problem and a count in the message', () => {
    try {
      describeUpstreamInput(definition({ name: 'X', secret: '' }), masterKey, fingerprinter);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toBe(
        'invalid upstream definition: name must be a slug: lower-case letters and digits in hyphen-separated words (jira-cloud) (and 1 more)',
      );
    }
  });
});
