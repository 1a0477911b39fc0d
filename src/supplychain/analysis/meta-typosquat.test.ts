import { beforeAll, describe, expect, it } from 'vitest';
import { loadPopularPackages, parsePopularPackages } from './meta-popular.js';
import { createTyposquatChecker, singleEdit, type TyposquatChecker } from './meta-typosquat.js';

let checker: TyposquatChecker;
let popularNames: string[];
beforeAll(() => {
  const popular = loadPopularPackages();
  popularNames = popular.map((p) => p.name);
  checker = createTyposquatChecker(popular);
});

const how = (name: string) => {
  const s = checker.check(name);
  return s === null ? null : /package "([^"]+)".*: it (.*)\.$/.exec(s.message)?.slice(1, 3).join(' | ');
};

describe('createTyposquatChecker with the bundled list', () => {
  it('loads the bundled 10,000 popular packages', () => {
    expect(popularNames).toHaveLength(10000);
    expect(popularNames).toContain('@babel/core');
  });

  it.each([
    'react',
    'lodash',
    'express',
    '@babel/core',
    'typescript',
    'babel-core',
    'react-dom',
    'cross-env',
  ])('never flags the popular package %s', (name) => {
    expect(checker.check(name)).toBeNull();
  });

  it('never flags any popular package', () => {
    expect(popularNames.filter((n) => checker.check(n) !== null)).toEqual([]);
  });

  it.each([
    ['expresss', 'express | adds a character to the name'],
    ['lodahs', 'lodash | swaps two adjacent characters of the name'],
    ['raect', 'react | swaps two adjacent characters of the name'],
    ['lodas', 'lodash | drops a character from the name'],
    ['axios2', 'axios | adds a character to the name'],
    ['@bable/core', '@babel/core | swaps two adjacent characters of the scope'],
    ['react-dom-js', 'react-dom | adds "-js" to the name'],
    ['cross-env.js', 'cross-env | adds ".js" to the name'],
    ['node-lodash', 'lodash | adds "node-" to the name'],
    ['lodash-official', 'lodash | adds "-official" to the name'],
    ['dom-react', 'react-dom | reorders its words'],
    ['react_dom', 'react-dom | changes the separators between its words'],
    ['reactdom', 'react-dom | changes the separators between its words'],
    ['types-node', '@types/node | joins the scope and the name of the scoped package into one name'],
    [
      '@types-node/x',
      '@types/node | uses the scope "@types-node", made from the scope and name of "@types/node"',
    ],
    [
      '@typesnode/x',
      '@types/node | uses the scope "@typesnode", made from the scope and name of "@types/node"',
    ],
  ])('flags %s as imitating %s', (name, expected) => {
    const signal = checker.check(name);
    expect(signal).toMatchObject({
      ruleId: 'npm.metadata.typosquat',
      kind: 'metadata',
      category: 'typosquat',
      severity: 'medium',
      file: null,
      line: null,
      snippet: name,
    });
    expect(how(name)).toBe(expected);
  });

  it.each([
    '@evil/lodash', // a scoped copy of an unscoped name is not a squat by itself
    '@types/nodee', // only the @types owner publishes in @types
    'abc', // short names are not checked for one edit
    'keyward-internal-tool',
    'lod', // one edit from a 3-letter name is not reported (never checked)
    'zod-js', // zod is popular but shorter than 4 characters: no affix rule
  ])('does not flag %s', (name) => {
    expect(checker.check(name)).toBeNull();
  });

  it('checks 10,000 names in well under a second', () => {
    const names = popularNames.map((n, i) => (i % 2 === 0 ? `${n}x` : n.split('').reverse().join('')));
    const start = performance.now();
    let flagged = 0;
    for (const n of names) if (checker.check(n) !== null) flagged++;
    const ms = performance.now() - start;
    expect(flagged).toBe(2836);
    expect(ms).toBeLessThan(1000);
  });
});

describe('createTyposquatChecker options', () => {
  it('imitates only packages with at least minDownloads', () => {
    const c = createTyposquatChecker([
      { name: 'bigpackage', downloads: 5_000_000 },
      { name: 'smallpackage', downloads: 10 },
    ]);
    expect(c.check('bigpackages')).not.toBeNull();
    expect(c.check('smallpackages')).toBeNull();
    expect(
      createTyposquatChecker([{ name: 'smallpackage', downloads: 10 }], { minDownloads: 1 }).check(
        'smallpackages',
      ),
    ).not.toBeNull();
  });
});

describe('singleEdit', () => {
  it.each([
    ['abcd', 'abce', 'changes one character of'],
    ['abdc', 'abcd', 'swaps two adjacent characters of'],
    ['abcde', 'abcd', 'adds a character to'],
    ['abd', 'abcd', 'drops a character from'],
    ['abcd', 'abcd', null],
    ['badc', 'abcd', null],
    ['ab', 'abcd', null],
  ])('%s vs %s → %s', (a, b, kind) => {
    expect(singleEdit(a, b)).toBe(kind);
  });
});

describe('parsePopularPackages', () => {
  it('parses name<TAB>downloads and skips blanks and comments', () => {
    expect(parsePopularPackages('# c\nreact\t10\n\n@a/b\t2\r\n', 'p.tsv')).toEqual([
      { name: 'react', downloads: 10 },
      { name: '@a/b', downloads: 2 },
    ]);
  });

  it('names every malformed line', () => {
    expect(() => parsePopularPackages('react\tmany\nok\t1\nbad', 'p.tsv')).toThrow(
      expect.objectContaining({
        code: 'KW_INVALID_CONFIG',
        details: [
          { path: 'p.tsv:1', message: 'expected `name<TAB>monthly downloads` (a whole number)' },
          { path: 'p.tsv:3', message: 'expected `name<TAB>monthly downloads` (a whole number)' },
        ],
      }),
    );
  });
});
