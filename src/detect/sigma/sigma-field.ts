/**
 * Compiled field accessors: the same lookup as getField (detect-types.ts) — raw record first, then the
 * normalized fields; dotted paths with literal keys preferred, longest head first — but with every split of
 * the path computed once at compile time, so a lookup does no string slicing.
 */
import type { DetectEvent } from '../detect-types.js';

type PathFn = (root: unknown) => unknown;

function compilePath(path: string, memo: Map<string, PathFn>): PathFn {
  const cached = memo.get(path);
  if (cached) return cached;
  const splits: Array<[string, PathFn]> = [];
  for (let i = path.lastIndexOf('.'); i > 0; i = path.lastIndexOf('.', i - 1)) {
    splits.push([path.slice(0, i), compilePath(path.slice(i + 1), memo)]);
  }
  const fn: PathFn = (root) => {
    if (root === null || typeof root !== 'object' || Array.isArray(root)) return undefined;
    const obj = root as Record<string, unknown>;
    if (Object.hasOwn(obj, path)) return obj[path];
    for (let i = 0; i < splits.length; i++) {
      const [head, tail] = splits[i]!;
      if (Object.hasOwn(obj, head)) {
        const found = tail(obj[head]);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  memo.set(path, fn);
  return fn;
}

/** An accessor for one field name, equivalent to `getField(event, field)`. */
export function compileAccessor(field: string): (event: DetectEvent) => unknown {
  if (field.startsWith('ocsf.')) {
    // The normalized field only, as getField reads `ocsf.<name>`.
    const name = field.slice(5);
    const lookup = compilePath(name, new Map());
    return (event) => (Object.hasOwn(event.fields, name) ? event.fields[name] : lookup(event.fields));
  }
  if (!field.includes('.')) {
    // The common case: a top-level key of the raw record (an object by contract), else a normalized field.
    return (event) => {
      const raw = event.raw;
      if (Object.hasOwn(raw, field)) {
        const v = raw[field];
        if (v !== undefined) return v;
      }
      const fields = event.fields;
      return Object.hasOwn(fields, field) ? fields[field] : undefined;
    };
  }
  const lookup = compilePath(field, new Map());
  return (event) => {
    const fromRaw = lookup(event.raw);
    if (fromRaw !== undefined) return fromRaw;
    const fields = event.fields;
    return Object.hasOwn(fields, field) ? fields[field] : lookup(fields);
  };
}
