import type { CodeableConcept, Encounter, EncounterParticipant, Extension } from '@medplum/fhirtypes';
import { ControlStatus, FollowUpType } from '../vocabulary/index.js';
import {
  bilingual,
  CONTROL_STATUS_DISPLAY,
  EMERGENCY_CLASSES,
  ENCOUNTER_CLASS_DISPLAY,
  FOLLOW_UP_DISPLAY,
  FOLLOW_UP_SNOMED,
  FOLLOW_UP_TYPE_DISPLAY,
  HL7,
  INPATIENT_CLASSES,
  isFollowUpCode,
  NCD_EXTENSIONS,
  NCD_SYSTEMS,
  SYSTEMS,
} from './codes.js';
import { coding, complexExtension, datePart, defineMapping, enumFrom, findCodingIn, findExtension, iso, parseInstant, refOf, subExtension, toReference } from './common.js';
import { EncounterKind, type EncounterShape, type FollowUpShape } from './domain-shapes.js';

const CLASS_OF_FOLLOW_UP: Record<FollowUpType, string> = { CLINIC: 'AMB', HOME: 'HH', PHONE: 'VR', REMOTE: 'VR' };
const FOLLOW_UP_OF_CLASS: Record<string, FollowUpType> = { AMB: FollowUpType.CLINIC, HH: FollowUpType.HOME, VR: FollowUpType.REMOTE };

/** A hospital stay is whatever its class says; a follow-up is a visit its type calls one. */
function kindOf(e: Encounter): EncounterKind {
  const cls = e.class?.system === HL7.actCode || !e.class?.system ? e.class?.code : undefined;
  if (cls && INPATIENT_CLASSES.has(cls)) return EncounterKind.ADMISSION;
  if ((e.type ?? []).some((t) => t.coding?.some((c) => isFollowUpCode(c.system, c.code)))) return EncounterKind.FOLLOW_UP;
  if (cls && EMERGENCY_CLASSES.has(cls)) return EncounterKind.EMERGENCY;
  return EncounterKind.OTHER;
}

function readFollowUp(e: Encounter): FollowUpShape {
  const ext = findExtension(e.extension, NCD_EXTENSIONS.followUp);
  const at = (name: string): string => `Encounter.extension('${NCD_EXTENSIONS.followUp}').extension('${name}')`;
  return {
    type: enumFrom(FollowUpType, findCodingIn(e.type, NCD_SYSTEMS.followUpType)?.code) ?? FOLLOW_UP_OF_CLASS[e.class?.code ?? ''] ?? FollowUpType.CLINIC,
    plannedDate: datePart(subExtension(ext, 'plannedDate')?.valueDate, at('plannedDate')),
    doneDate: e.status === 'finished' ? datePart(e.period?.start, 'Encounter.period.start') : undefined,
    findings: subExtension(ext, 'findings')?.valueString,
    controlStatus: enumFrom(ControlStatus, subExtension(ext, 'controlStatus')?.valueCoding?.code),
    adverseReaction: subExtension(ext, 'adverseReaction')?.valueBoolean ?? false,
    newComplication: subExtension(ext, 'newComplication')?.valueBoolean ?? false,
    nextDueDate: datePart(subExtension(ext, 'nextDueDate')?.valueDate, at('nextDueDate')),
  };
}

function followUpExtension(f: FollowUpShape): Extension | undefined {
  return complexExtension(NCD_EXTENSIONS.followUp, [
    f.plannedDate ? { url: 'plannedDate', valueDate: f.plannedDate } : undefined,
    f.findings ? { url: 'findings', valueString: f.findings } : undefined,
    f.controlStatus ? { url: 'controlStatus', valueCoding: coding(NCD_SYSTEMS.controlStatus, f.controlStatus, CONTROL_STATUS_DISPLAY[f.controlStatus]!.en) } : undefined,
    // Only a reported event is a statement; "false" is the default and would be noise on every visit.
    f.adverseReaction ? { url: 'adverseReaction', valueBoolean: true } : undefined,
    f.newComplication ? { url: 'newComplication', valueBoolean: true } : undefined,
    f.nextDueDate ? { url: 'nextDueDate', valueDate: f.nextDueDate } : undefined,
  ]);
}

function reasonOf(e: Encounter): EncounterShape['reason'] {
  for (const concept of e.reasonCode ?? []) {
    const c = concept.coding?.find((x) => x.code);
    if (c?.code) return { system: c.system, code: c.code, display: c.display ?? concept.text };
  }
  return undefined;
}

export const encounterMapping = defineMapping<Encounter, EncounterShape>({
  resourceType: 'Encounter',
  read(e) {
    const kind = kindOf(e);
    return {
      kind,
      status: e.status,
      classCode: e.class?.code,
      patientRef: refOf(e.subject, 'Patient'),
      periodStart: parseInstant(e.period?.start, 'Encounter.period.start'),
      periodEnd: parseInstant(e.period?.end, 'Encounter.period.end'),
      practitionerRef: refOf(e.participant?.find((p) => p.individual)?.individual, 'Practitioner'),
      organizationRef: refOf(e.serviceProvider, 'Organization'),
      reason: reasonOf(e),
      followUp: kind === EncounterKind.FOLLOW_UP ? readFollowUp(e) : undefined,
    };
  },
  build(s) {
    const f = s.kind === EncounterKind.FOLLOW_UP ? s.followUp : undefined;
    const classCode = s.classCode ?? (f ? CLASS_OF_FOLLOW_UP[f.type] : s.kind === EncounterKind.ADMISSION ? 'IMP' : s.kind === EncounterKind.EMERGENCY ? 'EMER' : 'AMB');
    const type: CodeableConcept[] = [];
    if (s.kind === EncounterKind.FOLLOW_UP) {
      const typed = f ? [coding(NCD_SYSTEMS.followUpType, f.type, FOLLOW_UP_TYPE_DISPLAY[f.type]!.en)] : [];
      type.push({ coding: [coding(SYSTEMS.snomed, FOLLOW_UP_SNOMED.code, FOLLOW_UP_SNOMED.display), ...typed], text: bilingual(f ? FOLLOW_UP_TYPE_DISPLAY[f.type]! : FOLLOW_UP_DISPLAY) });
    }
    // A visit known only by its date starts on that date.
    const start = iso(s.periodStart) ?? (s.status === 'finished' ? f?.doneDate : s.status === 'planned' ? f?.plannedDate : undefined);
    return {
      resourceType: 'Encounter',
      extension: f ? [followUpExtension(f)].filter((x): x is Extension => x !== undefined) : undefined,
      status: s.status ?? (f?.doneDate ? 'finished' : 'planned'),
      class: coding(HL7.actCode, classCode, ENCOUNTER_CLASS_DISPLAY[classCode]),
      type,
      subject: toReference(s.patientRef),
      participant: s.practitionerRef ? [{ individual: toReference(s.practitionerRef, 'Practitioner') }] : undefined,
      period: { start, end: iso(s.periodEnd) },
      serviceProvider: toReference(s.organizationRef, 'Organization'),
      reasonCode: s.reason ? [{ coding: [{ system: s.reason.system, code: s.reason.code, display: s.reason.display }], text: s.reason.display }] : undefined,
    };
  },
  merge: {
    atomic: ['class'],
    arrays: { participant: (p) => refOf((p as EncounterParticipant).individual, 'Practitioner') },
  },
});
