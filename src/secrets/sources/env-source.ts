/** Environment variables as a scan source (`--env`): each non-empty variable is one named value. */
import type { ConfigValue } from './config-values.js';

/**
 * Turns an environment (the caller passes `process.env` or any map) into values named after their variable:
 * keyPath = keyName = the name, line 1, column 1. Unset and empty variables are left out; the order is by name
 * (UTF-16 code units) so a scan's output does not depend on the environment's insertion order.
 */
export function envValues(env: Readonly<Record<string, string | undefined>>): ConfigValue[] {
  return Object.keys(env)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .flatMap((name) => {
      const value = env[name];
      return value === undefined || value === ''
        ? []
        : [{ keyPath: name, keyName: name, value, line: 1, column: 1 }];
    });
}
