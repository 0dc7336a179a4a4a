import type { EntityManager } from '../../db/orm.js';
import type { EventConsumer } from '../../events/consumer.js';
import { managementColourSql, TIER_OF } from '../../care-rules/management.js';
import type { CareRules } from '../../care-rules/rules.js';
import type { ManagementColour } from '../../../vocabulary/index.js';
import { Patient } from './patient.entity.js';

/** What can move a patient's colour: a reading or a diagnosis, recorded, changed or removed. */
const MOVES_COLOUR = ['Observation', 'Condition'].flatMap((r) => [`${r}Recorded`, `${r}Changed`, `${r}Removed`]);

/**
 * Keeps managed patients' colour and tier what the rule says (care-rules/management.ts) as readings and diagnoses
 * arrive by any path. A patient whose colour a person overrode (with a reason) keeps it; a patient not yet in
 * management (no colour) is left to enrolment. The change is written through the ORM, so it is a PatientChanged
 * event and a new version of the FHIR Patient like any other.
 */
export function managementConsumer(rules: CareRules): EventConsumer {
  return {
    name: 'patient-management-colour',
    types: MOVES_COLOUR,
    // What came before it first ran has its colours already: the seed derives them by the same rule, and
    // working through a whole county's readings at start-up would hold the embedded database for its duration.
    startAt: 'end',
    async handle(em: EntityManager, events) {
      const ids = [...new Set(events.map((e) => e.patientId).filter((id): id is string => !!id))];
      if (ids.length === 0) return;
      const derived = (await em.execute(
        `select p.id, ${managementColourSql(rules, 'p.id')} as colour from patient p
          where p.id in (${ids.map(() => '?').join(', ')}) and p.management_colour is not null and p.management_override_reason is null`,
        ids,
      )) as Array<{ id: string; colour: ManagementColour }>;
      const changed = new Map<string, ManagementColour>();
      const patients = derived.length ? await em.find(Patient, { id: { $in: derived.map((d) => d.id) } }) : [];
      for (const { id, colour } of derived) {
        const patient = patients.find((p) => p.id === id);
        if (patient && patient.managementColour !== colour) changed.set(id, colour);
      }
      for (const patient of patients) {
        const colour = changed.get(patient.id);
        if (colour) em.assign(patient, { managementColour: colour, managementTier: TIER_OF[colour] });
      }
      await em.flush();
    },
  };
}
