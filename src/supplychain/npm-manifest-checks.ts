/**
 * Checks on the raw text of package.json and binding.gyp that a parsed object cannot show:
 * - duplicate keys: `JSON.parse` keeps the last of two `"scripts"` (or `"dependencies"`) keys, so a reader
 *   of the first sees harmless scripts while npm runs the second;
 * - gyp command expansions: `<!(cmd)` and `<!@(cmd)` in binding.gyp run shell commands when npm builds the
 *   addon (npm runs `node-gyp rebuild` for any package with a binding.gyp and no install script).
 */
import { visit } from 'jsonc-parser';
import { lineOfOffset } from './lockfiles/lockfile-errors.js';
import type { Signal } from './npm-types.js';

/** Top-level package.json keys whose duplication hides what npm will use. */
const SENSITIVE_KEYS = new Set([
  'name',
  'version',
  'scripts',
  'dependencies',
  'optionalDependencies',
  'bundleDependencies',
  'bundledDependencies',
  'main',
  'bin',
  'exports',
  'gypfile',
]);

/**
 * Duplicate keys in package.json, at the top level and inside `scripts`; the later one is what npm uses.
 * @example
 * duplicateManifestKeys('{"scripts":{},"scripts":{"postinstall":"x"}}') // one high signal
 */
export function duplicateManifestKeys(text: string): Signal[] {
  const signals: Signal[] = [];
  // One frame per open object or array: its keys so far and the key it sits under in its parent.
  const frames: { keys: Set<string>; under: string | null }[] = [];
  let lastKey: string | null = null;
  const open = (): void => {
    frames.push({ keys: new Set(), under: lastKey });
    lastKey = null;
  };
  const close = (): void => {
    frames.pop();
    lastKey = null;
  };
  visit(text, {
    onObjectBegin: open,
    onArrayBegin: open,
    onObjectEnd: close,
    onArrayEnd: close,
    onObjectProperty(property, offset) {
      lastKey = property;
      const top = frames[frames.length - 1];
      if (!top) return;
      const topLevel = frames.length === 1;
      const inScripts = frames.length === 2 && top.under === 'scripts';
      if (top.keys.has(property) && ((topLevel && SENSITIVE_KEYS.has(property)) || inScripts)) {
        const where = topLevel ? `"${property}"` : `"scripts.${property}"`;
        const hides =
          property === 'scripts' || property.endsWith('install') || property.endsWith('ependencies');
        signals.push({
          ruleId: 'npm.metadata.manifest-duplicate-key',
          kind: 'metadata',
          category: 'manifest-confusion',
          severity: hides ? 'high' : 'medium',
          message: `package.json has ${where} twice; npm uses the second, so a reader of the first is misled`,
          file: 'package.json',
          line: lineOfOffset(text, offset),
          column: null,
          snippet: null,
        });
      }
      top.keys.add(property);
    },
  });
  return signals;
}

/** The shell commands of `<!(…)` and `<!@(…)` expansions in a binding.gyp, with their lines. */
export function gypCommandExpansions(text: string): { command: string; line: number }[] {
  const out: { command: string; line: number }[] = [];
  let from = 0;
  for (;;) {
    const at = text.indexOf('<!', from);
    if (at < 0) break;
    let i = at + 2;
    if (text[i] === '@') i++;
    if (text[i] !== '(') {
      from = at + 2;
      continue;
    }
    let depth = 0;
    let j = i;
    for (; j < text.length; j++) {
      const c = text[j];
      if (c === '(') depth++;
      else if (c === ')' && --depth === 0) break;
      else if (c === '\n') break;
    }
    out.push({ command: text.slice(i + 1, j).trim(), line: lineOfOffset(text, at) });
    from = j + 1;
  }
  return out;
}
