import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import { createFingerprinter } from '../../core/fingerprint.js';
import { IMPORTER_KINDS, type ImporterKind } from './importer-types.js';
import { detectImporterKind, getImporter, IMPORTERS } from './index.js';

const ctx = { fingerprinter: createFingerprinter(Buffer.alloc(32, 7)), now: '2025-06-01T00:00:00.000Z' };
const fixture = (path: string): Buffer => readFileSync(new URL(`./fixtures/${path}`, import.meta.url));

function failure(kind: ImporterKind, fileName: string, content: Buffer): ValidationError {
  try {
    IMPORTERS[kind].parse({ fileName, content }, ctx);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe('KW_INVALID_IMPORT');
    expect((err as ValidationError).message.startsWith(fileName)).toBe(true);
    expect((err as ValidationError).details.length).toBeGreaterThan(0);
    return err as ValidationError;
  }
  throw new Error(`expected the ${kind} importer to reject ${fileName}`);
}

describe('importer registry', () => {
  it('has one importer per kind', () => {
    expect(Object.keys(IMPORTERS).sort()).toEqual([...IMPORTER_KINDS].sort());
    for (const kind of IMPORTER_KINDS) {
      expect(getImporter(kind).kind).toBe(kind);
      expect(getImporter(kind).description.length).toBeGreaterThan(10);
    }
  });

  it('rejects an unknown kind, listing the valid ones', () => {
    expect(() => getImporter('azure')).toThrow(
      'unknown import kind "azure"; use one of: mcp, dotenv, aws, kubernetes, github, directory',
    );
    expect(() => getImporter('azure')).toThrow(ValidationError);
  });
});

describe('detectImporterKind', () => {
  it.each([
    ['claude_desktop_config.json', 'mcp/claude_desktop_config.json', 'mcp'],
    ['.cursor/mcp.json', 'mcp/cursor-mcp.json', 'mcp'],
    ['config.json', 'mcp/vscode-mcp.json', 'mcp'],
    ['services/billing/.env.production', 'dotenv/billing.env', 'dotenv'],
    ['settings.txt', 'dotenv/billing.env', 'dotenv'],
    ['auth.json', 'aws/account-authorization-details.json', 'aws'],
    ['report.csv', 'aws/credential-report.csv', 'aws'],
    ['cluster.json', 'kubernetes/cluster.json', 'kubernetes'],
    ['installations.json', 'github/installations.json', 'github'],
    ['keys.json', 'github/deploy-keys.json', 'github'],
    ['pats.json', 'github/personal-access-tokens.json', 'github'],
    ['github.json', 'github/combined.json', 'github'],
    ['people.csv', 'directory/hr-export.csv', 'directory'],
    ['okta.json', 'directory/okta-users.json', 'directory'],
    ['users.json', 'directory/users.json', 'directory'],
  ])('%s (%s) → %s', (fileName, path, kind) => {
    expect(detectImporterKind(fileName, fixture(path))).toBe(kind);
  });

  it('returns null for what no importer reads', () => {
    expect(detectImporterKind('x.bin', Buffer.from([0, 1, 2, 3]))).toBeNull();
    expect(detectImporterKind('x.json', '{"hello": "world"}')).toBeNull();
    expect(detectImporterKind('x.txt', 'just some prose\n')).toBeNull();
    expect(detectImporterKind('x.json', '')).toBeNull();
    expect(detectImporterKind('x.json', '{broken')).toBeNull();
  });
});

const VALID: Array<[ImporterKind, string, string]> = [
  ['mcp', 'claude_desktop_config.json', 'mcp/claude_desktop_config.json'],
  ['mcp', '.cursor/mcp.json', 'mcp/cursor-mcp.json'],
  ['mcp', '.vscode/mcp.json', 'mcp/vscode-mcp.json'],
  ['dotenv', 'services/billing/.env.production', 'dotenv/billing.env'],
  ['aws', 'auth.json', 'aws/account-authorization-details.json'],
  ['aws', 'report.csv', 'aws/credential-report.csv'],
  ['kubernetes', 'cluster.json', 'kubernetes/cluster.json'],
  ['github', 'installations.json', 'github/installations.json'],
  ['github', 'deploy-keys.json', 'github/deploy-keys.json'],
  ['github', 'pats.json', 'github/personal-access-tokens.json'],
  ['github', 'github.json', 'github/combined.json'],
  ['directory', 'people.csv', 'directory/hr-export.csv'],
  ['directory', 'okta.json', 'directory/okta-users.json'],
];

