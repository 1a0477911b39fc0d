import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalJson } from './canonical-json.js';
import { GENESIS_HASH, hashEvent } from './event-hash.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('serialises values with toJSON (dates) the way JSON.stringify does', () => {
    const d = new Date('2026-01-02T03:04:05.000Z');
    expect(canonicalJson({ at: d })).toBe('{"at":"2026-01-02T03:04:05.000Z"}');
  });

  it('is the same for objects that differ only in key order (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(obj));
        expect(JSON.parse(canonicalJson(obj))).toEqual(JSON.parse(JSON.stringify(obj)));
      }),
    );
  });
});

describe('hashEvent', () => {
  const base = {
    seq: 1,
    id: 'evt_1',
    time: '2026-01-01T00:00:00.000Z',
    type: 't',
    actor: 'a',
    subject: null,
    data: { x: 1 },
    prevHash: GENESIS_HASH,
  };
  it('changes when any field changes', () => {
    const h = hashEvent(base);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(hashEvent({ ...base, data: { x: 2 } })).not.toBe(h);
    expect(hashEvent({ ...base, seq: 2 })).not.toBe(h);
    expect(hashEvent({ ...base, prevHash: '1'.repeat(64) })).not.toBe(h);
    expect(hashEvent({ ...base, data: { x: 1 } })).toBe(h);
  });
});

describe('canonicalJson matches JSON.stringify on plain JSON', () => {
  it('parses back to what JSON.stringify gives, for any JSON value and odd members (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(JSON.parse(canonicalJson(v))).toEqual(JSON.parse(JSON.stringify(v) ?? 'null'));
      }),
    );
    const odd = {
      f: () => 1,
      s: Symbol('x'),
      u: undefined,
      n: NaN,
      i: -Infinity,
      a: [undefined, () => 1, 2],
    };
    expect(canonicalJson(odd)).toBe('{"a":[null,null,2],"i":null,"n":null}');
    expect(canonicalJson(odd)).toBe(canonicalJson(JSON.parse(JSON.stringify(odd))));
  });
});

describe('hashEvent with prepared data', () => {
  it('is the hash of the canonical record, whether the data text was remembered or not (property)', async () => {
    const { prepareEventData, canonicalDataText } = await import('./event-hash.js');
    const { createHash } = await import('node:crypto');
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.option(fc.string(), { nil: null }),
        fc.string(),
        (data, subject, type) => {
          const prepared = prepareEventData(data);
          const rec = {
            seq: 7,
            id: 'evt_x',
            time: 't',
            type,
            actor: 'a',
            subject,
            data: prepared,
            prevHash: GENESIS_HASH,
          };
          const expected = createHash('sha256').update(canonicalJson(rec)).digest('hex');
          expect(hashEvent(rec)).toBe(expected);
          expect(
            hashEvent({ ...rec, data: JSON.parse(JSON.stringify(data)) as Record<string, unknown> }),
          ).toBe(expected);
          expect(canonicalDataText(prepared)).toBe(canonicalJson(data));
        },
      ),
    );
  });
});
