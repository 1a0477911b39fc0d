/** Lockfile readers of the npm supply-chain gate: what a project's lockfile pins, and where each package comes from. */
export { parseLockfile, isLockfileName, LOCKFILE_NAMES } from './parse-lockfile.js';
export type { LockfileName } from './parse-lockfile.js';
export { classifySpec } from './classify-spec.js';
