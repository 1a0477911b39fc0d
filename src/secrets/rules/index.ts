/** The built-in rule catalogue, in one array; more specific rules first within each group. */
import type { SecretRule } from '../secret-types.js';
import { AI_RULES } from './ai.js';
import { CLOUD_RULES } from './cloud.js';
import { GENERIC_RULES } from './generic.js';
import { SAAS_RULES } from './saas.js';
import { VCS_RULES } from './vcs.js';

/** Every built-in secret rule. */
export const BUILTIN_SECRET_RULES: readonly SecretRule[] = [
  ...AI_RULES,
  ...CLOUD_RULES,
  ...VCS_RULES,
  ...SAAS_RULES,
  ...GENERIC_RULES,
];
