import type { CodeableConcept, Coding, Extension, Observation, ObservationComponent, Organization, Practitioner, Quantity, Reference } from '@medplum/fhirtypes';
import { ControlInterpretation, ObservationSource } from '../vocabulary/index.js';
import {
  bilingual,
  BP_COMPONENT_DISPLAY,
  CANONICAL_UNIT,
  classifyObservation,
  CONTROL_INTERPRETATION,
  CONTROL_STATUS_DISPLAY,
  acceptedUnits,
  HL7,
  LOINC,
  NCD_EXTENSIONS,
  NCD_SYSTEMS,
  OBSERVATION_DISPLAY,
  OBSERVATION_SOURCE_DISPLAY,
  observationCategoryOf,
  ObservationKind,
  SYSTEMS,
  toCanonical,
} from './codes.js';
import { coding, defineMapping, enumFrom, findExtension, iso, parseInstant, refOf, refType, toReference } from './common.js';
import type { ObservationShape } from './domain-shapes.js';
import { FhirMappingError } from './errors.js';

/** The coding that says what was measured: the first we classify, else the first LOINC, else the first. */
export function observationCoding(code: CodeableConcept | undefined): Coding | undefined {
  const codings = (code?.coding ?? []).filter((c) => c.system && c.code);
  return codings.find((c) => classifyObservation(c.system!, c.code!) !== ObservationKind.OTHER) ?? codings.find((c) => c.system === SYSTEMS.loinc) ?? codings[0];
}

/** The unit a Quantity is in: its UCUM code, else its human-readable unit. */
const unitOf = (q: Quantity): string | undefined => q.code ?? q.unit;

/** Converts a received quantity to the kind's canonical unit, or says precisely which unit we cannot read. */
function canonical(kind: ObservationKind, q: Quantity, expression: string): { value: number; unit: string | undefined } {
  if (typeof q.value !== 'number') throw new FhirMappingError('quantity has no numeric value', `${expression}.value`, 'required');
  const converted = toCanonical(kind, q.value, unitOf(q));
  if (!converted) {
    throw new FhirMappingError(
      `unit "${String(unitOf(q))}" cannot be converted to ${String(CANONICAL_UNIT[kind])} for ${kind} (accepted: ${acceptedUnits(kind).join(', ')})`,
      `${expression}.${q.code !== undefined ? 'code' : 'unit'}`,
      'not-supported',
    );
  }
  return converted;
}

/** A quantity as the domain emits it: the received one while it still says the same as the canonical value. */
function quantityOut(kind: ObservationKind, value: number | undefined, received: number | undefined, receivedUnit: string | undefined): Quantity | undefined {
  if (value === undefined) return undefined;
  if (received !== undefined) {
    const back = toCanonical(kind, received, receivedUnit);
    if (back && back.value === value) return ucum(received, receivedUnit);
  }
  return ucum(value, CANONICAL_UNIT[kind] ?? receivedUnit);
}

const ucum = (value: number, unit: string | undefined): Quantity => (unit ? { value, unit, system: SYSTEMS.ucum, code: unit } : { value });

const BP_CODES = { systolic: LOINC.systolic, diastolic: LOINC.diastolic } as const;

function componentIndex(o: Observation, code: string): number {
  return (o.component ?? []).findIndex((c) => c.code?.coding?.some((x) => x.system === SYSTEMS.loinc && x.code === code));
}

/** Reads one blood-pressure component; a component that says why it has no value reads as absent. */
function readBpComponent(o: Observation, which: 'systolic' | 'diastolic'): { value?: number; received?: number; unit?: string } {
  const index = componentIndex(o, BP_CODES[which]);
  if (index < 0) {
    // A panel that is absent as a whole says why; a panel with values but no such component is malformed.
    if (o.dataAbsentReason) return {};
    throw new FhirMappingError(`blood pressure panel has no ${which} component (LOINC ${BP_CODES[which]})`, 'Observation.component', 'required');
  }
  const component = o.component![index]!;
  const where = `Observation.component[${index}]`;
  if (component.valueQuantity) {
    const c = canonical(ObservationKind.BLOOD_PRESSURE, component.valueQuantity, `${where}.valueQuantity`);
    return { value: c.value, received: component.valueQuantity.value, unit: unitOf(component.valueQuantity) };
  }
  if (component.dataAbsentReason) return {};
  throw new FhirMappingError(`${which} component has neither a valueQuantity nor a dataAbsentReason`, `${where}.value`, 'required');
}

