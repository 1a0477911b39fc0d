import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ValidationError } from '../../core/errors.js';
import { createFingerprinter } from '../../core/fingerprint.js';
import { detectCredential } from './credential-detector.js';
import {
  createIssueCollector,
  credentialInputsFrom,
  decodeText,
  documentPath,
  environmentFromName,
  formatPath,
  lineIndex,
  normaliseEnvironment,
  pickCaseInsensitive,
} from './importer-support.js';

function decodeError(content: Buffer): ValidationError {
  try {
    decodeText({ fileName: 'x.json', content }, 'JSON');
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe('KW_INVALID_IMPORT');
    return err as ValidationError;
  }
  throw new Error('expected a decode error');
}

describe('decodeText', () => {
  it('strips a UTF-8 byte-order mark', () => {
    expect(decodeText({ fileName: 'x', content: Buffer.from('\uFEFF{"a":1}') }, 'JSON')).toBe('{"a":1}');
  });

  it('rejects empty, blank, binary, UTF-16 and invalid UTF-8 files with where and why', () => {
    expect(decodeError(Buffer.alloc(0)).message).toBe('x.json: the file is empty; expected JSON');
    expect(decodeError(Buffer.from(' \n\t\n')).message).toBe(
      'x.json: the file holds only whitespace; expected JSON',
    );
    expect(decodeError(Buffer.from('{"a":\n1\u0000}')).message).toBe(
      'x.json:2: the file contains a NUL byte at byte 7; it looks binary, not JSON',
    );
    expect(decodeError(Buffer.from('\uFEFF{}', 'utf16le')).message).toBe(
      'x.json: the file is UTF-16 encoded; save it as UTF-8 (expected JSON)',
    );
    expect(decodeError(Buffer.concat([Buffer.from('ok\nok\n'), Buffer.from([0xc3, 0x28])])).message).toBe(
      'x.json:3: the file is not valid UTF-8 (first invalid byte at offset 6); expected JSON',
    );
    // Overlong encoding and an encoded surrogate are invalid too.
    expect(decodeError(Buffer.from([0x41, 0xe0, 0x80, 0xaf])).message).toContain(
      'first invalid byte at offset 1',
    );
    expect(decodeError(Buffer.from([0xed, 0xa0, 0x80])).message).toContain('first invalid byte at offset 0');
  });
});

describe('paths', () => {
  it('formats paths as a reader writes them', () => {
    expect(formatPath(['UserDetailList', 3, 'UserName'])).toBe('UserDetailList[3].UserName');
    expect(formatPath(['mcpServers', 'brave-search', 'env', 'API_KEY'])).toBe(
      'mcpServers.brave-search.env.API_KEY',
    );
    expect(formatPath(['annotations', 'kubernetes.io/name', 0])).toBe('annotations["kubernetes.io/name"][0]');
    expect(formatPath([0, 'a'])).toBe('[0].a');
    expect(documentPath('auth.json', ['Policies', 2])).toBe('auth.json: Policies[2]');
    expect(documentPath('auth.json', [])).toBe('auth.json');
  });

  it('maps offsets to lines', () => {
    const lineOf = lineIndex('a\nbb\n\nc');
    expect([0, 1, 2, 4, 5, 6].map(lineOf)).toEqual([1, 1, 2, 2, 3, 4]);
  });
});

describe('issue collector', () => {
  it('turns zod issues into file: path messages and throws them together', () => {
    const issues = createIssueCollector('f.json');
    const schema = z.object({ name: z.string(), tags: z.array(z.string()), mode: z.enum(['a', 'b']) });
    expect(issues.check(schema, { tags: 'x', mode: 'c' }, ['items', 2])).toBeUndefined();
    issues.add('f.json:9', 'custom');
    expect(() => issues.throwIfAny()).toThrow(
      'f.json: items[2].name: required string is missing (and 3 more problems)',
    );
    try {
      issues.throwIfAny();
    } catch (err) {
      expect((err as ValidationError).details).toEqual([
        { path: 'f.json: items[2].name', message: 'required string is missing' },
        { path: 'f.json: items[2].tags', message: 'expected array, got string' },
        { path: 'f.json: items[2].mode', message: 'expected one of a, b' },
        { path: 'f.json:9', message: 'custom' },
      ]);
    }
  });

  it('reports the problems of the alternative a value fits, and stops at 20 problems', () => {
    const issues = createIssueCollector('f.json');
    const one = z.object({ Effect: z.enum(['Allow', 'Deny']) });
    issues.check(z.union([one, z.array(one)]), [{ Effect: 'Permit' }], ['Statement']);
    expect(issues.count()).toBe(1);
    expect(() => {
      for (let i = 0; i < 100; i++) issues.addAt(['x', i], 'bad');
    }).toThrow(/stopped reading after this many problems$/);
    expect(issues.count()).toBe(20);
  });
});

describe('environments', () => {
  it('normalises tag values and reads names', () => {
    expect(['prod', 'Production', 'stg', 'dev', 'qa', 'eu-blue', ''].map(normaliseEnvironment)).toEqual([
      'production',
      'production',
      'staging',
      'development',
      'test',
      'eu-blue',
      null,
    ]);
    expect(
      ['payments-prod', 'ml_staging', 'kube-system', 'live-chat', 'devtools'].map(environmentFromName),
    ).toEqual(['production', 'staging', null, null, null]);
    expect(pickCaseInsensitive({ Env: ' prod ' }, ['environment', 'env'])).toBe('prod');
  });
});

describe('credentialInputsFrom', () => {
  it('pairs AWS key ids with the secrets beside them, in order, and keeps unpaired ids as references', () => {
    const fp = createFingerprinter(Buffer.alloc(32, 1));
    const found = (value: string, key: string, line: number) => ({
      detected: detectCredential(value, { keyName: key })!,
      name: key,
      location: { kind: 'file' as const, path: '.env', line, key },
    });
    const inputs = credentialInputsFrom(
      [
        found('AKIAIOSFODNN7EXAMPLE', 'AWS_ACCESS_KEY_ID', 1),
        found('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'AWS_SECRET_ACCESS_KEY', 2),
        found('AKIAI44QH8DHBEXAMPLE', 'OTHER_ACCESS_KEY_ID', 3),
      ],
      { provider: 'dotenv', externalId: '.env' },
      fp,
    );
    expect(
      inputs.map((c) => [c.externalId, c.fingerprintSource, c.fingerprint, c.locations!.map((l) => l.line)]),
    ).toEqual([
      ['AKIAIOSFODNN7EXAMPLE', 'value', fp.fingerprint('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'), [1, 2]],
      ['AKIAI44QH8DHBEXAMPLE', 'reference', fp.fingerprint('AKIAI44QH8DHBEXAMPLE'), [3]],
    ]);
  });
});
