import { EncounterKind, type EncounterShape } from '../../../fhir-mappings/index.js';
import type { Encounter } from '@medplum/fhirtypes';
import { Admission, AdmissionKind, AdmissionStatus } from '../../domain/admission/admission.entity.js';
import { AdmissionService } from '../../domain/admission/admission.service.js';
import { FollowUp } from '../../domain/follow-up/follow-up.entity.js';
import { FollowUpService } from '../../domain/follow-up/follow-up.service.js';
import { countyToday } from '../../care-rules/calendar.js';
import { existingRecord, flushUnlessDeferred, markFromFhir, type ProjectionContext, type ProjectionWarnings, viaService, warning } from './context.js';
import { knownOrganization, knownPatient, knownPractitioner } from './links.js';

const ADMISSION_STATUS: Record<Encounter['status'], AdmissionStatus> = {
  planned: AdmissionStatus.PLANNED,
  arrived: AdmissionStatus.IN_PROGRESS,
  triaged: AdmissionStatus.IN_PROGRESS,
  'in-progress': AdmissionStatus.IN_PROGRESS,
  onleave: AdmissionStatus.ON_LEAVE,
  finished: AdmissionStatus.FINISHED,
  cancelled: AdmissionStatus.CANCELLED,
  'entered-in-error': AdmissionStatus.ENTERED_IN_ERROR,
  unknown: AdmissionStatus.UNKNOWN,
};

/**
 * Encounters: a follow-up visit (its type says so) through FollowUpService, a hospital stay or an emergency
 * visit (its class says so) through AdmissionService; other encounters live in the FHIR store only.
 */
export async function projectEncounter(ctx: ProjectionContext, id: string, shape: EncounterShape): Promise<ProjectionWarnings> {
  if (shape.kind === EncounterKind.FOLLOW_UP) return projectFollowUp(ctx, id, shape);
  if (shape.kind === EncounterKind.ADMISSION || shape.kind === EncounterKind.EMERGENCY) return projectAdmission(ctx, id, shape);
  return [];
}

async function projectFollowUp(ctx: ProjectionContext, id: string, shape: EncounterShape): Promise<ProjectionWarnings> {
  const visit = shape.followUp!;
  const existing = await existingRecord(ctx, FollowUp, id);
  if (shape.status === 'cancelled' || shape.status === 'entered-in-error') {
    // A visit that did not take place is no follow-up: one recorded from an earlier version goes.
    if (existing) ctx.em.remove(existing);
    return [];
  }
  const patient = await knownPatient(ctx, shape.patientRef);
  if (!patient) return [unlinked('Encounter.subject', 'a follow-up visit')];
  const warnings: ProjectionWarnings = [];
  const practitionerId = await knownPractitioner(ctx, shape.practitionerRef, 'Encounter.participant.individual', warnings);
  const organizationId = await knownOrganization(ctx, shape.organizationRef, 'Encounter.serviceProvider', warnings);
  // A visit not yet done is planned for the day it starts (in the county's calendar), unless it says another.
  const plannedDate = visit.plannedDate ?? (!visit.doneDate && shape.periodStart ? countyToday(shape.periodStart) : undefined);
  if (!plannedDate && !visit.doneDate) return [...warnings, missing('Encounter.period.start', 'a follow-up visit needs the day it was done or planned for')];
  const followUp = await viaService('Encounter', () =>
    new FollowUpService(ctx.em, ctx.policy, ctx.rules).put(
      id,
      {
        patientId: patient.id,
        type: visit.type,
        plannedDate,
        doneDate: visit.doneDate,
        findings: visit.findings,
        // A visit's control status is derived from its readings (src/care/state/), never taken as sent.
        adverseReaction: visit.adverseReaction,
        newComplication: visit.newComplication,
        nextDueDate: visit.nextDueDate,
        practitionerId,
        organizationId,
      },
      existing,
    ),
  );
  markFromFhir(followUp);
  await flushUnlessDeferred(ctx);
  return warnings;
}

async function projectAdmission(ctx: ProjectionContext, id: string, shape: EncounterShape): Promise<ProjectionWarnings> {
  const patient = await knownPatient(ctx, shape.patientRef);
  if (!patient) return [unlinked('Encounter.subject', 'an admission')];
  if (!shape.periodStart) return [missing('Encounter.period.start', 'an admission needs the time it began')];
  const warnings: ProjectionWarnings = [];
  const organizationId = await knownOrganization(ctx, shape.organizationRef, 'Encounter.serviceProvider', warnings);
  const existing = await existingRecord(ctx, Admission, id);
  const admission = await viaService('Encounter', () =>
    new AdmissionService(ctx.em, ctx.policy).put(
      id,
      {
        patientId: patient.id,
        kind: shape.kind === EncounterKind.ADMISSION ? AdmissionKind.INPATIENT : AdmissionKind.EMERGENCY,
        status: ADMISSION_STATUS[shape.status] ?? AdmissionStatus.UNKNOWN,
        classCode: shape.classCode,
        organizationId,
        periodStart: shape.periodStart!,
        periodEnd: shape.periodEnd,
        reasonCode: shape.reason?.code,
        reasonSystem: shape.reason?.system,
        reasonDisplay: shape.reason?.display,
      },
      existing,
    ),
  );
  markFromFhir(admission);
  await flushUnlessDeferred(ctx);
  return warnings;
}

const unlinked = (expression: string, what: string) => warning('incomplete', `stored; not ${what} in the care record: its patient is not one the county knows`, [expression]);
const missing = (expression: string, why: string) => warning('incomplete', `stored; not taken into the care record: ${why}`, [expression]);
