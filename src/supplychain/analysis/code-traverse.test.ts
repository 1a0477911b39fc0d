import * as acorn from 'acorn';
import * as walk from 'acorn-walk';
import { describe, expect, it } from 'vitest';
import { walkPostOrder } from './code-traverse.js';

type Node = acorn.AnyNode;

function parse(code: string, sourceType: 'module' | 'script' = 'script'): acorn.Program {
  return acorn.parse(code, { ecmaVersion: 'latest', sourceType, allowReturnOutsideFunction: true });
}

/** `Type@start/depth/parentType` for every visited node, in visiting order. */
function trace(ast: acorn.Program, mine: boolean): string[] {
  const out: string[] = [];
  const note = (node: Node, ancestors: readonly Node[]): void => {
    out.push(`${node.type}@${node.start}/${ancestors.length}/${ancestors[ancestors.length - 2]?.type ?? '-'}`);
    expect(ancestors[ancestors.length - 1]).toBe(node);
  };
  if (mine) walkPostOrder(ast, note);
  else walk.fullAncestor(ast, (node, _state, ancestors) => note(node as Node, ancestors as Node[]));
  return out;
}

const SAMPLES: [string, 'module' | 'script'][] = [
  ["const x = String.fromCharCode(104, 105); new Function(x)();", 'script'],
  ["function f(a, {b, [k]: c = 1, ...r}, [d, , e] = []) { if (a) return b; else { fs.writeFileSync(p, d); } }", 'script'],
  ["label: for (let i = 0; i < 3; i++) { do { continue label; } while (x); }", 'script'],
  ["for (const [k, v] of Object.entries(o)) for (k in o) ;", 'script'],
  ["switch (a) { case 1: b(); break; default: c`t${d}u${e}`; }", 'script'],
  ["try { throw new Error('x') } catch ({ message }) { y = a?.b?.[c](...d) } finally { z = -w++ }", 'script'],
  ["class A extends B { static #p = 1; [m]() { super.m(); } get g() { return this.#p; } static { q = 1; } }", 'script'],
  ["x = { a, 'b': 1, [c]: () => d, e() {}, ...f }; y = (a, b) ? c : d; z = a || b && c; w = (a ?? 0);", 'script'],
  ["with (o) { v = typeof x; }", 'script'],
  ["import a, { b as c } from 'm' with { type: 'json' }; import * as ns from './n.js';\nexport * as q from 'r';\nexport { c as d };\nexport default function () { return import('x', { with: {} }); }\nexport const k = await import.meta.resolve('y');", 'module'],
  ["export default class { x = `a${b}` }; export * from 's';", 'module'],
];

describe('walkPostOrder', () => {
  it.each(SAMPLES)('visits what acorn-walk fullAncestor visits, in the same order: %s', (code, sourceType) => {
    const ast = parse(code, sourceType);
    const mine = trace(ast, true);
    expect(mine.length).toBeGreaterThan(5);
    expect(mine).toEqual(trace(ast, false));
  });

  it('visits children first and ends with the program', () => {
    const types: string[] = [];
    walkPostOrder(parse('f(1)'), (node) => types.push(node.type));
    expect(types).toEqual(['Identifier', 'Literal', 'CallExpression', 'ExpressionStatement', 'Program']);
  });

  it('skips non-computed keys and labels, and reaches object-pattern values with the pattern as parent', () => {
    const seen: string[] = [];
    walkPostOrder(parse('l: { ({ a: b } = o.p); break l; }'), (node, ancestors) => {
      if (node.type === 'Identifier')
        seen.push(`${node.name}<${ancestors[ancestors.length - 2]?.type ?? '-'}`);
    });
    expect(seen).toEqual(['b<ObjectPattern', 'o<MemberExpression']);
  });

  it('walks very deep trees without exhausting the stack', () => {
    // Built by hand: parsers themselves refuse input this deep.
    let inner: Node = { type: 'Literal', start: 0, end: 1, value: 1, raw: '1' } as Node;
    for (let i = 0; i < 100_000; i++) inner = { type: 'ArrayExpression', start: 0, end: 1, elements: [inner] } as Node;
    const ast = { type: 'Program', start: 0, end: 1, body: [inner], sourceType: 'script' } as unknown as acorn.Program;
    let max = 0;
    walkPostOrder(ast, (_node, ancestors) => {
      max = Math.max(max, ancestors.length);
    });
    expect(max).toBe(100_002);
  });
});
