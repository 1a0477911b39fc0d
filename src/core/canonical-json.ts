/**
 * Canonical JSON: object keys sorted, no white space, `undefined` members dropped. Two equal values always
 * serialise to the same string, so hashes over them are stable across processes and databases.
 *
 * It serialises like JSON.stringify in every other respect: toJSON is honoured (a Date becomes its ISO
 * string), non-finite numbers become null, and functions and symbols are left out of objects and become null
 * in arrays. Written with plain loops: the event log hashes every record it appends with it.
 */
export function canonicalJson(value: unknown): string {
  const out = write(value);
  return out === undefined ? 'null' : out;
}

/** The canonical text of a value, or undefined for what JSON leaves out (undefined, functions, symbols). */
function write(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      // As JSON.stringify: a TypeError.
      return JSON.stringify(value);
    default:
      break;
  }
  if (value === null) return 'null';
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return write((value as { toJSON: () => unknown }).toJSON());
  }
  if (Array.isArray(value)) {
    let s = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) s += ',';
      s += write(value[i]) ?? 'null';
    }
    return `${s}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let s = '{';
  let first = true;
  for (const k of keys) {
    const v = write(obj[k]);
    if (v === undefined) continue;
    s += first ? `${JSON.stringify(k)}:${v}` : `,${JSON.stringify(k)}:${v}`;
    first = false;
  }
  return `${s}}`;
}
