/** The secret scanner's input sources: files on disk, git history and index, config values and the environment. */
export {
  BINARY_SNIFF_BYTES,
  DEFAULT_IGNORE_FILE_NAMES,
  MAX_NON_TEXT_RATIO,
  decodeScanBuffer,
  isBinaryBuffer,
  readScanText,
  rebasePattern,
  walkFiles,
  walkTree,
  type UnstatedFile,
  type WalkEntry,
  type WalkOptions,
} from './file-walker.js';
export {
  DEFAULT_MAX_LINE_BYTES,
  gitHistory,
  gitStaged,
  unquoteGitPath,
  type AddedLine,
  type GitAddedText,
  type GitHistoryOptions,
  type GitStagedOptions,
} from './git-source.js';
export { configFormat, extractConfigValues, type ConfigFormat, type ConfigValue } from './config-values.js';
export { envValues } from './env-source.js';
