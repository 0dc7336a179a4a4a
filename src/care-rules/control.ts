import { countsForControl, countsForControlSql, type Plausibility } from './plausibility.js';
import { type CareRules, DEFAULT_CARE_RULES } from './rules.js';
import { sqlNumber } from './sql.js';
import { ControlInterpretation, ControlStatus, ObservationKind } from '../../vocabulary/index.js';

export { ControlInterpretation, ControlStatus };

export interface Reading {
  kind: ObservationKind;
  value?: number | null;
  systolic?: number | null;
  diastolic?: number | null;
  /** An implausible reading has no control status (plausibility.ts, `countsForControl`). */
  plausibility?: Plausibility | null;
}

/**
 * How a single reading stands against the targets. Defined once here: the BP and glucose control
 * indicators, follow-up intervals and urgent worklists all ask this function.
 */
export function controlStatusOf(reading: Reading, rules: CareRules = DEFAULT_CARE_RULES): ControlStatus | undefined {
  const { control, urgent } = rules;
  if (!countsForControl(reading)) return undefined;
  switch (reading.kind) {
    case ObservationKind.BLOOD_PRESSURE: {
      const { systolic, diastolic } = reading;
      if (systolic == null || diastolic == null) return undefined;
      if (systolic >= urgent.systolicAtLeast || diastolic >= urgent.diastolicAtLeast) return ControlStatus.URGENT;
      return systolic < control.systolicBelow && diastolic < control.diastolicBelow ? ControlStatus.CONTROLLED : ControlStatus.UNCONTROLLED;
    }
    case ObservationKind.FASTING_GLUCOSE:
    case ObservationKind.GLUCOSE: {
      const v = reading.value;
      if (v == null) return undefined;
      if (v >= urgent.glucoseAtLeast || v <= urgent.glucoseAtMost) return ControlStatus.URGENT;
      // A random (non-fasting) glucose is only judged for urgency; it cannot show control.
      if (reading.kind === ObservationKind.GLUCOSE) return undefined;
      return v < control.fastingGlucoseBelow ? ControlStatus.CONTROLLED : ControlStatus.UNCONTROLLED;
    }
    case ObservationKind.HBA1C:
      if (reading.value == null) return undefined;
      return reading.value < control.hba1cBelow ? ControlStatus.CONTROLLED : ControlStatus.UNCONTROLLED;
    default:
      return undefined;
  }
}

/**
 * Which way the reading stands from its target, by the same rule as `controlStatusOf` (what a FHIR Observation's
 * `interpretation` says, HL7 v3 codes): CONTROLLED is N; UNCONTROLLED is H, every target being an upper limit;
 * URGENT is LL for a glucose at or below the urgent low (`urgent.glucoseAtMost`), HH otherwise. Undefined when the
 * reading has no control status (implausible, not judged). Stored beside the control status when a reading is
 * written (observation.control_interpretation), so what was emitted stays what the rules said then.
 */
export function controlInterpretationOf(reading: Reading, rules: CareRules = DEFAULT_CARE_RULES): ControlInterpretation | undefined {
  const status = controlStatusOf(reading, rules);
  if (status === ControlStatus.CONTROLLED) return ControlInterpretation.N;
  if (status === ControlStatus.UNCONTROLLED) return ControlInterpretation.H;
  if (status !== ControlStatus.URGENT) return undefined;
  const glucose = reading.kind === ObservationKind.FASTING_GLUCOSE || reading.kind === ObservationKind.GLUCOSE;
  return glucose && reading.value != null && reading.value <= rules.urgent.glucoseAtMost ? ControlInterpretation.LL : ControlInterpretation.HH;
}

/**
 * `controlStatusOf` as SQL over a stored observation (`alias`: kind, value, systolic, diastolic, plausibility): a
 * `case` expression giving 'CONTROLLED', 'UNCONTROLLED', 'URGENT' or null, built from the same `CareRules`.
 * The stored `observation.control_status` is this at write time (ObservationService); indicators and worklists may
 * use either. test/care-rules.test.ts checks the two agree on both databases.
 */
export function controlStatusSql(rules: CareRules = DEFAULT_CARE_RULES, alias = 'o'): string {
  const { control, urgent } = rules;
  const a = alias;
  const n = sqlNumber;
  const [C, U, X] = [ControlStatus.CONTROLLED, ControlStatus.UNCONTROLLED, ControlStatus.URGENT].map((s) => `'${s}'`);
  const bp =
    `case when ${a}.systolic is null or ${a}.diastolic is null then null ` +
    `when ${a}.systolic >= ${n(urgent.systolicAtLeast)} or ${a}.diastolic >= ${n(urgent.diastolicAtLeast)} then ${X} ` +
    `when ${a}.systolic < ${n(control.systolicBelow)} and ${a}.diastolic < ${n(control.diastolicBelow)} then ${C} else ${U} end`;
  const glucose =
    `case when ${a}.value is null then null ` +
    `when ${a}.value >= ${n(urgent.glucoseAtLeast)} or ${a}.value <= ${n(urgent.glucoseAtMost)} then ${X} ` +
    `when ${a}.kind = '${ObservationKind.GLUCOSE}' then null ` +
    `when ${a}.value < ${n(control.fastingGlucoseBelow)} then ${C} else ${U} end`;
  const hba1c = `case when ${a}.value is null then null when ${a}.value < ${n(control.hba1cBelow)} then ${C} else ${U} end`;
  return (
    `(case when not (${countsForControlSql(a)}) then null ` +
    `when ${a}.kind = '${ObservationKind.BLOOD_PRESSURE}' then ${bp} ` +
    `when ${a}.kind in ('${ObservationKind.FASTING_GLUCOSE}', '${ObservationKind.GLUCOSE}') then ${glucose} ` +
    `when ${a}.kind = '${ObservationKind.HBA1C}' then ${hba1c} else null end)`
  );
}
