/** Rules for cloud. */
import type { SecretRule } from '../secret-types.js';

/** cloud rules. */
export const CLOUD_RULES: SecretRule[] = [];
