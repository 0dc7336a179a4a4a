/**
 * The care model's numbers, in one place: control targets, urgent-referral thresholds, follow-up
 * intervals and plausible measurement ranges. Defaults follow the national basic public health service
 * standard (see docs/care-model.md); a deployment may override any of them.
 */
export interface CareRules {
  control: {
    systolicBelow: number;
    diastolicBelow: number;
    fastingGlucoseBelow: number;
    hba1cBelow: number;
    /** A condition's control status is decided by readings of the last this many days; none: NO_RECENT_READING. */
    recentDays: number;
  };
  urgent: {
    systolicAtLeast: number;
    diastolicAtLeast: number;
    glucoseAtLeast: number;
    glucoseAtMost: number;
  };
  followUpDays: {
    controlled: number;
    uncontrolled: number;
    afterReferral: number;
    /** The yearly health check: this many days after the last health assessment (or enrolment). */
    annualCheck: number;
  };
  /** The longest interval between visits for each management tier, in days (care-rules/follow-up-interval.ts). */
  tierMaximumDays: {
    intensive: number;
    routine: number;
    general: number;
  };
  minFaceToFaceFollowUpsPerYear: number;
  /**
   * Targets of care-plan goals beyond the control targets (src/domain/care-plan/templates.ts): body-mass index
   * below this (kg/m², the national guides' 24).
   */
  goals: {
    bmiBelow: number;
  };
  /**
   * Management colour and tier (management.ts, the notes' starting rule), in whole days: red for an urgent reading
   * within `urgentWithinDays` or an admission within `admissionWithinDays`; green only when controlled for at least
   * `controlledForDays`. A clinician's override lasts until its review date, `overrideReviewDays` after it unless given.
   */
  management: {
    urgentWithinDays: number;
    admissionWithinDays: number;
    controlledForDays: number;
    overrideReviewDays: number;
  };
  /**
   * The seven-step pathway (src/care-rules/pathway.ts): who counts as suspected from a screening reading, and how
   * many days a patient may wait at each step before the pathway lists them as stuck.
   */
  pathway: {
    screeningAgeAtLeast: number;
    stuckDays: {
      suspected: number;
      confirmed: number;
      assessed: number;
      planMade: number;
      intervention: number;
      followedUp: number;
      reassessed: number;
    };
  };
  /**
   * How long a contact attempt keeps an overdue patient off the next overdue lists, in days
   * (src/care-rules/overdue-contact.ts): after a promised visit date, after a reach with no date, after no answer,
   * after a refusal.
   */
  contact: {
    promisedVisitGraceDays: number;
    reachedWithoutDateDays: number;
    notReachableDays: number;
    refusedDays: number;
  };
  /**
   * Alerts (src/care-rules/alerts.ts, docs/care-model.md "Alerts"), in whole days. A cause older than its window
   * raises nothing (imported history is not news), though an alert already raised stays until its cause goes.
   */
  alerts: {
    /** An urgent reading taken longer ago than this raises no urgent-referral alert. */
    urgentReadingWithinDays: number;
    /** A complication (condition onset or recorded, or a visit's finding) older than this is not new. */
    newComplicationWithinDays: number;
    /** The second of two uncontrolled visits done longer ago than this suggests no referral. */
    uncontrolledVisitWithinDays: number;
    /** Days after discharge from a county-level stay, every reading controlled, before a down-referral is suggested. */
    stableDaysAfterAdmission: number;
    /** A discharge longer ago than this suggests no down-referral. */
    downReferralWithinDays: number;
    /** A routine referral still requested this many days after it was sent is "not accepted in time". */
    referralAcceptanceDays: number;
    /** The same for an urgent referral. */
    urgentReferralAcceptanceDays: number;
    /** A family-doctor contract expiring within this many days (or expired as long ago) raises a reminder. */
    contractExpiringDays: number;
  };
  plausible: {
    systolic: [number, number];
    diastolic: [number, number];
    glucoseMmolL: [number, number];
    hba1cPercent: [number, number];
    weightKg: [number, number];
    heightCm: [number, number];
    bmi: [number, number];
    heartRate: [number, number];
    waistCm: [number, number];
  };
}

