/** Splitting yarn descriptors and locators (`name@range`, `@scope/name@npm:1.2.3`) into name and range. */

/** `a@^1.0.0` → `{ name: 'a', range: '^1.0.0' }`; `@s/n@npm:1.0.0` → `{ name: '@s/n', range: 'npm:1.0.0' }`. */
export function splitDescriptor(descriptor: string): { name: string; range: string } {
  const at = descriptor.indexOf('@', descriptor.startsWith('@') ? 1 : 0);
  if (at === -1) return { name: descriptor, range: '' };
  return { name: descriptor.slice(0, at), range: descriptor.slice(at + 1) };
}