describe('every importer', () => {
  it.each(VALID)(
    '%s: importing %s twice gives the identical batch, with unique keys',
    (kind, fileName, path) => {
      const a = IMPORTERS[kind].parse({ fileName, content: fixture(path) }, ctx);
      const b = IMPORTERS[kind].parse({ fileName, content: fixture(path) }, { ...ctx, now: ctx.now });
      expect(b).toEqual(a);
      const ids = a.identities.map((i) => `${i.provider}:${i.externalId}`);
      expect(new Set(ids).size).toBe(ids.length);
      const creds = a.credentials.map((c) => `${c.identity.externalId}:${c.fingerprint}`);
      expect(new Set(creds).size).toBe(creds.length);
      const grants = a.grants.map((g) => `${g.identity.externalId}:${g.key}`);
      expect(new Set(grants).size).toBe(grants.length);
      // Every credential and grant points at an identity of the same batch.
      for (const r of [...a.credentials, ...a.grants])
        expect(ids).toContain(`${r.identity.provider}:${r.identity.externalId}`);
      for (const c of a.credentials) expect(c.preview.length).toBeLessThanOrEqual(9);
    },
  );

  it.each(IMPORTER_KINDS)(
    '%s: rejects an empty file, a blank file, binary data and invalid UTF-8',
    (kind) => {
      expect(failure(kind, 'in.file', Buffer.alloc(0)).message).toMatch(
        /^in\.file: the file is empty; expected /,
      );
      expect(failure(kind, 'in.file', Buffer.from('\n  \n')).message).toMatch(
        /^in\.file: the file holds only whitespace; expected /,
      );
      expect(
        failure(kind, 'in.file', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00])).message,
      ).toMatch(/^in\.file:1: the file contains a NUL byte at byte 7; it looks binary, not /);
      expect(failure(kind, 'in.file', Buffer.from([0x7b, 0x0a, 0xff, 0xfe, 0x7d])).message).toMatch(
        /^in\.file:2: the file is not valid UTF-8 \(first invalid byte at offset 2\)/,
      );
    },
  );

  it.each(['mcp', 'aws', 'kubernetes', 'github', 'directory'] as const)(
    '%s: gives line:column for truncated JSON',
    (kind) => {
      const err = failure(kind, 'in.json', Buffer.from('{\n  "items": [\n    {"a": 1}\n'));
      expect(err.message).toBe(
        'in.json:4:1: invalid JSON: unexpected end of file: an array is not closed (the JSON is truncated)',
      );
      expect(err.details).toEqual([
        {
          path: 'in.json:4:1',
          message: 'unexpected end of file: an array is not closed (the JSON is truncated)',
        },
      ]);
    },
  );

  it.each(['mcp', 'kubernetes', 'github', 'directory'] as const)(
    '%s: rejects a JSON value of the wrong type',
    (kind) => {
      failure(kind, 'in.json', Buffer.from('"a string"'));
      failure(kind, 'in.json', Buffer.from('12'));
    },
  );

  it.each(IMPORTER_KINDS)('%s: throws only ValidationError on arbitrary bytes (property)', (kind) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          IMPORTERS[kind].parse({ fileName: 'in.file', content: Buffer.from(bytes) }, ctx);
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationError);
          expect((err as ValidationError).message.startsWith('in.file')).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it.each(IMPORTER_KINDS)('%s: throws only ValidationError on arbitrary JSON (property)', (kind) => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        try {
          IMPORTERS[kind].parse(
            { fileName: 'in.json', content: Buffer.from(JSON.stringify(value) ?? 'null') },
            ctx,
          );
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('50 MB files', () => {
  const MB50 = 50 * 1024 * 1024;
  const cases: Array<[string, () => Buffer]> = [
    [
      'truncated JSON',
      () => Buffer.concat([Buffer.from('{"mcpServers": {"x": {"command": "'), Buffer.alloc(MB50, 'a')]),
    ],
    ['deeply nested JSON', () => Buffer.alloc(MB50, '[')],
    ['one endless line', () => Buffer.alloc(MB50, 'A')],
    ['random binary', () => Buffer.alloc(MB50, 'JUNK\u0000')],
  ];

  it.each(cases)(
    'every importer rejects %s with a clear error in a few seconds',
    (_name, make) => {
      const content = make();
      for (const kind of IMPORTER_KINDS) {
        const started = Date.now();
        const err = failure(kind, 'big.file', content);
        expect(err.message.length).toBeLessThan(400);
        expect(Date.now() - started).toBeLessThan(15_000);
      }
    },
    120_000,
  );

  it('stops reading a large file of bad records after 20 problems', () => {
    const row = '{"email": 12},';
    const content = Buffer.from(`{"users": [${row.repeat(Math.floor(MB50 / row.length))}{"email": 1}]}`);
    const started = Date.now();
    const err = failure('directory', 'big.json', content);
    expect(err.details).toHaveLength(20);
    expect(err.details[0]).toEqual({ path: 'big.json: users[0].email', message: 'not an email address' });
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 120_000);
});
