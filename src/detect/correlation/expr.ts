/** The boolean condition of a temporal correlation: `a and (b or c) and not d`, over the rules it names. */
import type { BoolExpr } from './correlation-types.js';

/**
 * Parses `text`; `resolve` maps an identifier to the index of a referenced rule (or -1). Precedence: not >
 * and > or; parentheses group. Throws an Error with a readable message on a syntax error or unknown name.
 */
export function parseBoolExpr(text: string, resolve: (name: string) => number): BoolExpr {
  const tokens = text.match(/\(|\)|[^\s()]+/g) ?? [];
  let pos = 0;
  const peek = (): string | undefined => tokens[pos];
  const isWord = (t: string | undefined, w: string): boolean => t !== undefined && t.toLowerCase() === w;

  const parseOr = (): BoolExpr => {
    const operands = [parseAnd()];
    while (isWord(peek(), 'or')) {
      pos++;
      operands.push(parseAnd());
    }
    return operands.length === 1 ? operands[0]! : { kind: 'or', operands };
  };
  const parseAnd = (): BoolExpr => {
    const operands = [parseNot()];
    while (isWord(peek(), 'and')) {
      pos++;
      operands.push(parseNot());
    }
    return operands.length === 1 ? operands[0]! : { kind: 'and', operands };
  };
  const parseNot = (): BoolExpr => {
    if (isWord(peek(), 'not')) {
      pos++;
      return { kind: 'not', operand: parseNot() };
    }
    return parseAtom();
  };
  const parseAtom = (): BoolExpr => {
    const t = tokens[pos++];
    if (t === undefined) throw new Error('condition ends too early');
    if (t === '(') {
      const inner = parseOr();
      if (tokens[pos++] !== ')') throw new Error('missing ")" in condition');
      return inner;
    }
    if (t === ')' || ['and', 'or', 'not'].includes(t.toLowerCase()))
      throw new Error(`unexpected "${t}" in condition`);
    const index = resolve(t);
    if (index < 0) throw new Error(`condition names "${t}", which is not one of the correlation's rules`);
    return { kind: 'ref', index };
  };

  if (tokens.length === 0) throw new Error('condition is empty');
  const expr = parseOr();
  if (pos < tokens.length) throw new Error(`unexpected "${tokens[pos]}" in condition`);
  return expr;
}

/** Evaluates `expr` with `present(i)` telling whether rule i occurred. */
export function evalBoolExpr(expr: BoolExpr, present: (index: number) => boolean): boolean {
  switch (expr.kind) {
    case 'ref':
      return present(expr.index);
    case 'not':
      return !evalBoolExpr(expr.operand, present);
    case 'and':
      return expr.operands.every((e) => evalBoolExpr(e, present));
    case 'or':
      return expr.operands.some((e) => evalBoolExpr(e, present));
  }
}

/** True when the expression contains `not` (it can only be decided once its window is complete). */
export function hasNegation(expr: BoolExpr): boolean {
  if (expr.kind === 'ref') return false;
  if (expr.kind === 'not') return true;
  return expr.operands.some(hasNegation);
}
