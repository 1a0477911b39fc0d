/**
 * Package readers of the npm supply-chain gate: tarballs, package directories, installed node_modules trees,
 * input classification and an npm registry client. Nothing here runs package code.
 */
export { ArchiveError, DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './archive-limits.js';
export { readTarball, type ReadTarballOptions } from './tarball-reader.js';
export { readPackageDir, type ReadPackageDirOptions } from './package-dir.js';
export { findPackageDirs, type InstalledPackage, type InstalledTree } from './node-modules.js';
export { classifyInput, isTarballName, type InputKind } from './classify-input.js';
export { DEFAULT_REGISTRY, loadNpmConfig, type NpmConfig, type NpmConfigSources } from './npmrc-config.js';
export { RegistryError } from './registry-errors.js';
export {
  createRegistryClient,
  type FetchedTarball,
  type FetchLike,
  type FetchResponse,
  type Packument,
  type RegistryClient,
  type RegistryClientOptions,
} from './registry-client.js';
