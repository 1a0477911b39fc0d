/** The inventory capability's public surface. */
export {
  createInventoryService,
  type InventoryService,
  type ImportResult,
  type IdentityDetail,
} from './inventory-service.js';
export { IMPORTER_KINDS, type ImporterKind } from './importers/importer-types.js';
export { detectImporterKind, getImporter, IMPORTERS } from './importers/index.js';
export {
  postureConfigSchema,
  DEFAULT_POSTURE_CONFIG,
  type PostureConfig,
  type RiskBreakdown,
  type RiskFactor,
} from './posture/posture-types.js';
export {
  POSTURE_RULES,
  evaluatePosture,
  computeRiskScores,
  postureScore,
  openFindingWeights,
  buildIdentityGraph,
  type IdentityGraph,
} from './posture/index.js';
export { buildDemoBatches } from './demo/demo-data.js';
