import { describe, expect, it } from 'vitest';
import { ValidationError } from '../core/errors.js';
import { parsePackageSpec, sameIntegrity } from './npm-gate-service.js';

describe('parsePackageSpec', () => {
  it('splits name and range, keeping a scope and defaulting to latest', () => {
    expect(parsePackageSpec('lodash@4.17.21')).toEqual({ name: 'lodash', range: '4.17.21' });
    expect(parsePackageSpec('@babel/core@^7')).toEqual({ name: '@babel/core', range: '^7' });
    expect(parsePackageSpec('left-pad')).toEqual({ name: 'left-pad', range: 'latest' });
  });

  it('refuses what is not a package spec, naming it', () => {
    for (const bad of ['', '@', 'a b@1', '../x@1', 'x@']) {
      expect(() => parsePackageSpec(bad)).toThrow(ValidationError);
    }
    expect(() => parsePackageSpec('a b@1')).toThrow('"a b@1" is not a package spec');
  });
});

describe('sameIntegrity', () => {
  it('disagrees only on different digests for the same algorithm', () => {
    expect(sameIntegrity('sha512-AAA', 'sha512-AAA')).toBe(true);
    expect(sameIntegrity('sha512-AAA', 'sha512-BBB')).toBe(false);
    expect(sameIntegrity('sha1-AAA', 'sha512-BBB')).toBe(true);
    expect(sameIntegrity('sha1-AAA sha512-BBB', 'sha512-BBB')).toBe(true);
  });
});
