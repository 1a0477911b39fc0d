import { describe, expect, it } from 'vitest';
import { indexIdentities, ownerPositions } from './snapshot-index.js';
import { credential, identity } from './test-support/posture-fixtures.js';

describe('snapshot index', () => {
  const identities = [identity({ id: 'a', name: 'a' }), identity({ id: 'b', name: 'b' })];

  it('maps identity ids to positions and records to their identity position (-1 when unknown)', () => {
    expect([...indexIdentities(identities)]).toEqual([
      ['a', 0],
      ['b', 1],
    ]);
    const creds = [
      credential({ id: 'c1', identityId: 'b' }),
      credential({ id: 'c2', identityId: 'gone' }),
      credential({ id: 'c3', identityId: 'a' }),
    ];
    expect([...ownerPositions(creds, identities)]).toEqual([1, -1, 0]);
  });

  it('reuses the index of the same arrays and rebuilds it when an array grew', () => {
    const list = [...identities];
    const first = indexIdentities(list);
    expect(indexIdentities(list)).toBe(first);
    list.push(identity({ id: 'c', name: 'c' }));
    expect(indexIdentities(list).get('c')).toBe(2);
    const creds = [credential({ id: 'c1', identityId: 'c' })];
    expect([...ownerPositions(creds, identities)]).toEqual([-1]);
    expect([...ownerPositions(creds, list)]).toEqual([2]);
  });
});
