import { ControlStatus, GoalProgressStatus, ObservationKind } from '../../vocabulary/index.js';
import { countyToday } from './calendar.js';
import { controlStatusOf, type Reading } from './control.js';
import { type DatedReading, latestReading } from './latest.js';
import { type CareRules, DEFAULT_CARE_RULES } from './rules.js';

export { GoalProgressStatus };

/** What a goal says it wants (a CarePlanGoal's measurable part). */
export interface GoalTarget {
  measure?: ObservationKind | null;
  targetBelow?: number | null;
  diastolicBelow?: number | null;
  /** ISO date by which the target should be reached. */
  dueDate?: string | null;
}

export interface GoalProgress<R> {
  /** The latest counting reading of the goal's measure since the plan started (latestReading), if any. */
  latestReading?: R;
  status: GoalProgressStatus;
}

/** The kinds controlStatusOf judges for control: a goal on one of them is judged by that rule, its targets the goal's. */
const CONTROL_KINDS = new Set([ObservationKind.BLOOD_PRESSURE, ObservationKind.FASTING_GLUCOSE, ObservationKind.HBA1C]);

/**
 * Whether a goal can be judged from readings at all: it names a measure, and a target (its own, or for BP, fasting
 * glucose and HbA1c the control targets of CareRules). "Stop smoking" has none: it has no progress.
 */
export function isMeasurable(goal: GoalTarget): boolean {
  return !!goal.measure && (goal.targetBelow != null || CONTROL_KINDS.has(goal.measure));
}

/**
 * Whether one reading meets the goal. For BP, fasting glucose and HbA1c this is `controlStatusOf` — the one rule of
 * control — with the goal's own targets in place of the rules' control targets where it sets them (a diabetic's
 * BP goal of 130/80): CONTROLLED meets it, UNCONTROLLED or URGENT does not. For any other measure (BMI, weight, waist)
 * the value is below the goal's target.
 */
export function meetsGoal(goal: GoalTarget, reading: Reading, rules: CareRules = DEFAULT_CARE_RULES): boolean {
  if (!goal.measure || reading.kind !== goal.measure) return false;
  if (CONTROL_KINDS.has(goal.measure)) {
    const own = { ...rules.control };
    if (goal.measure === ObservationKind.BLOOD_PRESSURE) {
      own.systolicBelow = goal.targetBelow ?? own.systolicBelow;
      own.diastolicBelow = goal.diastolicBelow ?? own.diastolicBelow;
    } else if (goal.measure === ObservationKind.FASTING_GLUCOSE) own.fastingGlucoseBelow = goal.targetBelow ?? own.fastingGlucoseBelow;
    else own.hba1cBelow = goal.targetBelow ?? own.hba1cBelow;
    return controlStatusOf(reading, { ...rules, control: own }) === ControlStatus.CONTROLLED;
  }
  return goal.targetBelow != null && reading.value != null && reading.value < goal.targetBelow;
}

/**
 * How a goal stands, from the patient's readings: the latest counting reading of its measure (`latestReading`:
 * plausible, newest) taken on or after `since` (the plan's start, a county date), judged by `meetsGoal`. Not met,
 * the goal is IN_PROGRESS until its due date and NOT_ACHIEVED after it (`today`, the county's date). Undefined for a
 * goal that is not measurable (`isMeasurable`).
 */
export function goalProgressOf<R extends Reading & DatedReading>(
  goal: GoalTarget,
  readings: readonly R[],
  { since, today, rules = DEFAULT_CARE_RULES }: { since: string; today: string; rules?: CareRules },
): GoalProgress<R> | undefined {
  if (!isMeasurable(goal)) return undefined;
  const latest = latestReading(
    readings.filter((r) => countyToday(r.effectiveAt) >= since),
    [goal.measure!],
  );
  if (!latest) return { status: GoalProgressStatus.NO_DATA };
  if (meetsGoal(goal, latest, rules)) return { latestReading: latest, status: GoalProgressStatus.ACHIEVED };
  const overdue = !!goal.dueDate && today > goal.dueDate;
  return { latestReading: latest, status: overdue ? GoalProgressStatus.NOT_ACHIEVED : GoalProgressStatus.IN_PROGRESS };
}
