import { describe, expect, it } from 'vitest';
import { getField, lookupPath, type DetectEvent } from './detect-types.js';

const event = (raw: Record<string, unknown>, fields: Record<string, unknown> = {}): DetectEvent => ({
  id: 'e1',
  time: 0,
  raw,
  fields,
  logsource: {},
  source: { adapter: 'ndjson', file: null, line: null },
  seq: 1,
});

describe('getField', () => {
  it('reads nested raw paths as SigmaHQ rules name them', () => {
    const e = event({
      eventName: 'AssumeRole',
      userIdentity: { arn: 'arn:aws:iam::1:user/ci', sessionContext: { sessionIssuer: { arn: 'x' } } },
    });
    expect(getField(e, 'eventName')).toBe('AssumeRole');
    expect(getField(e, 'userIdentity.arn')).toBe('arn:aws:iam::1:user/ci');
    expect(getField(e, 'userIdentity.sessionContext.sessionIssuer.arn')).toBe('x');
    expect(getField(e, 'userIdentity.missing')).toBeUndefined();
  });

  it('prefers a literal key with dots, then the raw record, then normalized fields', () => {
    const e = event(
      { 'kubernetes.io': { namespace: 'split' }, 'kubernetes.io/namespace': 'literal', a: { 'b.c': 1 } },
      { 'actor.user.uid': 'u1', src_endpoint: { ip: '10.0.0.1' } },
    );
    expect(getField(e, 'kubernetes.io/namespace')).toBe('literal');
    expect(getField(e, 'kubernetes.io.namespace')).toBe('split');
    expect(getField(e, 'a.b.c')).toBe(1);
    expect(getField(e, 'actor.user.uid')).toBe('u1');
    expect(getField(e, 'src_endpoint.ip')).toBe('10.0.0.1');
    const shadowed = event({ status: 'SUCCESS' }, { status: 'success' });
    expect(getField(shadowed, 'status')).toBe('SUCCESS');
    expect(getField(shadowed, 'ocsf.status')).toBe('success');
    expect(getField(shadowed, 'ocsf.missing')).toBeUndefined();
  });

  it('returns arrays as they are and nothing for non-object roots', () => {
    const e = event({ resources: [{ ARN: 'a' }, { ARN: 'b' }] });
    expect(getField(e, 'resources')).toEqual([{ ARN: 'a' }, { ARN: 'b' }]);
    expect(lookupPath(['x'], '0')).toBeUndefined();
    expect(lookupPath(null, 'a')).toBeUndefined();
  });
});