export const DEFAULT_CARE_RULES: CareRules = {
  control: { systolicBelow: 140, diastolicBelow: 90, fastingGlucoseBelow: 7.0, hba1cBelow: 7.0, recentDays: 90 },
  urgent: { systolicAtLeast: 180, diastolicAtLeast: 110, glucoseAtLeast: 16.7, glucoseAtMost: 3.9 },
  followUpDays: { controlled: 90, uncontrolled: 14, afterReferral: 14, annualCheck: 365 },
  tierMaximumDays: { intensive: 30, routine: 60, general: 90 },
  minFaceToFaceFollowUpsPerYear: 4,
  goals: { bmiBelow: 24 },
  management: { urgentWithinDays: 90, admissionWithinDays: 182, controlledForDays: 182, overrideReviewDays: 365 },
  pathway: {
    screeningAgeAtLeast: 35,
    stuckDays: { suspected: 30, confirmed: 30, assessed: 14, planMade: 14, intervention: 90, followedUp: 365, reassessed: 14 },
  },
  contact: { promisedVisitGraceDays: 3, reachedWithoutDateDays: 30, notReachableDays: 7, refusedDays: 90 },
  alerts: {
    urgentReadingWithinDays: 7,
    newComplicationWithinDays: 30,
    uncontrolledVisitWithinDays: 30,
    stableDaysAfterAdmission: 28,
    downReferralWithinDays: 90,
    referralAcceptanceDays: 3,
    urgentReferralAcceptanceDays: 1,
    contractExpiringDays: 30,
  },
  plausible: {
    systolic: [40, 300],
    diastolic: [20, 200],
    glucoseMmolL: [0.5, 50],
    hba1cPercent: [3, 20],
    weightKg: [1, 400],
    heightCm: [30, 250],
    bmi: [8, 80],
    heartRate: [20, 300],
    waistCm: [30, 250],
  },
};

type Shape = { [key: string]: Shape | 'number' | 'range' };

/** Every setting and its kind, from the defaults: a number, or a [low, high] range. */
function shapeOf(value: unknown): Shape | 'number' | 'range' {
  if (typeof value === 'number') return 'number';
  if (Array.isArray(value)) return 'range';
  return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, shapeOf(v)])) as Shape;
}

/**
 * The configured care rules: `overrides` (a deployment's CARE_RULES_FILE, any subset of the settings) over the
 * defaults, each setting checked. Every number must be finite (they are written into SQL as literals:
 * control.ts, management.ts), a range is [low, high] with low < high, and an unknown setting is an error rather
 * than silently ignored. Throws an Error naming the setting.
 */
export function careRulesFrom(overrides: unknown, base: CareRules = DEFAULT_CARE_RULES, where = 'care rules'): CareRules {
  const merge = (shape: Shape, given: unknown, defaults: Record<string, unknown>, path: string): Record<string, unknown> => {
    if (given === undefined) return structuredClone(defaults);
    if (!given || typeof given !== 'object' || Array.isArray(given)) throw new Error(`${where}: ${path || 'the file'} must be an object`);
    for (const key of Object.keys(given)) {
      if (!(key in shape)) throw new Error(`${where}: unknown setting ${path ? `${path}.` : ''}${key} (known: ${Object.keys(shape).join(', ')})`);
    }
    const out: Record<string, unknown> = {};
    for (const [key, kind] of Object.entries(shape)) {
      const name = path ? `${path}.${key}` : key;
      const value = (given as Record<string, unknown>)[key];
      if (kind === 'number') {
        if (value === undefined) out[key] = defaults[key];
        else if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${where}: ${name} must be a number, got ${JSON.stringify(value)}`);
        else out[key] = value;
      } else if (kind === 'range') {
        if (value === undefined) out[key] = [...(defaults[key] as number[])];
        else if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => typeof v === 'number' && Number.isFinite(v)) || !(value[0] < value[1])) {
          throw new Error(`${where}: ${name} must be a range [low, high] of two numbers with low < high, got ${JSON.stringify(value)}`);
        } else out[key] = [...value];
      } else out[key] = merge(kind, value, defaults[key] as Record<string, unknown>, name);
    }
    return out;
  };
  const rules = merge(shapeOf(DEFAULT_CARE_RULES) as Shape, overrides, base as unknown as Record<string, unknown>, '') as unknown as CareRules;
  const days = Object.entries(rules.followUpDays).find(([, d]) => !Number.isInteger(d) || d < 1);
  if (days) throw new Error(`${where}: followUpDays.${days[0]} must be a whole number of days, at least 1`);
  const careDays = [
    ['control.recentDays', rules.control.recentDays] as const,
    ...Object.entries(rules.tierMaximumDays).map(([k, d]) => [`tierMaximumDays.${k}`, d] as const),
    ...Object.entries(rules.management).map(([k, d]) => [`management.${k}`, d] as const),
  ].find(([, d]) => !Number.isInteger(d) || d < 1);
  if (careDays) throw new Error(`${where}: ${careDays[0]} must be a whole number of days, at least 1`);
  const alertDays = Object.entries(rules.alerts).find(([, d]) => !Number.isInteger(d) || d < 0);
  if (alertDays) throw new Error(`${where}: alerts.${alertDays[0]} must be a whole number of days`);
  const wholeDays = [...Object.entries(rules.pathway.stuckDays).map(([k, d]) => [`pathway.stuckDays.${k}`, d] as const), ...Object.entries(rules.contact).map(([k, d]) => [`contact.${k}`, d] as const)];
  const notDays = wholeDays.find(([, d]) => !Number.isInteger(d) || d < 0);
  if (notDays) throw new Error(`${where}: ${notDays[0]} must be a whole number of days`);
  if (rules.urgent.glucoseAtMost >= rules.urgent.glucoseAtLeast) throw new Error(`${where}: urgent.glucoseAtMost must be below urgent.glucoseAtLeast`);
  return Object.freeze(rules);
}
