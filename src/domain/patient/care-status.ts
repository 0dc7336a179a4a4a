import type { EntityManager } from '../../db/orm.js';
import type { AccessPolicy } from '../../access/policy.js';
import { countyToday } from '../../care-rules/calendar.js';
import { reassess } from '../../care/index.js';
import type { CareRules } from '../../care-rules/rules.js';
import { badInput, conflict, isUuid, notFound } from '../errors.js';
import { CareStatus, Patient } from './patient.entity.js';

export interface CareStatusChange {
  status: CareStatus;
  /** The day it took effect (county calendar); today when not given. */
  on?: string | null;
  reason?: string | null;
}

/**
 * Sets a patient's programme status (ADR 16) — the one rule for every path that does it: a person
 * (setPatientCareStatus), a hospital's FHIR Patient that says the patient died, an overdue call's outcome. Leaving
 * (any status but ACTIVE) needs a reason; the date may be neither in the future nor before the birth date. Coming
 * back is setting ACTIVE again, with its own date.
 */
export function applyCareStatus(patient: Patient, change: CareStatusChange, field = 'status'): void {
  const today = countyToday();
  const on = change.on ?? today;
  if (on > today) throw badInput('the care status cannot take effect in the future', 'on');
  if (patient.birthDate && on < patient.birthDate) throw badInput('the care status cannot take effect before the birth date', 'on');
  const reason = change.reason?.trim() || undefined;
  if (change.status !== CareStatus.ACTIVE && !reason) throw badInput(`${change.status} needs a reason`, field === 'status' ? 'reason' : field);
  if (reason && reason.length > 500) throw badInput('reason is at most 500 characters', 'reason');
  patient.careStatus = change.status;
  patient.careStatusOn = on;
  patient.careStatusReason = reason;
}

/**
 * What setting a patient's care status needs, whichever path sets it (setPatientCareStatus, an overdue call's MOVED
 * or DIED outcome): the right to update the patient. A FHIR Patient saying the patient died is that update already.
 */
export function assertMaySetCareStatus(policy: AccessPolicy): void {
  policy.assertCan('Patient', 'u');
}

/** setPatientCareStatus (GraphQL). */
export class CareStatusService {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
    private readonly rules: CareRules,
  ) {}

  /** The patient as the caller last read it (`version`: a stale one is a CONFLICT), moved to `change` and reassessed in the same transaction. */
  async set(patientId: string, version: number, change: CareStatusChange): Promise<Patient> {
    assertMaySetCareStatus(this.policy);
    return this.em.transactional(async (tx) => {
      const patient = isUuid(patientId) ? await tx.findOne(Patient, { id: patientId }) : null;
      if (!patient) throw notFound('Patient', patientId);
      if (patient.version !== version) throw conflict(`Patient ${patientId} is at version ${patient.version}, not ${version}`);
      applyCareStatus(patient, change);
      await tx.flush();
      await reassess(tx as EntityManager, { patientIds: [patient.id] }, this.rules, countyToday());
      return patient;
    });
  }
}