function sourceOf(o: Observation): ObservationSource {
  const explicit = enumFrom(ObservationSource, findExtension(o.extension, NCD_EXTENSIONS.observationSource)?.valueCoding?.code);
  if (explicit) return explicit;
  if (o.device) return ObservationSource.DEVICE;
  // Measured by the patient or a relative: a home reading.
  if ((o.performer ?? []).some((p) => ['Patient', 'RelatedPerson'].includes(refType(p) ?? ''))) return ObservationSource.HOME;
  return ObservationSource.CLINIC;
}

/**
 * The control rule's interpretation: the v3 code, and beside it our control-status coding — which also tells our own
 * interpretation from a sender's when a stored resource is read back (`interpretationRead`).
 */
function controlInterpretation(code: ControlInterpretation): CodeableConcept {
  const { display, status } = CONTROL_INTERPRETATION[code];
  const statusDisplay = CONTROL_STATUS_DISPLAY[status]!;
  return {
    coding: [coding(HL7.observationInterpretation, code, display.en), coding(NCD_SYSTEMS.controlStatus, status, statusDisplay.en)],
    text: `${display.zh}（${statusDisplay.zh}） ${display.en} (${statusDisplay.en})`,
  };
}

/** Built once per code: the backfill emits one for most of a county's readings (compact copies it into each resource). */
const CONTROL_INTERPRETATIONS = Object.fromEntries(Object.values(ControlInterpretation).map((c) => [c, controlInterpretation(c)])) as Record<ControlInterpretation, CodeableConcept>;

/** Ours (a control-status coding) is the rule's, re-emitted as the rule says now; anything else is the sender's, kept. */
function interpretationRead(o: Observation): Pick<ObservationShape, 'interpretation' | 'interpretationAsSent'> {
  const concepts = o.interpretation ?? [];
  if (concepts.length === 0) return {};
  const ours = concepts.length === 1 && concepts[0]!.coding?.some((c) => c.system === NCD_SYSTEMS.controlStatus);
  const code = ours ? enumFrom(ControlInterpretation, concepts[0]!.coding?.find((c) => c.system === HL7.observationInterpretation)?.code) : undefined;
  return code ? { interpretation: code } : { interpretationAsSent: concepts };
}

const PRACTITIONER_TYPES = new Set(['Practitioner', 'PractitionerRole']);

