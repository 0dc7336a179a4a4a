import { ConfigurationError } from '../config-checks.js';
import { EmbeddedDatabaseInUseError } from '../db/embedded-lock.js';

/**
 * How the server and the commands end on an error they cannot go on from. What the operator must fix (a bad
 * setting, an embedded database another process holds) is said as its message alone; anything else with its stack.
 */
export function exitWith(err: unknown): never {
  console.error(err instanceof EmbeddedDatabaseInUseError || err instanceof ConfigurationError ? err.message : err);
  process.exit(1);
}
