/** Rules for generic. */
import type { SecretRule } from '../secret-types.js';

/** generic rules. */
export const GENERIC_RULES: SecretRule[] = [];
