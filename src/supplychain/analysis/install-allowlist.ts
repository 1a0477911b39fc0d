/**
 * The commands an install script may run without being reported as a threat. Each entry matches the words
 * of one simple command (after leading `VAR=value` assignments and an `npx` prefix are removed).
 *
 * | Command                                            | Why it is benign                                              |
 * |----------------------------------------------------|---------------------------------------------------------------|
 * | `node-gyp rebuild` (also `configure`/`build`/`clean`) | compiles the package's own native addon from binding.gyp   |
 * | `node-gyp-build`, `node-gyp-build-optional-packages` | loads a prebuilt addon or falls back to node-gyp           |
 * | `prebuild-install [flags]`                         | downloads the package's prebuilt addon from its release page  |
 * | `node-pre-gyp install [flags]`                     | same, for node-pre-gyp packages (bcrypt, sqlite3)             |
 * | `napi-postinstall …`                               | picks the platform's prebuilt N-API package                   |
 * | `cmake-js compile` / `rebuild` / `build`           | compiles a native addon with CMake                            |
 * | `husky`, `husky install [dir]`                     | installs the project's own git hooks (dev setup)              |
 * | `patch-package [flags]`                            | applies the project's committed patches                       |
 * | `opencollective-postinstall`, `opencollective [postinstall]` | prints a funding message                            |
 * | `tsc [flags]`                                      | compiles the package's TypeScript                             |
 * | `ngcc [flags]`                                     | Angular's compatibility compiler                              |
 * | `npm run <script>`                                 | runs another script of the same package, which is analysed in turn |
 * | `echo …`, `exit 0`, `true`, `:`                    | prints or does nothing                                        |
 * | `is-ci`                                            | exits 0 on CI (used as `is-ci \|\| husky install`)              |
 * | `npx only-allow <pm>`                              | refuses a package manager other than the one the project uses |
 *
 * `node <file>` (for instance esbuild's `node install.js`, or `node scripts/postinstall.js`) is *not* in this
 * table: it runs the package's own code, so the file becomes an entry file for the code analyser and the
 * script counts as allowlisted only in that sense. `node -e "<code>"` is inline code: it is handed to the
 * code analyser as a virtual file and is not allowlisted, except the `try{require('./x')}catch(e){}` idiom,
 * which is treated as `node x.js`.
 */

/** One allowlisted command. */
export interface AllowlistedCommand {
  /** How the command is written, for reports and docs. */
  command: string;
  /** Why running it on install is benign. */
  reason: string;
  /** True when the words of a simple command (command first) are this command. */
  matches(words: readonly string[]): boolean;
}

const anyArgs = (name: string) => (w: readonly string[]) => w[0] === name;
const subcommands =
  (name: string, subs: readonly string[], bareAllowed = false) =>
  (w: readonly string[]): boolean => {
    if (w[0] !== name) return false;
    const sub = w.slice(1).find((x) => !x.startsWith('-'));
    return sub === undefined ? bareAllowed && w.length === 1 : subs.includes(sub);
  };
const flagsOnly = (name: string) => (w: readonly string[]) =>
  w[0] === name && w.slice(1).every((x) => x.startsWith('-') || /^[\w.=-]+$/.test(x));

/** The benign install commands (see the table in this module's doc comment). */
export const INSTALL_SCRIPT_ALLOWLIST: readonly AllowlistedCommand[] = [
  {
    command: 'node-gyp rebuild',
    reason: "compiles the package's own native addon from binding.gyp",
    matches: subcommands('node-gyp', ['rebuild', 'configure', 'build', 'clean']),
  },
  {
    command: 'node-gyp-build',
    reason: 'loads a prebuilt native addon or falls back to node-gyp',
    matches: (w) => w[0] === 'node-gyp-build' || w[0] === 'node-gyp-build-optional-packages',
  },
  {
    command: 'prebuild-install',
    reason: 'downloads the prebuilt native addon',
    matches: flagsOnly('prebuild-install'),
  },
  {
    command: 'node-pre-gyp install',
    reason: 'downloads or builds the native addon',
    matches: subcommands('node-pre-gyp', ['install', 'rebuild', 'build']),
  },
  {
    command: 'napi-postinstall',
    reason: "picks the platform's prebuilt N-API package",
    matches: flagsOnly('napi-postinstall'),
  },
  {
    command: 'cmake-js compile',
    reason: 'compiles a native addon with CMake',
    matches: subcommands('cmake-js', ['compile', 'rebuild', 'build'], true),
  },
  {
    command: 'husky install',
    reason: "installs the project's git hooks",
    matches: subcommands('husky', ['install'], true),
  },
  {
    command: 'patch-package',
    reason: "applies the project's committed patches",
    matches: flagsOnly('patch-package'),
  },
  {
    command: 'opencollective-postinstall',
    reason: 'prints a funding message',
    matches: (w) =>
      (w[0] === 'opencollective-postinstall' && w.length === 1) ||
      (w[0] === 'opencollective' && (w.length === 1 || (w.length === 2 && w[1] === 'postinstall'))),
  },
  { command: 'tsc', reason: "compiles the package's TypeScript", matches: flagsOnly('tsc') },
  { command: 'ngcc', reason: "Angular's compatibility compiler", matches: flagsOnly('ngcc') },
  { command: 'echo …', reason: 'prints a message', matches: anyArgs('echo') },
  {
    command: 'exit 0',
    reason: 'does nothing',
    matches: (w) =>
      (w[0] === 'exit' && w.length <= 2 && /^\d*$/.test(w[1] ?? '')) ||
      (w.length === 1 && (w[0] === 'true' || w[0] === ':')),
  },
  {
    command: 'is-ci',
    reason: 'tells whether it runs on CI',
    matches: (w) => w.length === 1 && w[0] === 'is-ci',
  },
  {
    command: 'npx only-allow <pm>',
    reason: 'refuses other package managers',
    matches: (w) => w[0] === 'only-allow' && w.length === 2 && /^(npm|pnpm|yarn|bun)$/.test(w[1] ?? ''),
  },
];

/** The allowlist entry matching a simple command's words, or null. */
export function findAllowlisted(words: readonly string[]): AllowlistedCommand | null {
  return INSTALL_SCRIPT_ALLOWLIST.find((entry) => entry.matches(words)) ?? null;
}
