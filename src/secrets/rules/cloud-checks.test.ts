import { describe, expect, it } from 'vitest';
import {
  BECH32_CHARSET,
  bech32Checksum,
  hasCharClasses,
  hasValidBech32,
  lineAt,
  neighbourhood,
} from './cloud-checks.js';
import { decodeBase64Json, decodeBase64Text } from './rule-kit.js';

describe('bech32', () => {
  it('accepts the BIP-173 valid test vectors', () => {
    for (const v of ['A12UEL5L', 'a12uel5l', 'abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw', '?1ezyfcl']) {
      expect(hasValidBech32(v), v).toBe(true);
    }
  });

  it('rejects mixed case, bad checksums and characters outside the alphabet', () => {
    expect(hasValidBech32('A12uEL5L')).toBe(false);
    expect(hasValidBech32('a12uel5m')).toBe(false);
    expect(hasValidBech32('abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxb')).toBe(false);
    expect(hasValidBech32('pzry9x0s0muk')).toBe(false);
  });

  it('builds checksums that verify', () => {
    const data = BECH32_CHARSET.repeat(2).slice(0, 52);
    const key = `age-secret-key-1${data}${bech32Checksum('age-secret-key-', data)}`;
    expect(hasValidBech32(key)).toBe(true);
    expect(hasValidBech32(key.toUpperCase())).toBe(true);
    expect(hasValidBech32(key.replace('age-secret', 'age-public'))).toBe(false);
  });
});

describe('line and neighbourhood', () => {
  const text = [
    'l0',
    'l1',
    'l2',
    'l3',
    'l4',
    'l5',
    'l6 VALUE here',
    'l7',
    'l8',
    'l9',
    'l10',
    'l11',
    'l12',
  ].join('\n');
  const offset = text.indexOf('VALUE');

  it('finds the line of an offset', () => {
    expect(lineAt({ text, offset })).toBe('l6 VALUE here');
    expect(lineAt({ text: 'one line', offset: 0 })).toBe('one line');
    expect(lineAt({ text: 'a\nb', offset: 2 })).toBe('b');
  });

  it('spans at most n lines either side', () => {
    const near = neighbourhood({ text, offset }, 2, 1000);
    expect(near).toBe('l4\nl5\nl6 VALUE here\nl7\nl8');
    expect(neighbourhood({ text, offset }, 0, 1000)).toBe('l6 VALUE here');
  });

  it('spans at most n characters either side', () => {
    expect(neighbourhood({ text, offset }, 5, 3)).toBe('l6 VAL');
  });

  it('stops at the ends of the text', () => {
    expect(neighbourhood({ text: 'VALUE', offset: 0 })).toBe('VALUE');
    expect(neighbourhood({ text: '\nVALUE\n', offset: 1 })).toBe('\nVALUE\n');
  });
});

describe('decoders and classes', () => {
  it('decodes base64 and base64url JSON', () => {
    const json = JSON.stringify({ secretKey: 'A3-…', n: 1 });
    expect(decodeBase64Json(Buffer.from(json).toString('base64'))).toEqual({ secretKey: 'A3-…', n: 1 });
    expect(decodeBase64Json(Buffer.from(json).toString('base64url'))).toEqual({ secretKey: 'A3-…', n: 1 });
    expect(decodeBase64Json(Buffer.from('[1,2]').toString('base64'))).toBeNull();
    expect(decodeBase64Json('not base64 json')).toBeNull();
    expect(decodeBase64Text(Buffer.from('BedrockAPIKey-x').toString('base64'))).toBe('BedrockAPIKey-x');
  });

  it('counts character classes', () => {
    expect(hasCharClasses('abc', 1)).toBe(true);
    expect(hasCharClasses('abc', 2)).toBe(false);
    expect(hasCharClasses('aB3', 3)).toBe(true);
    expect(hasCharClasses('0123abcdef', 3)).toBe(false);
  });
});
