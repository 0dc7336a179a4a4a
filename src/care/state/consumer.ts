import { countyToday } from '../../care-rules/calendar.js';
import type { CareRules } from '../../care-rules/rules.js';
import type { EventConsumer } from '../../events/consumer.js';
import { EVENT_SOURCES } from '../../events/recorder.js';
import { reassess } from '../index.js';

/** Records whose events are derived state the rules themselves write: no fact to reassess by. */
const DERIVED = new Set(['Alert']);

/** Every event of a fact: whatever a patient's state is derived from (a reading, a diagnosis, a visit, a referral, …). */
const FACT_EVENTS = [
  ...new Set(Object.entries(EVENT_SOURCES).flatMap(([name, s]) => (DERIVED.has(name) || DERIVED.has(s.partOf?.type ?? '') ? [] : [s.created, s.changed, s.removed]))),
];

/**
 * `care-rules` (ADR 16): reassesses the patients of the fact events, whichever path wrote them — GraphQL, FHIR,
 * `npm run import` — with every rule set (src/care/index.ts). Idempotent, so a mutation that already reassessed
 * (recordFollowUp) costs a look and nothing more, and the rules' own writes (a new planned visit, a colour) come
 * back as events that change nothing. It begins at the end of the outbox: what came before is the seed's, which
 * reassesses the county itself, or is caught by the daily sweep (sweep.ts).
 */
export function careRulesConsumer(rules: CareRules): EventConsumer {
  return {
    name: 'care-rules',
    types: FACT_EVENTS,
    startAt: 'end',
    async handle(em, events) {
      const patientIds = [...new Set(events.map((e) => e.patientId).filter((id): id is string => !!id))];
      await reassess(em, { patientIds }, rules, countyToday());
    },
  };
}
