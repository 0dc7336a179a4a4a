import type { EntityManager } from '../db/orm.js';
import type { CareRules } from '../care-rules/rules.js';
import { careState } from './state/index.js';
import { alertDerivation } from './alerts/derivation.js';
import { pathwayDerivation } from './pathway/derivation.js';

/**
 * Which patients to reassess: the ones an event or a mutation touched, or (`all`) every patient, as the daily sweep
 * and the seed do. Each derivation turns it into one SQL filter, so a county is reassessed set-based, not row by row.
 */
export type CareScope = { patientIds: readonly string[] } | { all: true };

/**
 * One rule set applied to the database (ADR 16): reads the patients' facts, computes its derived state with the pure
 * rules of src/care-rules/ (or their SQL twins), and writes only what differs — so running it twice changes nothing.
 * `today` is the county's date (care-rules/calendar.ts), passed in so a test or the sweep can fix it.
 */
export interface CareDerivation {
  name: string;
  derive(em: EntityManager, scope: CareScope, rules: CareRules, today: string): Promise<void>;
}

/**
 * The rule sets in the order they depend on each other: control status and scheduling first (alerts and the pathway
 * read them), then alerts, then the pathway. Each is registered here and nowhere else.
 */
export const CARE_DERIVATIONS: CareDerivation[] = [careState, alertDerivation, pathwayDerivation];

/** Every rule set, in order, for the patients in `scope`: the one entry point of the consumer, the sweep, the seed and mutations. */
export async function reassess(em: EntityManager, scope: CareScope, rules: CareRules, today: string): Promise<void> {
  if ('patientIds' in scope && scope.patientIds.length === 0) return;
  // The rules' statements are wide and estimated dear, so PostgreSQL JIT-compiles them: ~1.2 s each on this
  // machine, more than their work, for the seed, the sweep and an event's few patients alike. Only for this
  // transaction (a no-op outside one, and on PGlite, which has no JIT).
  await em.execute('set local jit = off', [], 'run');
  for (const derivation of CARE_DERIVATIONS) await derivation.derive(em, scope, rules, today);
}
