import { describe, expect, it } from 'vitest';
import { createCaseGen } from '../secret-case-gen.js';
import { envValues } from './env-source.js';

describe('envValues', () => {
  it('yields each non-empty variable under its own name, sorted by name', () => {
    const g = createCaseGen(3);
    const key = g.chars(40);
    expect(
      envValues({ ZED: 'z', OPENAI_API_KEY: key, EMPTY: '', UNSET: undefined, a_lower: 'multi\nline' }),
    ).toEqual([
      { keyPath: 'OPENAI_API_KEY', keyName: 'OPENAI_API_KEY', value: key, line: 1, column: 1 },
      { keyPath: 'ZED', keyName: 'ZED', value: 'z', line: 1, column: 1 },
      { keyPath: 'a_lower', keyName: 'a_lower', value: 'multi\nline', line: 1, column: 1 },
    ]);
  });

  it('returns nothing for an empty environment', () => {
    expect(envValues({})).toEqual([]);
  });
});
