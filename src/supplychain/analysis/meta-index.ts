/**
 * The npm gate's analysers that read no code: install scripts, typosquatting, dependency confusion and
 * URL/git dependencies, and manifest confusion. The known-malicious feed lives in `../feed/index.js`.
 */
export { analyseInstallScripts } from './install-scripts.js';
export type { InlineCode, InstallScriptOptions, InstallScriptResult } from './install-scripts.js';
export { INSTALL_SCRIPT_ALLOWLIST, findAllowlisted } from './install-allowlist.js';
export type { AllowlistedCommand } from './install-allowlist.js';
export { splitShellCommand } from './install-shell.js';
export type { ShellRedirect, ShellSegment, ShellSeparator } from './install-shell.js';
export { createTyposquatChecker, TYPOSQUAT_PREFIXES, TYPOSQUAT_SUFFIXES } from './meta-typosquat.js';
export type { TyposquatChecker, TyposquatOptions } from './meta-typosquat.js';
export { loadPopularPackages, parsePopularPackages } from './meta-popular.js';
export type { PopularPackage } from './meta-popular.js';
export {
  checkVersionAndDeps,
  dependencySpecRisk,
  CONFUSION_MIN_MAJOR,
  HIGH_MAJOR_PACKAGES,
} from './meta-versions.js';
export type { VersionCheckOptions } from './meta-versions.js';
export { compareManifests, compareWithLock } from './meta-manifest-confusion.js';
export { bundledDataFile } from './meta-data-file.js';
export { jsonKeyLines } from './meta-signal.js';
