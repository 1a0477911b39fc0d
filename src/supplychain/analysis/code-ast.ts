/**
 * AST helpers of the static JavaScript analyser: names of callees and member chains, and folding of string
 * expressions (literals, templates, concatenations, `path.join`, `[…].join`) into the text the rules match.
 */
import type * as acorn from 'acorn';
import { CHILD_PROCESS_MODULES, FS_MODULES, NETWORK_MODULES } from './code-indicators.js';

type Node = acorn.AnyNode;

/** Stands for an unknown part of a folded string. */
export const PLACEHOLDER = '*';
const FOLD_DEPTH = 24;
const FOLD_LENGTH = 100_000;

/** Static string value of a literal string or an expression-less template, else null. */
export function literalString(node: Node | null | undefined): string | null {
  if (!node) return null;
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value;
  if (node.type === 'TemplateLiteral' && node.expressions.length === 0)
    return node.quasis[0]?.value.cooked ?? null;
  return null;
}

/** Name of a callee: the identifier, or the property of a member expression. */
export function calleeName(node: Node): string | null {
  if (node.type === 'Identifier') return node.name;
  if (node.type === 'MemberExpression') {
    if (!node.computed && node.property.type === 'Identifier') return node.property.name;
    return literalString(node.property as Node);
  }
  if (node.type === 'ChainExpression') return calleeName(node.expression as Node);
  return null;
}

/** Dotted path of a member chain of identifiers (`process.env`, `window.ethereum`), or null. */
export function dottedName(node: Node, depth = 0): string | null {
  if (depth > 8) return null;
  if (node.type === 'Identifier') return node.name;
  if (node.type === 'ThisExpression') return 'this';
  if (node.type === 'MemberExpression') {
    const obj = dottedName(node.object as Node, depth + 1);
    const prop = calleeName(node);
    return obj !== null && prop !== null ? `${obj}.${prop}` : null;
  }
  return null;
}

export function isProcessEnv(node: Node): boolean {
  return node.type === 'MemberExpression' && dottedName(node) === 'process.env';
}

export function isHomeExpression(node: Node): boolean {
  if (node.type === 'CallExpression') return calleeName(node.callee as Node) === 'homedir';
  if (node.type === 'MemberExpression') {
    const d = dottedName(node);
    return d === 'process.env.HOME' || d === 'process.env.USERPROFILE';
  }
  return false;
}

/** Module name without a `node:` prefix, reduced to what the tables list. */
export function moduleKey(spec: string): string {
  const s = spec.startsWith('node:') ? spec.slice(5) : spec;
  if (NETWORK_MODULES.has(s) || FS_MODULES.has(s) || CHILD_PROCESS_MODULES.has(s)) return s;
  const parts = s.split('/');
  return s.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? s);
}

/**
 * Folds an expression to a string. Literal parts keep their text; in loose mode unknown parts become `*`, the
 * home directory becomes `~`, and `path.join`/`resolve` and `[...].join(sep)` are joined. Returns null when
 * nothing static is found (strict mode: when any part is unknown).
 */
export function fold(node: Node, loose: boolean, depth = 0): string | null {
  if (depth > FOLD_DEPTH) return loose ? PLACEHOLDER : null;
  switch (node.type) {
    case 'Literal':
      if (typeof node.value === 'string') return node.value;
      if (typeof node.value === 'number') return String(node.value);
      break;
    case 'TemplateLiteral': {
      let out = '';
      for (let i = 0; i < node.quasis.length; i++) {
        out += node.quasis[i]?.value.cooked ?? '';
        const e = node.expressions[i];
        if (e) {
          const v = fold(e as Node, loose, depth + 1);
          if (v === null) return null;
          out += v;
        }
        if (out.length > FOLD_LENGTH) break;
      }
      return out;
    }
    case 'BinaryExpression': {
      if (node.operator !== '+') break;
      const l = fold(node.left as Node, loose, depth + 1);
      const r = fold(node.right as Node, loose, depth + 1);
      if (l === null || r === null) return null;
      return (l + r).slice(0, FOLD_LENGTH);
    }
    case 'CallExpression': {
      if (!loose) break;
      if (isHomeExpression(node)) return '~';
      const name = calleeName(node.callee as Node);
      if (name === 'join' || name === 'resolve') {
        const obj = node.callee.type === 'MemberExpression' ? (node.callee.object as Node) : null;
        if (obj?.type === 'ArrayExpression') {
          const sep = node.arguments[0] ? fold(node.arguments[0] as Node, false, depth + 1) : ',';
          const parts = obj.elements.map((e) =>
            e && e.type !== 'SpreadElement' ? fold(e as Node, true, depth + 1) : PLACEHOLDER,
          );
          return sep === null ? null : parts.map((p) => p ?? PLACEHOLDER).join(sep);
        }
        const parts = node.arguments.map((a) =>
          a.type === 'SpreadElement' ? PLACEHOLDER : (fold(a as Node, true, depth + 1) ?? PLACEHOLDER),
        );
        return parts.join('/');
      }
      break;
    }
    case 'MemberExpression':
      if (loose && isHomeExpression(node)) return '~';
      break;
    default:
      break;
  }
  return loose ? PLACEHOLDER : null;
}

/** True when a subtree (bounded) decodes base64, hex or char codes: `Buffer.from(x, 'base64')`, `atob`, … */
export function containsDecode(node: Node): boolean {
  let budget = 400;
  let found = false;
  const visit = (n: unknown, depth: number): void => {
    if (found || budget-- <= 0 || depth > 30 || n === null || typeof n !== 'object') return;
    if (Array.isArray(n)) {
      for (const x of n) visit(x, depth + 1);
      return;
    }
    const node = n as Node;
    if (typeof node.type !== 'string') return;
    if (node.type === 'CallExpression') {
      const name = calleeName(node.callee as Node);
      const d = node.callee.type === 'MemberExpression' ? dottedName(node.callee as Node) : name;
      if (name === 'atob' || d === 'String.fromCharCode' || d === 'Buffer.from') {
        if (d !== 'Buffer.from') {
          found = true;
          return;
        }
        const enc = literalString(node.arguments[1] as Node | undefined);
        if (enc === 'base64' || enc === 'hex' || enc === 'base64url') {
          found = true;
          return;
        }
      }
      if (name === 'toString') {
        const enc = literalString(node.arguments[0] as Node | undefined);
        if (enc === 'base64' || enc === 'hex') {
          found = true;
          return;
        }
      }
    }
    // for-in over own keys is Object.keys' order without allocating the key array.
    for (const key in node) {
      if (!Object.hasOwn(node, key)) continue;
      if (key === 'loc' || key === 'type' || key === 'start' || key === 'end') continue;
      visit((node as unknown as Record<string, unknown>)[key], depth + 1);
    }
  };
  visit(node, 0);
  return found;
}
