/**
 * Typosquatting: a package name made to be mistaken for a popular one. A name in the popular list is never
 * reported. Otherwise, in this order, a name is reported when it
 *
 * 1. joins a popular scoped package's scope and name (`types-node`, `@types-node/x`, `@typesnode/x` for
 *    `@types/node`);
 * 2. is one Damerau–Levenshtein edit (insert, delete, change, swap of adjacent characters) from a popular name
 *    of at least 4 characters, the scope included (`expresss`, `raect`, `@bable/core`); a scoped copy of an
 *    unscoped name (`@evil/lodash`) is not reported by itself;
 * 3. has the words of a popular name reordered or its separators changed (`dom-react`, `react_dom`, `reactdom`);
 * 4. adds a common affix to a popular name of at least 4 characters (`react-dom-js`, `cross-env.js`, `node-lodash`).
 *
 * A name inside the scope of a popular package (`@types/nodee`) is not reported: only the scope's owner can
 * publish there. Only popular packages with at least `minDownloads` monthly downloads (1,000,000 by default) are imitated.
 * Lookups use a deletion-neighbourhood index (every popular name with each one character removed), so a
 * check costs a few map lookups.
 */
import type { Signal } from '../npm-types.js';
import { metaSignal } from './meta-signal.js';
import type { PopularPackage } from './meta-popular.js';

/** Options of `createTyposquatChecker`. */
export interface TyposquatOptions {
  /** Monthly downloads a package needs before imitating it is reported; default 1,000,000. */
  minDownloads?: number;
}

/** Suffixes added to a popular name in combosquats. */
export const TYPOSQUAT_SUFFIXES = [
  '-js',
  '.js',
  '-node',
  '-cli',
  '-utils',
  '-dev',
  '-sdk',
  '-api',
  '-official',
  '-secure',
  '-fix',
  '-latest',
] as const;
/** Prefixes added to a popular name in combosquats. */
export const TYPOSQUAT_PREFIXES = ['node-'] as const;

const MIN_LENGTH = 4;
const SEPARATORS = /[-_.]/;

type EditKind =
  | 'adds a character to'
  | 'drops a character from'
  | 'changes one character of'
  | 'swaps two adjacent characters of';

/**
 * Builds a checker over a popular-package list.
 * @example createTyposquatChecker(loadPopularPackages()).check('expresss')?.message
 */