export const observationMapping = defineMapping<Observation, ObservationShape>({
  resourceType: 'Observation',
  read(o) {
    const found = observationCoding(o.code);
    if (!found) throw new FhirMappingError('observation code has no coding', 'Observation.code.coding', 'required');
    const kind = classifyObservation(found.system!, found.code!);
    const effective = o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.effectiveInstant;
    const identifier = o.identifier?.find((i) => i.value);
    const shape: ObservationShape = {
      patientRef: refOf(o.subject, 'Patient'),
      encounterRef: refOf(o.encounter, 'Encounter'),
      status: o.status,
      kind,
      code: found.code!,
      system: found.system!,
      display: found.display,
      effectiveAt: parseInstant(effective, o.effectiveDateTime ? 'Observation.effectiveDateTime' : o.effectivePeriod ? 'Observation.effectivePeriod.start' : 'Observation.effectiveInstant'),
      source: sourceOf(o),
      performerRef: refOf(o.performer?.find((p) => PRACTITIONER_TYPES.has(refType(p) ?? ''))),
      organizationRef: refOf(o.performer?.find((p) => refType(p) === 'Organization')),
      deviceId: o.device?.identifier?.value,
      sourceSystem: identifier?.system,
      sourceId: identifier?.value,
      ...interpretationRead(o),
    };
    if (kind === ObservationKind.BLOOD_PRESSURE) {
      const systolic = readBpComponent(o, 'systolic');
      const diastolic = readBpComponent(o, 'diastolic');
      // One received unit describes both numbers only when both came in it.
      const sameUnit = systolic.unit === undefined || diastolic.unit === undefined || systolic.unit === diastolic.unit;
      return {
        ...shape,
        unit: CANONICAL_UNIT[kind],
        systolic: systolic.value,
        diastolic: diastolic.value,
        receivedSystolic: sameUnit ? systolic.received : undefined,
        receivedDiastolic: sameUnit ? diastolic.received : undefined,
        receivedUnit: sameUnit ? (systolic.unit ?? diastolic.unit) : undefined,
      };
    }
    if (o.valueQuantity) {
      const c = canonical(kind, o.valueQuantity, 'Observation.valueQuantity');
      return { ...shape, value: c.value, unit: c.unit, receivedValue: o.valueQuantity.value, receivedUnit: unitOf(o.valueQuantity) };
    }
    return shape;
  },
  build(s) {
    const known = s.kind !== ObservationKind.OTHER ? OBSERVATION_DISPLAY[s.kind] : undefined;
    const category = observationCategoryOf(s.kind);
    const performer: Array<Reference<Practitioner | Organization> | undefined> = [toReference(s.performerRef, 'Practitioner'), toReference(s.organizationRef, 'Organization')];
    const sourceExtension: Extension | undefined =
      s.source !== ObservationSource.CLINIC
        ? { url: NCD_EXTENSIONS.observationSource, valueCoding: coding(NCD_SYSTEMS.observationSource, s.source, OBSERVATION_SOURCE_DISPLAY[s.source]!.en) }
        : undefined;
    const out: Observation = {
      resourceType: 'Observation',
      extension: sourceExtension ? [sourceExtension] : undefined,
      identifier: s.sourceId ? [{ system: s.sourceSystem, value: s.sourceId }] : undefined,
      status: s.status ?? 'final',
      category: category ? [{ coding: [coding(HL7.observationCategory, category.code, category.display)] }] : undefined,
      code: { coding: [coding(s.system, s.code, s.display ?? known?.en)], text: known ? bilingual(known) : undefined },
      subject: toReference(s.patientRef),
      encounter: toReference(s.encounterRef),
      effectiveDateTime: iso(s.effectiveAt),
      performer: performer.filter((p) => p !== undefined),
      device: s.deviceId ? { identifier: { value: s.deviceId }, display: s.deviceId } : undefined,
      interpretation: s.interpretationAsSent ?? (s.interpretation ? [CONTROL_INTERPRETATIONS[s.interpretation]] : undefined),
    };
    if (s.kind === ObservationKind.BLOOD_PRESSURE) {
      const component = (which: 'systolic' | 'diastolic', value: number | undefined, received: number | undefined): ObservationComponent => {
        const quantity = quantityOut(s.kind, value, received, s.receivedUnit);
        return {
          code: { coding: [coding(SYSTEMS.loinc, BP_CODES[which], BP_COMPONENT_DISPLAY[which].en)], text: bilingual(BP_COMPONENT_DISPLAY[which]) },
          valueQuantity: quantity,
          dataAbsentReason: quantity ? undefined : { coding: [coding(HL7.dataAbsentReason, 'unknown', 'Unknown')] },
        };
      };
      out.component = [component('systolic', s.systolic, s.receivedSystolic), component('diastolic', s.diastolic, s.receivedDiastolic)];
    } else {
      out.valueQuantity = quantityOut(s.kind, s.value, s.receivedValue, s.receivedUnit);
    }
    return out;
  },
  merge: {
    atomic: ['code', 'valueQuantity', 'component.valueQuantity', 'component.dataAbsentReason'],
    // Components are matched by what they measure: a received panel may list diastolic first.
    arrays: { component: (c) => observationCoding((c as ObservationComponent).code)?.code },
    choices: ['effective', 'value'],
    exclusive: { value: ['dataAbsentReason'] },
  },
});
