import { describe, expect, it } from 'vitest';
import { ConditionError, parseCondition } from './sigma-condition.js';
import { ev, loadDetection, ruleOf } from './sigma-test-helpers.js';

/** Selections a, b, c (fields a, b, c equal to 1) plus sel_x, sel_y, filter_1, _hidden. */
const DETECTION = {
  a: { a: 1 },
  b: { b: 1 },
  c: { c: 1 },
  sel_x: { x: 1 },
  sel_y: { y: 1 },
  filter_1: { f: 1 },
  _hidden: { h: 1 },
};

/** Evaluates `condition` on an event whose raw record sets the given fields to 1. */
function evalCond(condition: string, set: string[]): boolean {
  const rule = ruleOf({ ...DETECTION, condition });
  return rule.matches(ev(Object.fromEntries(set.map((k) => [k, 1]))));
}

describe('condition grammar', () => {
  it('not binds tighter than and, and tighter than or', () => {
    // a or b and c  ==  a or (b and c)
    expect(evalCond('a or b and c', ['a'])).toBe(true);
    expect(evalCond('a or b and c', ['b'])).toBe(false);
    expect(evalCond('a or b and c', ['b', 'c'])).toBe(true);
    // not a and b  ==  (not a) and b
    expect(evalCond('not a and b', ['b'])).toBe(true);
    expect(evalCond('not a and b', ['a', 'b'])).toBe(false);
    expect(evalCond('not a and b', [])).toBe(false);
    // not a or b  ==  (not a) or b
    expect(evalCond('not a or b', [])).toBe(true);
    expect(evalCond('not a or b', ['a'])).toBe(false);
  });

  it('parentheses override precedence', () => {
    expect(evalCond('(a or b) and c', ['a'])).toBe(false);
    expect(evalCond('(a or b) and c', ['a', 'c'])).toBe(true);
    expect(evalCond('not (a or b)', [])).toBe(true);
    expect(evalCond('not (a or b)', ['b'])).toBe(false);
    expect(evalCond('not not a', ['a'])).toBe(true);
  });

  it('1 of / all of a pattern', () => {
    expect(evalCond('1 of sel_*', ['y'])).toBe(true);
    expect(evalCond('1 of sel_*', ['a'])).toBe(false);
    expect(evalCond('all of sel_*', ['x'])).toBe(false);
    expect(evalCond('all of sel_*', ['x', 'y'])).toBe(true);
    expect(evalCond('1 of sel_* and not 1 of filter*', ['x'])).toBe(true);
    expect(evalCond('1 of sel_* and not 1 of filter*', ['x', 'f'])).toBe(false);
    expect(evalCond('1 of *_y', ['y'])).toBe(true);
  });

  it('1 of them / all of them skip identifiers starting with _', () => {
    expect(evalCond('1 of them', ['h'])).toBe(false);
    expect(evalCond('1 of them', ['c'])).toBe(true);
    expect(evalCond('all of them', ['a', 'b', 'c', 'x', 'y', 'f'])).toBe(true);
    expect(evalCond('all of them', ['a', 'b', 'c', 'x', 'y'])).toBe(false);
  });

  it('a list of conditions is an OR', () => {
    const rule = ruleOf({ ...DETECTION, condition: ['a and b', 'c'] });
    expect(rule.matches(ev({ c: 1 }))).toBe(true);
    expect(rule.matches(ev({ a: 1 }))).toBe(false);
  });

  const ERRORS: Array<[string, string]> = [
    ['a and selction', "unknown identifier 'selction' at column 7"],
    ['a and', 'expected an identifier but found the end at column 6'],
    ['(a or b', "expected ')' but found the end at column 8"],
    ['a b', "unexpected 'b' at column 3"],
    ['2 of sel_*', "'2 of' is not supported (only '1 of' and 'all of') at column 1"],
    ['1 of nothing*', "pattern 'nothing*' matches no identifier at column 6"],
    ['sel_*', "wildcard identifier 'sel_*' needs '1 of' or 'all of' at column 1"],
    ['a and or b', "expected an identifier but found 'or' at column 7"],
    ['1 of', "expected 'them' or an identifier pattern after 'of' at column 5"],
    ['', 'empty condition at column 1'],
  ];
  it.each(ERRORS)('%j: %s', (condition, message) => {
    expect(() => parseCondition(condition, Object.keys(DETECTION))).toThrow(
      new ConditionError(message.replace(/ at column \d+$/, ''), Number(/(\d+)$/.exec(message)![1])),
    );
    expect(() => parseCondition(condition, Object.keys(DETECTION))).toThrow(message);
  });

  it('a condition error names the file, the line and detection.condition', () => {
    const result = loadDetection({ ...DETECTION, condition: 'a and selction' });
    expect(result.errors).toEqual([
      {
        file: 'test.yml',
        line: 21,
        field: 'detection.condition',
        message: "condition: unknown identifier 'selction' at column 7",
      },
    ]);
  });
});