export function createTyposquatChecker(popular: readonly PopularPackage[], options: TyposquatOptions = {}) {
  const minDownloads = options.minDownloads ?? 1_000_000;
  const known = new Set(popular.map((p) => p.name));
  const downloads = new Map<string, number>();
  for (const p of popular)
    if (p.downloads >= minDownloads) downloads.set(p.name, Math.max(p.downloads, downloads.get(p.name) ?? 0));

  const deletions = new Map<string, string[]>();
  const shapes = new Map<string, string>();
  const stripped = new Map<string, string>();
  const joins = new Map<string, string>();
  // Only a scope's owner can publish in it, so a name inside the scope of a popular package is not a squat.
  const ownedScopes = new Set(popular.map((p) => splitName(p.name).scope).filter((s) => s !== ''));
  const keepBest = (index: Map<string, string>, key: string, name: string): void => {
    const held = index.get(key);
    if (held === undefined || (downloads.get(held) ?? 0) < (downloads.get(name) ?? 0)) index.set(key, name);
  };
  for (const name of downloads.keys()) {
    if (name.length >= MIN_LENGTH) {
      for (const key of neighbourhood(name)) {
        const list = deletions.get(key);
        if (list === undefined) deletions.set(key, [name]);
        else if (list[list.length - 1] !== name) list.push(name);
      }
    }
    const { scope, bare } = splitName(name);
    if (bare.replace(/[-_.]/g, '').length >= MIN_LENGTH) {
      if (SEPARATORS.test(bare)) keepBest(shapes, scope + sortedParts(bare), name);
      keepBest(stripped, scope + bare.replace(/[-_.]/g, ''), name);
    }
    if (scope !== '') {
      const s = scope.slice(1, -1);
      for (const sep of ['-', '_', '.', '']) keepBest(joins, `${s}${sep}${bare}`, name);
    }
  }

  const report = (name: string, target: string, how: string): Signal =>
    metaSignal({
      ruleId: 'npm.metadata.typosquat',
      kind: 'metadata',
      category: 'typosquat',
      severity: 'medium',
      message: `"${name}" looks like a typosquat of the popular package "${target}" (${thousands(downloads.get(target) ?? 0)} downloads a month): it ${how}.`,
      file: null,
      snippet: name,
    });

  /** A typosquat signal for `name`, or null when it does not imitate a popular package. */
  function check(name: string): Signal | null {
    if (name === '' || known.has(name)) return null;
    const { scope, bare } = splitName(name);
    if (ownedScopes.has(scope)) return null;

    const joined = scope === '' ? joins.get(name) : joins.get(scope.slice(1, -1));
    if (joined !== undefined) {
      return report(
        name,
        joined,
        scope === ''
          ? 'joins the scope and the name of the scoped package into one name'
          : `uses the scope "${scope.slice(0, -1)}", made from the scope and name of "${joined}"`,
      );
    }

    const flat = bare.replace(/[-_.]/g, '');
    if (flat.length >= MIN_LENGTH) {
      const reordered = SEPARATORS.test(bare) ? shapes.get(scope + sortedParts(bare)) : undefined;
      if (reordered !== undefined && reordered !== name) {
        const sameOrder = splitName(reordered).bare.replace(/[-_.]/g, '') === flat;
        return report(
          name,
          reordered,
          sameOrder ? 'changes the separators between its words' : 'reorders its words',
        );
      }
      const joinedWords = stripped.get(scope + flat);
      if (joinedWords !== undefined && joinedWords !== name)
        return report(name, joinedWords, 'changes the separators between its words');
    }

    if (name.length >= MIN_LENGTH) {
      let best: { target: string; kind: EditKind } | null = null;
      for (const key of neighbourhood(name)) {
        for (const target of deletions.get(key) ?? []) {
          const kind = singleEdit(name, target);
          if (
            kind !== null &&
            (best === null || (downloads.get(target) ?? 0) > (downloads.get(best.target) ?? 0))
          )
            best = { target, kind };
        }
      }
      if (best !== null) {
        const inScope = scope !== '' && splitName(best.target).scope !== scope;
        return report(name, best.target, `${best.kind} the ${inScope ? 'scope' : 'name'}`);
      }
    }

    for (const suffix of TYPOSQUAT_SUFFIXES) {
      if (!bare.endsWith(suffix)) continue;
      const base = scope + bare.slice(0, -suffix.length);
      if (isAffixBase(base)) return report(name, base, `adds "${suffix}" to the name`);
    }
    for (const prefix of TYPOSQUAT_PREFIXES) {
      if (!bare.startsWith(prefix)) continue;
      const base = scope + bare.slice(prefix.length);
      if (isAffixBase(base)) return report(name, base, `adds "${prefix}" to the name`);
    }
    return null;
  }

  function isAffixBase(base: string): boolean {
    return downloads.has(base) && splitName(base).bare.length >= MIN_LENGTH;
  }

  return { check };
}

/** A checker made by `createTyposquatChecker`. */
export type TyposquatChecker = ReturnType<typeof createTyposquatChecker>;

/** `@scope/name` → `{ scope: '@scope/', bare: 'name' }`; unscoped → `{ scope: '', bare: name }`. */
function splitName(name: string): { scope: string; bare: string } {
  if (name.startsWith('@')) {
    const slash = name.indexOf('/');
    if (slash > 0) return { scope: name.slice(0, slash + 1), bare: name.slice(slash + 1) };
  }
  return { scope: '', bare: name };
}

function sortedParts(bare: string): string {
  return bare
    .split(/[-_.]+/)
    .filter((p) => p !== '')
    .sort()
    .join('-');
}

/** The string and every string made by deleting one of its characters (a repeated letter gives one entry). */
function neighbourhood(s: string): string[] {
  const out = [s];
  for (let i = 0; i < s.length; i++)
    if (i === 0 || s[i] !== s[i - 1]) out.push(s.slice(0, i) + s.slice(i + 1));
  return out;
}

/** How `candidate` differs from `target` when it is exactly one Damerau–Levenshtein edit away, else null. */
export function singleEdit(candidate: string, target: string): EditKind | null {
  const a = candidate;
  const b = target;
  if (a === b || Math.abs(a.length - b.length) > 1) return null;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) {
    if (a.slice(i + 1) === b.slice(i + 1)) return 'changes one character of';
    if (a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2))
      return 'swaps two adjacent characters of';
    return null;
  }
  if (a.length > b.length) return a.slice(i + 1) === b.slice(i) ? 'adds a character to' : null;
  return a.slice(i) === b.slice(i + 1) ? 'drops a character from' : null;
}

/** 1234567 → "1,234,567" (toLocaleString is slow enough to matter in a loop). */
function thousands(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
