/** Rules for ai. */
import type { SecretRule } from '../secret-types.js';

/** ai rules. */
export const AI_RULES: SecretRule[] = [];
