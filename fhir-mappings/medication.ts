import type { CodeableConcept, Coding, Medication, MedicationRequest, MedicationStatement, Reference } from '@medplum/fhirtypes';
import { DrugClass, MedicationStatus } from '../vocabulary/index.js';
import { datePart, defineMapping, refOf, toReference } from './common.js';
import type { MedicineShape, MedicationShape } from './domain-shapes.js';

/** The code systems medicines arrive in: RxNorm (US data, Synthea), WHO ATC (the classification). */
export const MEDICATION_SYSTEMS = {
  rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  atc: 'http://www.whocc.no/atc',
} as const;

const ATC_SYSTEMS = new Set<string>([MEDICATION_SYSTEMS.atc, 'urn:oid:2.16.840.1.113883.6.73']);

/** ATC groups by prefix: C02 antihypertensives, C03 diuretics, C07 beta blockers, C08 calcium channel blockers, C09 RAS agents; A10 drugs used in diabetes; C10 lipid modifying agents. */
const ATC_CLASSES: ReadonlyArray<readonly [string, DrugClass]> = [
  ['C02', DrugClass.ANTIHYPERTENSIVE],
  ['C03', DrugClass.ANTIHYPERTENSIVE],
  ['C07', DrugClass.ANTIHYPERTENSIVE],
  ['C08', DrugClass.ANTIHYPERTENSIVE],
  ['C09', DrugClass.ANTIHYPERTENSIVE],
  ['A10', DrugClass.ANTIDIABETIC],
  ['C10', DrugClass.LIPID_LOWERING],
];

/**
 * RxNorm clinical drugs in the shared FHIR data (test/fixtures/fhir: the Synthea patients' prescriptions), by the
 * ATC group of their ingredient. Codes not listed (nitroglycerin, clopidogrel, aspirin, analgesics, antibiotics, …)
 * are OTHER.
 */
const RXNORM_CLASSES: Readonly<Record<string, DrugClass>> = {
  '314076': DrugClass.ANTIHYPERTENSIVE, // lisinopril 10 MG Oral Tablet (C09AA03)
  '314077': DrugClass.ANTIHYPERTENSIVE, // lisinopril 20 MG Oral Tablet
  '310798': DrugClass.ANTIHYPERTENSIVE, // Hydrochlorothiazide 25 MG Oral Tablet (C03AA03)
  '316049': DrugClass.ANTIHYPERTENSIVE, // Hydrochlorothiazide 25 MG
  '866412': DrugClass.ANTIHYPERTENSIVE, // 24 HR metoprolol succinate 100 MG Extended Release Oral Tablet (C07AB02)
  '866436': DrugClass.ANTIHYPERTENSIVE, // 24 HR metoprolol succinate 50 MG Extended Release Oral Tablet
  '860975': DrugClass.ANTIDIABETIC, // 24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet (A10BA02)
  '314231': DrugClass.LIPID_LOWERING, // Simvastatin 10 MG Oral Tablet (C10AA01)
  '312961': DrugClass.LIPID_LOWERING, // Simvastatin 20 MG Oral Tablet
  '617311': DrugClass.LIPID_LOWERING, // atorvastatin 40 MG Oral Tablet (C10AA05)
};

/** The drug class one code says, or undefined when it says none. */
export function classifyMedication(system: string | undefined, code: string | undefined): DrugClass | undefined {
  if (!system || !code) return undefined;
  if (ATC_SYSTEMS.has(system)) return ATC_CLASSES.find(([prefix]) => code.toUpperCase().startsWith(prefix))?.[1];
  if (system === MEDICATION_SYSTEMS.rxnorm) return RXNORM_CLASSES[code];
  return undefined;
}

/** The class the first coding that says one says; OTHER when none does. */
export function drugClassOf(codings: Array<Pick<Coding, 'system' | 'code'>>): DrugClass {
  for (const c of codings) {
    const found = classifyMedication(c.system, c.code);
    if (found) return found;
  }
  return DrugClass.OTHER;
}

/** What a medicine's CodeableConcept says: the coding that classifies it (else the first with a code), and its text. */
export function medicineOf(concept: CodeableConcept | undefined): MedicineShape {
  const codings = (concept?.coding ?? []).filter((c) => c.code);
  const chosen = codings.find((c) => classifyMedication(c.system, c.code)) ?? codings[0];
  return { code: chosen?.code, system: chosen?.system, display: chosen?.display, text: concept?.text, drugClass: drugClassOf(codings) };
}

/**
 * A Medication: what the prescriptions and statements that name it by reference say the medicine is. The domain
 * keeps no record of its own for it (the FHIR store does); the projection reads its code.
 */
export const medicationMapping = defineMapping<Medication, MedicineShape>({
  resourceType: 'Medication',
  read(m) {
    return medicineOf(m.code);
  },
  build(s) {
    return { resourceType: 'Medication', code: s.code || s.text ? { coding: s.code ? [{ system: s.system, code: s.code, display: s.display }] : undefined, text: s.text } : undefined };
  },
  merge: { atomic: ['code'] },
});

/** A Medication resource's code, as a prescription naming it would carry it. */
export const medicineOfMedication = (m: Medication): MedicineShape => medicineOf(m.code);

/**
 * Where a use of a medicine stands, from the status of the resource that says it; undefined for one entered in
 * error (it says nothing).
 */
