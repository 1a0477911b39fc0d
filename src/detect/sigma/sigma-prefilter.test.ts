import { describe, expect, it } from 'vitest';
import { detectionPrefilter } from './sigma-prefilter.js';

const pf = (detection: Record<string, unknown>) => detectionPrefilter(detection);

describe('detection prefilter', () => {
  it('reads the values a selection every match needs, lower-cased, preferring eventName', () => {
    expect(
      pf({
        sel: { eventSource: 'iam.amazonaws.com', eventName: ['CreateUser', 'CreateAccessKey'] },
        condition: 'sel',
      }),
    ).toEqual({
      field: 'eventName',
      values: ['createaccesskey', 'createuser'],
    });
    expect(
      pf({
        sel: { eventSource: 'iam.amazonaws.com' },
        filter: { 'userIdentity.type': 'Root' },
        condition: 'sel and not filter',
      }),
    ).toEqual({
      field: 'eventSource',
      values: ['iam.amazonaws.com'],
    });
  });

  it('or keeps a field only when every branch needs it, and unites the values', () => {
    expect(pf({ a: { eventName: 'A' }, b: { eventName: 'B', x: 1 }, condition: 'a or b' })).toEqual({
      field: 'eventName',
      values: ['a', 'b'],
    });
    expect(pf({ a: { eventName: 'A' }, b: { other: 'B' }, condition: 'a or b' })).toBeNull();
    expect(pf({ sel: [{ eventName: 'A' }, { eventName: 'B' }], condition: 'sel' })).toEqual({
      field: 'eventName',
      values: ['a', 'b'],
    });
    expect(pf({ s1: { eventName: 'A' }, s2: { eventName: 'B' }, condition: '1 of s*' })).toEqual({
      field: 'eventName',
      values: ['a', 'b'],
    });
    expect(pf({ a: { eventName: 'A' }, b: { eventName: 'B' }, condition: ['a', 'b'] })).toEqual({
      field: 'eventName',
      values: ['a', 'b'],
    });
  });

  it('and intersects; all of combines', () => {
    expect(pf({ a: { eventName: ['A', 'B'] }, b: { eventName: ['B', 'C'] }, condition: 'a and b' })).toEqual({
      field: 'eventName',
      values: ['b'],
    });
    expect(pf({ s1: { eventName: 'A' }, s2: { awsRegion: 'x' }, condition: 'all of s*' })).toEqual({
      field: 'eventName',
      values: ['a'],
    });
  });

  it('gives nothing for modifiers, wildcards, escapes, numbers, keywords and negations', () => {
    for (const detection of [
      { sel: { 'eventName|contains': 'Create' }, condition: 'sel' },
      { sel: { eventName: 'Create*' }, condition: 'sel' },
      { sel: { eventName: 'a\\*b' }, condition: 'sel' },
      { sel: { eventID: 4769 }, condition: 'sel' },
      { sel: { eventName: ['A', 1] }, condition: 'sel' },
      { kw: ['mimikatz'], condition: 'kw' },
      { sel: { eventName: 'A' }, condition: 'not sel' },
      { sel: { eventName: 'A' }, condition: 'sel or not sel' },
    ]) {
      expect(pf(detection), JSON.stringify(detection)).toBeNull();
    }
  });
});
