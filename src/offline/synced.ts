import { Alert } from '../care/alerts/alert.entity.js';
import { CarePlan } from '../domain/care-plan/care-plan.entity.js';
import { Condition } from '../domain/condition/condition.entity.js';
import { ContactAttempt } from '../domain/contact-attempt/contact-attempt.entity.js';
import { FollowUp } from '../domain/follow-up/follow-up.entity.js';
import { Observation } from '../domain/observation/observation.entity.js';
import { Patient } from '../domain/patient/patient.entity.js';
import { Referral } from '../domain/referral/referral.entity.js';

/**
 * What a tablet keeps, one line per kind of record (ADR 17): the outbox's aggregate type (recorder.ts, EVENT_SOURCES:
 * a plan's goals and activities are events of the plan, a patient's identifiers of the patient), the entity, and the
 * field of `changes` it is answered in. A kind added here is synced: its events and its rows.
 */
export const SYNCED = [
  { type: 'Patient', entity: Patient, field: 'patients' },
  { type: 'Condition', entity: Condition, field: 'conditions' },
  { type: 'Observation', entity: Observation, field: 'observations' },
  { type: 'FollowUp', entity: FollowUp, field: 'followUps' },
  { type: 'CarePlan', entity: CarePlan, field: 'carePlans' },
  { type: 'Referral', entity: Referral, field: 'referrals' },
  { type: 'Alert', entity: Alert, field: 'alerts' },
  { type: 'ContactAttempt', entity: ContactAttempt, field: 'contactAttempts' },
] as const;

export type SyncedField = (typeof SYNCED)[number]['field'];
export const SYNCED_TYPES: readonly string[] = SYNCED.map((s) => s.type);
