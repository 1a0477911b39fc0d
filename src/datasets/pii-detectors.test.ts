import { describe, expect, it } from 'vitest';
import {
  detectPii,
  ibanChecksumValid,
  isCredentialFieldName,
  luhnValid,
  type PiiType,
} from './pii-detectors.js';

/** The (type, matched text, sample) triples found in `text`. */
function found(text: string): Array<[PiiType, string, string]> {
  return detectPii(text).map((m) => [m.type, text.slice(m.start, m.end), m.sample]);
}

describe('e-mail', () => {
  it('finds addresses and redacts them', () => {
    expect(found('contact jane.doe+x@example.co.uk.')).toEqual([
      ['email', 'jane.doe+x@example.co.uk', 'j***@e***.uk'],
    ]);
    expect(found('j@e.com')).toEqual([['email', 'j@e.com', 'j***@e***.com']]);
  });
  it('ignores non-addresses', () => {
    expect(found('user@localhost')).toEqual([]);
    expect(found('a..b@example.com')).toEqual([]);
    expect(found('@handle and foo@bar.c0m')).toEqual([]);
  });
});

describe('phone', () => {
  it('finds E.164 and national formats with separators', () => {
    expect(found('call +14155552671 now')).toEqual([['phone', '+14155552671', '+*********71']]);
    expect(found('+44 20 7946 0958')).toEqual([['phone', '+44 20 7946 0958', '+** ** **** **58']]);
    expect(found('(555) 123-4567')).toEqual([['phone', '(555) 123-4567', '(***) ***-**67']]);
    expect(found('555.123.4567')).toEqual([['phone', '555.123.4567', '***.***.**67']]);
    expect(found('01 23 45 67 89')).toEqual([['phone', '01 23 45 67 89', '** ** ** ** 89']]);
  });
  it('ignores dates, versions, times and plain long numbers', () => {
    expect(found('2024-01-15 12:30')).toEqual([]);
    expect(found('15.01.2024')).toEqual([]);
    expect(found('id 1234567890123')).toEqual([]);
    expect(found('1.2.3.4.5.6')).toEqual([]);
    expect(found('build 10.0.19041.1')).toEqual([]);
  });
});

describe('payment card', () => {
  it('finds Luhn-valid numbers with plausible issuer prefixes', () => {
    expect(found('card 4242 4242 4242 4242 ok')).toEqual([
      ['payment-card', '4242 4242 4242 4242', '**** **** **** 4242'],
    ]);
    expect(found('5555-5555-5555-4444')).toEqual([
      ['payment-card', '5555-5555-5555-4444', '****-****-****-4444'],
    ]);
    expect(found('378282246310005')).toEqual([['payment-card', '378282246310005', '***********0005']]);
  });
  it('ignores Luhn-invalid numbers, unknown prefixes and mixed separators', () => {
    expect(found('4242 4242 4242 4241')).toEqual([]);
    expect(found('1234567812345670')).toEqual([]); // Luhn-valid, no scheme starts with 1
    expect(found('4242-4242 4242-4242')).toEqual([]);
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
  });
});

describe('IBAN', () => {
  it('finds IBANs with a valid mod-97 checksum, compact or grouped', () => {
    expect(found('pay DE89 3704 0044 0532 0130 00 today')).toEqual([
      ['iban', 'DE89 3704 0044 0532 0130 00', 'DE** **** … 3000'],
    ]);
    expect(found('GB82WEST12345698765432')).toEqual([['iban', 'GB82WEST12345698765432', 'GB** **** … 5432']]);
  });
  it('ignores wrong checksums, lengths and countries', () => {
    expect(found('DE88 3704 0044 0532 0130 00')).toEqual([]);
    expect(found('DE89370400440532013')).toEqual([]);
    expect(found('ZZ89370400440532013000')).toEqual([]);
    expect(ibanChecksumValid('GB82WEST12345698765432')).toBe(true);
  });
});

describe('US SSN', () => {
  it('finds valid numbers', () => {
    expect(found('ssn 123-45-6789')).toEqual([['us-ssn', '123-45-6789', '***-**-****']]);
  });
  it('ignores SSA-invalid ranges', () => {
    for (const v of ['000-12-3456', '666-12-3456', '912-34-5678', '123-00-4567', '123-45-0000'])
      expect(found(v)).toEqual([]);
  });
});

describe('IP addresses', () => {
  it('finds IPv4 and IPv6', () => {
    expect(found('from 192.168.1.20 via')).toEqual([['ipv4', '192.168.1.20', '192.*.*.*']]);
    expect(found('host 2001:db8:85a3::8a2e:370:7334')).toEqual([
      ['ipv6', '2001:db8:85a3::8a2e:370:7334', '2001:*:*::*:*:*'],
    ]);
    // A bare four-part dotted number is reported as IPv4: without a version marker it cannot be told apart.
    expect(found('1.2.3.4')).toEqual([['ipv4', '1.2.3.4', '1.*.*.*']]);
  });
  it('ignores invalid octets, version contexts and times', () => {
    expect(found('999.1.1.1')).toEqual([]);
    expect(found('01.2.3.4')).toEqual([]);
    expect(found('v1.2.3.4 and version 10.0.0.1 and pkg@4.3.2.1')).toEqual([]);
    expect(found('1.2.3.4.5')).toEqual([]);
    expect(found('at 12:30:45')).toEqual([]);
    expect(found('std::vector and a::b')).toEqual([]);
  });
});

describe('credential field names', () => {
  it('recognises credential-bearing keys', () => {
    for (const k of [
      'password',
      'passwd',
      'user_password',
      'secret',
      'api_key',
      'apiKey',
      'x-api-key',
      'token',
      'access_token',
      'accessToken',
      'private_key',
      'client_secret',
      'Authorization',
      'cookie',
      'session',
      'session_id',
    ])
      expect(isCredentialFieldName(k), k).toBe(true);
  });
  it('ignores lookalikes', () => {
    for (const k of [
      'num_tokens',
      'tokens',
      'token_count',
      'key',
      'primary_key',
      'secretary',
      'passage',
      'text',
    ])
      expect(isCredentialFieldName(k), k).toBe(false);
  });
});
