/** The npm supply-chain gate's public surface. */
import { createTyposquatChecker, loadPopularPackages } from './analysis/meta-index.js';
import { loadFeed } from './feed/index.js';
import type { AnalyseContext } from './npm-analyse.js';

export * from './npm-types.js';
export { analysePackage, analyseLockEntry, type AnalyseContext, type PackageVerdict } from './npm-analyse.js';
export { scorePackage, levelAndScore, severityRank, type NpmFinding } from './npm-score.js';
export {
  applySuppressions,
  parseSuppressions,
  suppressionsFor,
  type NpmScanReport,
  type Suppression,
  type SuppressionFile,
} from './npm-report.js';
export { flaggedPackages, levelCounts, npmReportJson, npmSarif, npmTable } from './npm-output.js';
export {
  checkRegistryPackages,
  parsePackageSpec,
  scanNpmInputs,
  type NpmScanOptions,
} from './npm-gate-service.js';
export { scanNpmInputsIsolated, type IsolatedScanRequest } from './npm-scan-thread.js';
export { analyseInstallPlan, planInstall, type InstallAnalysis, type InstallPlan } from './npm-install.js';
export { npmReportEvents, npmReportToInventoryBatch, NPM_RESOURCE } from './npm-record.js';
export { importOsvDirectory, writeFeed } from './feed/index.js';
export { createRegistryClient, type RegistryClient } from './sources/index.js';

/**
 * The checkers every analysis shares, loaded once: the popular-package list for typosquatting and the
 * known-malicious feed (the bundled one merged with `<dataDir>/npm-feed.json` when present).
 */
export function createNpmAnalyseContext(opts: { dataDir?: string } = {}): AnalyseContext {
  return {
    typosquat: createTyposquatChecker(loadPopularPackages()),
    feed: loadFeed(opts.dataDir ? { dataDir: opts.dataDir } : {}),
  };
}