export function medicationStatusOf(status: MedicationShape['status']): MedicationStatus | undefined {
  switch (status) {
    case 'active':
      return MedicationStatus.ACTIVE;
    case 'on-hold':
      return MedicationStatus.ON_HOLD;
    case 'draft':
    case 'intended':
      return MedicationStatus.PLANNED;
    case 'completed':
      return MedicationStatus.COMPLETED;
    case 'stopped':
      return MedicationStatus.STOPPED;
    case 'cancelled':
      return MedicationStatus.CANCELLED;
    case 'not-taken':
      return MedicationStatus.NOT_TAKEN;
    case 'entered-in-error':
      return undefined;
    default:
      return MedicationStatus.UNKNOWN;
  }
}

type MedicationHolder = { medicationCodeableConcept?: CodeableConcept; medicationReference?: Reference<Medication>; contained?: Array<{ resourceType: string; id?: string }> };

/** The medicine itself: its CodeableConcept, a contained Medication's code, or a reference for the resolver. */
function medicineIn(r: MedicationHolder): MedicineShape & Pick<MedicationShape, 'medicationRef'> {
  if (r.medicationCodeableConcept) return medicineOf(r.medicationCodeableConcept);
  const ref = r.medicationReference;
  const local = ref?.reference?.startsWith('#') ? r.contained?.find((c) => c.resourceType === 'Medication' && `#${c.id}` === ref.reference) : undefined;
  if (local) {
    const fromContained = medicineOfMedication(local as Medication);
    return { ...fromContained, text: fromContained.text ?? ref?.display };
  }
  return { medicationRef: refOf(ref, 'Medication'), text: ref?.display, drugClass: DrugClass.OTHER };
}

function medicineElement(s: MedicationShape): Pick<MedicationHolder, 'medicationCodeableConcept' | 'medicationReference'> {
  if (s.medicationRef) return { medicationReference: { ...toReference<Medication>(s.medicationRef, 'Medication'), display: s.text } };
  return { medicationCodeableConcept: { coding: s.code ? [{ system: s.system, code: s.code, display: s.display }] : undefined, text: s.text ?? (s.code ? undefined : '(unnamed medicine)') } };
}

const dosageText = (dosages: Array<{ text?: string }> | undefined): string | undefined => {
  const texts = (dosages ?? []).map((d) => d.text?.trim()).filter((t): t is string => !!t);
  return texts.length ? texts.join('; ') : undefined;
};

export const medicationRequestMapping = defineMapping<MedicationRequest, MedicationShape>({
  resourceType: 'MedicationRequest',
  read(r) {
    const validity = r.dispenseRequest?.validityPeriod;
    return {
      ...medicineIn(r),
      patientRef: refOf(r.subject, 'Patient'),
      status: r.status,
      intent: r.intent,
      dosage: dosageText(r.dosageInstruction),
      authoredOn: datePart(r.authoredOn, 'MedicationRequest.authoredOn'),
      periodStart: datePart(validity?.start, 'MedicationRequest.dispenseRequest.validityPeriod.start'),
      periodEnd: datePart(validity?.end, 'MedicationRequest.dispenseRequest.validityPeriod.end'),
      sourceRef: refOf(r.requester),
      encounterRef: refOf(r.encounter, 'Encounter'),
    };
  },
  build(s) {
    return {
      resourceType: 'MedicationRequest',
      status: (s.status ?? 'unknown') as MedicationRequest['status'],
      intent: s.intent ?? 'order',
      ...medicineElement(s),
      subject: toReference(s.patientRef, 'Patient')!,
      encounter: toReference(s.encounterRef, 'Encounter'),
      authoredOn: s.authoredOn,
      requester: toReference(s.sourceRef),
      dosageInstruction: s.dosage ? [{ text: s.dosage }] : undefined,
      dispenseRequest: s.periodStart || s.periodEnd ? { validityPeriod: { start: s.periodStart, end: s.periodEnd } } : undefined,
    };
  },
  merge: { atomic: ['medicationCodeableConcept', 'medicationReference'], arrays: { dosageInstruction: 'indexed' }, choices: ['medication'] },
});

export const medicationStatementMapping = defineMapping<MedicationStatement, MedicationShape>({
  resourceType: 'MedicationStatement',
  read(r) {
    const start = r.effectivePeriod?.start ?? r.effectiveDateTime;
    return {
      ...medicineIn(r),
      patientRef: refOf(r.subject, 'Patient'),
      status: r.status,
      dosage: dosageText(r.dosage),
      authoredOn: datePart(r.dateAsserted, 'MedicationStatement.dateAsserted'),
      periodStart: datePart(start, r.effectivePeriod?.start ? 'MedicationStatement.effectivePeriod.start' : 'MedicationStatement.effectiveDateTime'),
      periodEnd: datePart(r.effectivePeriod?.end, 'MedicationStatement.effectivePeriod.end'),
      sourceRef: refOf(r.informationSource),
      encounterRef: refOf(r.context, 'Encounter'),
    };
  },
  build(s) {
    return {
      resourceType: 'MedicationStatement',
      status: (s.status ?? 'unknown') as MedicationStatement['status'],
      ...medicineElement(s),
      subject: toReference(s.patientRef, 'Patient')!,
      context: toReference(s.encounterRef, 'Encounter'),
      effectivePeriod: s.periodStart || s.periodEnd ? { start: s.periodStart, end: s.periodEnd } : undefined,
      dateAsserted: s.authoredOn,
      informationSource: toReference(s.sourceRef),
      dosage: s.dosage ? [{ text: s.dosage }] : undefined,
    };
  },
  merge: { atomic: ['medicationCodeableConcept', 'medicationReference'], arrays: { dosage: 'indexed' }, choices: ['medication', 'effective'] },
});
