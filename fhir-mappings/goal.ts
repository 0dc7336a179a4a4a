import type { Coding, Goal, GoalTarget, Quantity } from '@medplum/fhirtypes';
import {
  BP_COMPONENT_DISPLAY,
  CANONICAL_UNIT,
  classifyObservation,
  DEFAULT_LOINC_FOR_KIND,
  isDiastolicCode,
  isSystolicCode,
  LOINC,
  OBSERVATION_DISPLAY,
  ObservationKind,
  SYSTEMS,
  toCanonical,
} from './codes.js';
import { coding, datePart, defineMapping, refOf, toReference } from './common.js';
import type { GoalShape } from './domain-shapes.js';
import { FhirMappingError } from './errors.js';

type Part = 'systolic' | 'diastolic' | ObservationKind;

function partOf(measure: Coding[] | undefined): Part | undefined {
  for (const c of measure ?? []) {
    if (isSystolicCode(c.system, c.code)) return 'systolic';
    if (isDiastolicCode(c.system, c.code)) return 'diastolic';
    const kind = c.system && c.code ? classifyObservation(c.system, c.code) : ObservationKind.OTHER;
    if (kind !== ObservationKind.OTHER) return kind;
  }
  return undefined;
}

/** "Below" from a target: a `<`/`<=` quantity, a bare quantity, or a range's high end; in canonical units. */
function belowOf(t: GoalTarget, kind: ObservationKind, index: number): number | undefined {
  const q: Quantity | undefined = t.detailQuantity ?? t.detailRange?.high;
  if (!q || typeof q.value !== 'number') return undefined;
  if (q.comparator === '>' || q.comparator === '>=') return undefined; // a floor is not a "below" target
  const converted = toCanonical(kind, q.value, q.code ?? q.unit);
  if (!converted) {
    const where = t.detailQuantity ? 'detailQuantity' : 'detailRange.high';
    throw new FhirMappingError(`goal target unit "${String(q.code ?? q.unit)}" cannot be converted for ${kind}`, `Goal.target[${index}].${where}.code`, 'not-supported');
  }
  return converted.value;
}

const below = (value: number | undefined, unit: string | undefined): Quantity | undefined =>
  value === undefined ? undefined : { value, comparator: '<', unit, system: unit ? SYSTEMS.ucum : undefined, code: unit };

export const goalMapping = defineMapping<Goal, GoalShape>({
  resourceType: 'Goal',
  read(g) {
    let measure: ObservationKind | undefined;
    let targetBelow: number | undefined;
    let diastolicBelow: number | undefined;
    (g.target ?? []).forEach((t, i) => {
      const part = partOf(t.measure?.coding);
      if (part === 'systolic' || part === 'diastolic') {
        measure = ObservationKind.BLOOD_PRESSURE;
        const v = belowOf(t, ObservationKind.BLOOD_PRESSURE, i);
        if (part === 'systolic') targetBelow ??= v;
        else diastolicBelow ??= v;
      } else if (part && (measure === undefined || measure === part)) {
        measure = part;
        targetBelow ??= belowOf(t, part, i);
      }
    });
    return {
      patientRef: refOf(g.subject, 'Patient'),
      lifecycleStatus: g.lifecycleStatus,
      description: g.description?.text ?? g.description?.coding?.find((c) => c.display)?.display ?? '',
      measure,
      targetBelow,
      diastolicBelow,
      dueDate: datePart(g.target?.find((t) => t.dueDate)?.dueDate, 'Goal.target.dueDate'),
    };
  },
  build(s) {
    let target: GoalTarget[] | undefined;
    if (s.measure === ObservationKind.BLOOD_PRESSURE) {
      const unit = CANONICAL_UNIT.BLOOD_PRESSURE;
      target = [
        { measure: { coding: [coding(SYSTEMS.loinc, LOINC.systolic, BP_COMPONENT_DISPLAY.systolic.en)] }, detailQuantity: below(s.targetBelow, unit), dueDate: s.dueDate },
        { measure: { coding: [coding(SYSTEMS.loinc, LOINC.diastolic, BP_COMPONENT_DISPLAY.diastolic.en)] }, detailQuantity: below(s.diastolicBelow, unit), dueDate: s.dueDate },
      ];
    } else if (s.measure && DEFAULT_LOINC_FOR_KIND[s.measure]) {
      const measure = { coding: [coding(SYSTEMS.loinc, DEFAULT_LOINC_FOR_KIND[s.measure]!, OBSERVATION_DISPLAY[s.measure].en)] };
      target = [{ measure, detailQuantity: below(s.targetBelow, CANONICAL_UNIT[s.measure]), dueDate: s.dueDate }];
    } else if (s.dueDate) {
      target = [{ dueDate: s.dueDate }];
    }
    return {
      resourceType: 'Goal',
      lifecycleStatus: s.lifecycleStatus ?? 'active',
      description: { text: s.description },
      subject: toReference(s.patientRef)!,
      target,
    };
  },
  // A target is one statement (measure + threshold + date): replace it whole when the domain changes it.
  merge: { atomic: ['description', 'target'] },
});
