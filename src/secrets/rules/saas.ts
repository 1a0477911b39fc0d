/** Rules for saas. */
import type { SecretRule } from '../secret-types.js';

/** saas rules. */
export const SAAS_RULES: SecretRule[] = [];
