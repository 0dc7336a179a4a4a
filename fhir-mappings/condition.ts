import type { CodeableConcept, Coding, Condition } from '@medplum/fhirtypes';
import { ClinicalStatus, VerificationStatus } from '../vocabulary/index.js';
import {
  bilingual,
  classifyCondition,
  CONDITION_CLINICAL_DISPLAY,
  CONDITION_DISPLAY,
  CONDITION_VERIFICATION_DISPLAY,
  ConditionKind,
  HL7,
  isKnownConditionSystem,
  NCD_EXTENSIONS,
} from './codes.js';
import { coding, complexExtension, datePart, defineMapping, findExtension, iso, parseInstant, refOf, subExtension, toReference } from './common.js';
import type { ConditionShape } from './domain-shapes.js';

const CLINICAL_IN: Record<string, ClinicalStatus> = {
  active: ClinicalStatus.ACTIVE,
  recurrence: ClinicalStatus.RECURRENCE,
  relapse: ClinicalStatus.RELAPSE,
  inactive: ClinicalStatus.INACTIVE,
  remission: ClinicalStatus.REMISSION,
  resolved: ClinicalStatus.RESOLVED,
};
const VERIFICATION_IN: Record<string, VerificationStatus> = {
  unconfirmed: VerificationStatus.UNCONFIRMED,
  provisional: VerificationStatus.PROVISIONAL,
  differential: VerificationStatus.DIFFERENTIAL,
  confirmed: VerificationStatus.CONFIRMED,
  refuted: VerificationStatus.REFUTED,
  'entered-in-error': VerificationStatus.ENTERED_IN_ERROR,
};
const outOf = <E extends string>(table: Record<string, E>): Record<E, string> =>
  Object.fromEntries(Object.entries(table).map(([k, v]) => [v, k])) as Record<E, string>;
const CLINICAL_OUT = outOf(CLINICAL_IN);
const VERIFICATION_OUT = outOf(VERIFICATION_IN);
const clinicalCoding = (s: ClinicalStatus): Coding => coding(HL7.conditionClinical, CLINICAL_OUT[s], CONDITION_CLINICAL_DISPLAY[CLINICAL_OUT[s]]);
const verificationCoding = (s: VerificationStatus): Coding => coding(HL7.conditionVerification, VERIFICATION_OUT[s], CONDITION_VERIFICATION_DISPLAY[VERIFICATION_OUT[s]]);

/**
 * The coding that says what the condition is: the first one we classify (a hospital often sends a local
 * code first and the ICD-10 one second), else the first SNOMED CT / ICD-10 coding, else the first coding.
 */
export function conditionCoding(code: CodeableConcept | undefined): Coding | undefined {
  const codings = (code?.coding ?? []).filter((c) => c.system && c.code);
  return (
    codings.find((c) => classifyCondition(c.system!, c.code!) !== ConditionKind.OTHER) ??
    codings.find((c) => isKnownConditionSystem(c.system!)) ??
    codings[0]
  );
}

/** Absence of a status is not a statement: the domain needs one, and the plain reading is active / unconfirmed. */
const clinicalOf = (c: Condition): ClinicalStatus => CLINICAL_IN[c.clinicalStatus?.coding?.find((x) => x.system === HL7.conditionClinical)?.code ?? ''] ?? ClinicalStatus.ACTIVE;
const verificationOf = (c: Condition): VerificationStatus =>
  VERIFICATION_IN[c.verificationStatus?.coding?.find((x) => x.system === HL7.conditionVerification)?.code ?? ''] ?? VerificationStatus.UNCONFIRMED;

export const conditionMapping = defineMapping<Condition, ConditionShape>({
  resourceType: 'Condition',
  read(c) {
    const found = conditionCoding(c.code);
    const confirmation = findExtension(c.extension, NCD_EXTENSIONS.confirmation);
    const onset = c.onsetDateTime ?? c.onsetPeriod?.start;
    return {
      patientRef: refOf(c.subject, 'Patient'),
      code: found?.code,
      system: found?.system,
      display: found ? found.display : c.code?.text,
      kind: found ? classifyCondition(found.system!, found.code!) : ConditionKind.OTHER,
      onsetDate: datePart(onset, c.onsetDateTime ? 'Condition.onsetDateTime' : 'Condition.onsetPeriod.start'),
      clinicalStatus: clinicalOf(c),
      verificationStatus: verificationOf(c),
      confirmedByRef: refOf(subExtension(confirmation, 'organization')?.valueReference, 'Organization'),
      confirmedAt: parseInstant(subExtension(confirmation, 'date')?.valueDateTime, `Condition.extension('${NCD_EXTENSIONS.confirmation}').extension('date')`),
    };
  },
  build(s) {
    const known = s.kind !== ConditionKind.OTHER ? CONDITION_DISPLAY[s.kind] : undefined;
    const code: CodeableConcept = {
      coding: s.system && s.code ? [coding(s.system, s.code, s.display ?? known?.en)] : undefined,
      text: known ? bilingual(known) : s.display,
    };
    return {
      resourceType: 'Condition',
      extension: [
        complexExtension(NCD_EXTENSIONS.confirmation, [
          s.confirmedByRef ? { url: 'organization', valueReference: toReference(s.confirmedByRef) } : undefined,
          s.confirmedAt ? { url: 'date', valueDateTime: iso(s.confirmedAt) } : undefined,
        ]),
      ].filter((e) => e !== undefined),
      // con-5: an entered-in-error condition has no clinical status.
      clinicalStatus:
        s.verificationStatus === VerificationStatus.ENTERED_IN_ERROR ? undefined : { coding: [clinicalCoding(s.clinicalStatus)] },
      verificationStatus: { coding: [verificationCoding(s.verificationStatus)] },
      code,
      subject: toReference(s.patientRef)!,
      onsetDateTime: s.onsetDate,
    };
  },
  merge: { atomic: ['code', 'clinicalStatus', 'verificationStatus'], choices: ['onset'] },
});
