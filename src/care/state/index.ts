import type { CareRules } from '../../care-rules/rules.js';
import type { EntityManager } from '../../db/orm.js';
import { FollowUp } from '../../domain/follow-up/follow-up.entity.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import type { CareDerivation, CareScope } from '../index.js';
import { recordSqlWrites } from './changes.js';
import { decideConditionControl, judgeVisits } from './control.js';
import { decideManagement } from './management.js';
import { schedule } from './schedule.js';
import { daySql, dayStartSql, frameOf } from './sql.js';

/**
 * The care state (ADR 16, docs/care-model.md): each done visit's control status from its readings, each managed
 * condition's control status (`condition_control`), the patient's management tier and colour, and the one open
 * planned visit — derived in that order (each reads the one before), set-based in SQL over the patients in scope,
 * writing only what differs: reassessing twice changes nothing. What it writes to patients and visits leaves the
 * events and FHIR versions a write through the ORM would (changes.ts), and moves their `updated_at` (what offline
 * sync reads) but not their `version`: that guards what people write, which the rules' columns never are — a tablet's
 * edit of a patient is not a CONFLICT because a reading recoloured them.
 */
export async function deriveCareState(em: EntityManager, scope: CareScope, rules: CareRules, today: string): Promise<void> {
  const frame = frameOf(scope, today);
  const [{ recent_from: recentFrom }] = (await em.execute(`select ${dayStartSql(frame, daySql(frame, rules.control.recentDays))} as recent_from`)) as [{ recent_from: Date | string }];
  const visits = await judgeVisits(em, frame, rules);
  await decideConditionControl(em, frame, rules, new Date(recentFrom));
  const patients = await decideManagement(em, frame, rules);
  const planned = await schedule(em, frame, rules);
  await recordSqlWrites(em, { type: Patient, created: [], changed: patients, fields: ['managementColour', 'managementTier', 'managementOverrideReason', 'managementOverriddenBy', 'managementOverriddenAt', 'managementOverrideReviewOn'] });
  await recordSqlWrites(em, {
    type: FollowUp,
    created: planned.created,
    changed: [...new Set([...visits, ...planned.changed])],
    fields: ['controlStatus', 'plannedDate', 'dueReason', 'type', 'nextDueDate', 'cancelledAt', 'cancelReason'],
  });
}

export const careState: CareDerivation = { name: 'care-state', derive: deriveCareState };
