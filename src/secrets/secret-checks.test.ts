import { describe, expect, it } from 'vitest';
import { createCaseGen } from './secret-case-gen.js';
import {
  alnumRunThen,
  assignmentFollows,
  base62,
  crc32Base62,
  hasValidCrc32Suffix,
  isPlaceholder,
  isRepetitive,
  longestRun,
  shannonEntropy,
} from './secret-checks.js';

describe('base62 CRC32 checksums', () => {
  it('encode numbers in GitHub digit order, padded to six characters', () => {
    expect(base62(0)).toBe('000000');
    expect(base62(61)).toBe('00000z');
    expect(base62(62)).toBe('000010');
    expect(base62(0xffffffff)).toBe('4gfFC3');
  });

  it('accept a generated token and refuse any one-character change', () => {
    const g = createCaseGen(9);
    const prefix = g.join('gh', 'p_');
    const token = g.githubToken(prefix);
    expect(token).toHaveLength(40);
    expect(token.slice(-6)).toBe(crc32Base62(token.slice(4, -6)));
    expect(hasValidCrc32Suffix(token, prefix)).toBe(true);
    for (let i = prefix.length; i < token.length; i++) {
      const c = token[i] === 'a' ? 'b' : 'a';
      expect(hasValidCrc32Suffix(token.slice(0, i) + c + token.slice(i + 1), prefix)).toBe(false);
    }
    expect(hasValidCrc32Suffix(token, 'gho_')).toBe(false);
  });
});

describe('entropy and repetition', () => {
  it('measure bits per character', () => {
    expect(shannonEntropy('')).toBe(0);
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abab')).toBe(1);
    expect(shannonEntropy('abcd')).toBe(2);
  });
  it('find runs and repeats', () => {
    expect(longestRun('x0123456789y')).toBe(10);
    expect(longestRun('zyxwv')).toBe(5);
    expect(longestRun('a1b2')).toBe(1);
    expect(isRepetitive('abcabcabc')).toBe(true);
    expect(isRepetitive('aaaaaaa')).toBe(true);
    expect(isRepetitive('q8Zr2LmN')).toBe(false);
  });
});

describe('isPlaceholder', () => {
  it.each([
    'AKIAIOSFODNN7EXAMPLE',
    '${OPENAI_API_KEY}',
    '$API_TOKEN',
    '{{ secrets.NPM_TOKEN }}',
    '<your-api-key>',
    '%API_KEY%',
    'process.env.STRIPE_KEY',
    'changeme',
    'sk-xxxxxxxxxxxxxxxxxxxxxxxx',
    'your_api_key_here',
    'tk_0123456789abcdef',
    'ab**********cd',
    'FAKEFAKEFAKEFAKE' + 'q'.repeat(100),
  ])('%s is a placeholder', (v) => expect(isPlaceholder(v)).toBe(true));

  it('does not drop a long random value that happens to hold a short word', () => {
    const g = createCaseGen(3);
    const value = `${g.chars(60)}fake${g.chars(60)}`;
    expect(isPlaceholder(value)).toBe(false);
    expect(isPlaceholder(`${g.chars(20)}fake${g.chars(10)}`)).toBe(true);
    expect(isPlaceholder(g.chars(40))).toBe(false);
  });
});

describe('afterKeyword tests', () => {
  const at = (text: string, keyword: string): [Buffer, number] => {
    const buf = Buffer.from(text);
    return [buf, text.indexOf(keyword) + keyword.length];
  };
  it('assignmentFollows accepts names being assigned and refuses prose', () => {
    for (const [text, kw] of [
      ['DB_PASSWORD=x', 'PASS'],
      ['"client_secret" : "x"', 'secret'],
      ["api_key: 'x'", 'api_key'],
      ['token := x', 'token'],
      ['authToken => x', 'Token'],
    ] as const)
      expect(assignmentFollows(...at(text, kw)), text).toBe(true);
    for (const [text, kw] of [
      ['the token expires', 'token'],
      ['passing tests', 'pass'],
      ['getToken(x)', 'Token'],
    ] as const)
      expect(assignmentFollows(...at(text, kw)), text).toBe(false);
  });
  it('alnumRunThen checks a run of letters and digits, then one character', () => {
    const test = alnumRunThen(3, '.');
    expect(test(...at('patAb1.x', 'pat'))).toBe(true);
    expect(test(...at('path/to', 'pat'))).toBe(false);
    expect(test(...at('patAb', 'pat'))).toBe(false);
  });
});
