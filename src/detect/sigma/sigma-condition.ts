/**
 * The Sigma condition language: `and`, `or`, `not`, parentheses, `1 of <pattern>`, `all of <pattern>`,
 * `1 of them`, `all of them`. Precedence, least to most binding: or, and, not, `x of`, parentheses.
 * Identifiers are resolved while parsing, so a misspelt one is an error with its column.
 */

/** A parsed condition. */
export type CondNode =
  | { k: 'id'; name: string }
  | { k: 'and'; items: CondNode[] }
  | { k: 'or'; items: CondNode[] }
  | { k: 'not'; item: CondNode }
  | { k: 'of'; all: boolean; names: string[] };

/** A condition that does not parse or names an unknown identifier; `column` is 1-based. */
export class ConditionError extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(`${message} at column ${column}`);
  }
}

interface Tok {
  text: string;
  col: number;
}

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  const re = /\s*(\(|\)|[^\s()]+)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(src)) !== null && m[1] !== undefined) {
    out.push({ text: m[1], col: m.index + m[0].length - m[1].length + 1 });
  }
  return out;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'of', 'them', '(', ')']);

/** Converts a `*` pattern into a RegExp matching whole identifiers. */
function patternRegExp(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

/**
 * Parses `src` against the identifiers the detection defines. `1 of them`/`all of them` take every
 * identifier not starting with `_`; a pattern (`selection_*`) takes every identifier it matches and must
 * match at least one.
 */
export function parseCondition(src: string, identifiers: readonly string[]): CondNode {
  const toks = tokenize(src);
  let i = 0;
  const peek = (): Tok | undefined => toks[i];
  const endCol = src.length + 1;
  const expect = (text: string): void => {
    const t = peek();
    if (t?.text !== text)
      throw new ConditionError(
        `expected '${text}' but found ${t ? `'${t.text}'` : 'the end'}`,
        t?.col ?? endCol,
      );
    i++;
  };

  const parseOr = (): CondNode => {
    const items = [parseAnd()];
    while (peek()?.text === 'or') {
      i++;
      items.push(parseAnd());
    }
    return items.length === 1 ? items[0]! : { k: 'or', items };
  };
  const parseAnd = (): CondNode => {
    const items = [parseNot()];
    while (peek()?.text === 'and') {
      i++;
      items.push(parseNot());
    }
    return items.length === 1 ? items[0]! : { k: 'and', items };
  };
  const parseNot = (): CondNode => {
    if (peek()?.text === 'not') {
      i++;
      return { k: 'not', item: parseNot() };
    }
    return parseAtom();
  };
  const parseAtom = (): CondNode => {
    const t = peek();
    if (!t) throw new ConditionError('expected an identifier but found the end', endCol);
    if (t.text === '(') {
      i++;
      const inner = parseOr();
      expect(')');
      return inner;
    }
    const next = toks[i + 1];
    if (next?.text === 'of') {
      if (t.text !== '1' && t.text !== 'all') {
        throw new ConditionError(`'${t.text} of' is not supported (only '1 of' and 'all of')`, t.col);
      }
      i += 2;
      const target = peek();
      if (!target || (KEYWORDS.has(target.text) && target.text !== 'them')) {
        throw new ConditionError(
          `expected 'them' or an identifier pattern after 'of'`,
          target?.col ?? endCol,
        );
      }
      i++;
      let names: string[];
      if (target.text === 'them') {
        names = identifiers.filter((n) => !n.startsWith('_'));
        if (names.length === 0) throw new ConditionError(`'them' names no identifier`, target.col);
      } else {
        const re = patternRegExp(target.text);
        names = identifiers.filter((n) => re.test(n));
        if (names.length === 0)
          throw new ConditionError(`pattern '${target.text}' matches no identifier`, target.col);
      }
      return { k: 'of', all: t.text === 'all', names };
    }
    if (KEYWORDS.has(t.text)) throw new ConditionError(`expected an identifier but found '${t.text}'`, t.col);
    if (t.text.includes('*')) {
      throw new ConditionError(`wildcard identifier '${t.text}' needs '1 of' or 'all of'`, t.col);
    }
    if (!identifiers.includes(t.text)) throw new ConditionError(`unknown identifier '${t.text}'`, t.col);
    i++;
    return { k: 'id', name: t.text };
  };

  if (toks.length === 0) throw new ConditionError('empty condition', 1);
  const node = parseOr();
  const rest = peek();
  if (rest) throw new ConditionError(`unexpected '${rest.text}'`, rest.col);
  return node;
}

/** A compiled predicate over some input (an event). */
export type Predicate<T> = (input: T) => boolean;

/**
 * Compiles a parsed condition into closures over the compiled search identifiers. Evaluation short-circuits
 * and allocates nothing; its cost is at most the sum of the identifiers' costs.
 */
export function compileCondition<T>(node: CondNode, ids: ReadonlyMap<string, Predicate<T>>): Predicate<T> {
  switch (node.k) {
    case 'id': {
      const p = ids.get(node.name);
      if (!p) throw new Error(`internal: identifier ${node.name} not compiled`);
      return p;
    }
    case 'not': {
      const p = compileCondition(node.item, ids);
      return (e) => !p(e);
    }
    case 'and':
    case 'or': {
      const ps = node.items.map((n) => compileCondition(n, ids));
      return combine(ps, node.k === 'and');
    }
    case 'of':
      return combine(
        node.names.map((n) => compileCondition<T>({ k: 'id', name: n }, ids)),
        node.all,
      );
  }
}

/** AND (all) or OR of predicates, specialised for one and two. */
export function combine<T>(ps: Predicate<T>[], all: boolean): Predicate<T> {
  if (ps.length === 1) return ps[0]!;
  if (ps.length === 2) {
    const [a, b] = ps as [Predicate<T>, Predicate<T>];
    return all ? (e) => a(e) && b(e) : (e) => a(e) || b(e);
  }
  if (all) {
    return (e) => {
      for (let i = 0; i < ps.length; i++) if (!ps[i]!(e)) return false;
      return true;
    };
  }
  return (e) => {
    for (let i = 0; i < ps.length; i++) if (ps[i]!(e)) return true;
    return false;
  };
}
