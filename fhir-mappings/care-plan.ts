import type { CarePlan, CarePlanActivity, CarePlanActivityDetail, CodeableConcept, Condition, Extension } from '@medplum/fhirtypes';
import { ActivityCategory, ActivityStatus, CarePlanStatus } from '../vocabulary/index.js';
import { ACTIVITY_CATEGORY_DISPLAY, classifyActivity, classifyCondition, CONDITION_DISPLAY, ConditionKind, NCD_EXTENSIONS, NCD_SYSTEMS } from './codes.js';
import { datePart, defineMapping, enumFrom, findExtension, ncdConcept, notesText, refOf, refType, toReference } from './common.js';
import { conditionCoding } from './condition.js';
import type { CarePlanActivityShape, CarePlanShape } from './domain-shapes.js';

const STATUS_IN: Record<CarePlan['status'], CarePlanStatus> = {
  draft: CarePlanStatus.DRAFT,
  active: CarePlanStatus.ACTIVE,
  'on-hold': CarePlanStatus.ON_HOLD,
  revoked: CarePlanStatus.REVOKED,
  completed: CarePlanStatus.COMPLETED,
  // Neither may count as an active plan (the non-medical prescription indicator counts active ones).
  'entered-in-error': CarePlanStatus.REVOKED,
  unknown: CarePlanStatus.DRAFT,
};
const STATUS_OUT: Record<CarePlanStatus, CarePlan['status']> = {
  DRAFT: 'draft',
  ACTIVE: 'active',
  ON_HOLD: 'on-hold',
  REVOKED: 'revoked',
  COMPLETED: 'completed',
};

type DetailStatus = CarePlanActivityDetail['status'];
const ACTIVITY_STATUS_IN: Record<DetailStatus, ActivityStatus> = {
  'not-started': ActivityStatus.NOT_STARTED,
  scheduled: ActivityStatus.SCHEDULED,
  'in-progress': ActivityStatus.IN_PROGRESS,
  'on-hold': ActivityStatus.ON_HOLD,
  completed: ActivityStatus.COMPLETED,
  cancelled: ActivityStatus.CANCELLED,
  stopped: ActivityStatus.STOPPED,
  unknown: ActivityStatus.NOT_STARTED,
  'entered-in-error': ActivityStatus.CANCELLED,
};
const ACTIVITY_STATUS_OUT: Record<ActivityStatus, DetailStatus> = {
  NOT_STARTED: 'not-started',
  SCHEDULED: 'scheduled',
  IN_PROGRESS: 'in-progress',
  ON_HOLD: 'on-hold',
  COMPLETED: 'completed',
  CANCELLED: 'cancelled',
  STOPPED: 'stopped',
};

function categoryOf(detail: CarePlanActivityDetail): ActivityCategory {
  const codings = detail.code?.coding ?? [];
  const ordered = [...codings.filter((c) => c.system === NCD_SYSTEMS.activityCategory), ...codings];
  for (const c of ordered) {
    const category = c.system && c.code ? enumFrom(ActivityCategory, classifyActivity(c.system, c.code)) : undefined;
    if (category) return category;
  }
  if (detail.kind === 'MedicationRequest' || detail.productCodeableConcept || detail.productReference) return ActivityCategory.MEDICATION;
  return ActivityCategory.OTHER;
}

function readActivity(a: CarePlanActivity): CarePlanActivityShape {
  if (a.reference) {
    return {
      ref: refOf(a.reference),
      category: refType(a.reference) === 'MedicationRequest' ? ActivityCategory.MEDICATION : ActivityCategory.OTHER,
      status: enumFrom(ActivityStatus, findExtension(a.extension, NCD_EXTENSIONS.activityStatus)?.valueCode) ?? ActivityStatus.NOT_STARTED,
      description: a.reference.display ?? '',
    };
  }
  const d = a.detail;
  if (!d) return { category: ActivityCategory.OTHER, status: ActivityStatus.NOT_STARTED, description: '' };
  const medication = d.productCodeableConcept;
  const medicationCoding = medication?.coding?.find((c) => c.code);
  return {
    category: categoryOf(d),
    status: ACTIVITY_STATUS_IN[d.status],
    description: d.description ?? d.code?.text ?? d.code?.coding?.find((c) => c.display)?.display ?? '',
    frequency: d.scheduledString,
    medicationCode: medicationCoding?.code,
    medicationSystem: medicationCoding?.system,
    medicationName: medication?.text ?? medicationCoding?.display,
    dosage: findExtension(d.extension, NCD_EXTENSIONS.dosage)?.valueString,
  };
}

function buildActivity(a: CarePlanActivityShape): CarePlanActivity {
  // cpl-3: an activity is a reference or a detail, never both.
  if (a.ref) {
    return {
      extension: a.status !== ActivityStatus.NOT_STARTED ? [{ url: NCD_EXTENSIONS.activityStatus, valueCode: a.status }] : undefined,
      reference: { ...toReference(a.ref), display: a.description || undefined },
    };
  }
  const product: CodeableConcept | undefined =
    a.medicationCode || a.medicationName
      ? {
          coding: a.medicationCode ? [{ system: a.medicationSystem, code: a.medicationCode, display: a.medicationName }] : undefined,
          text: a.medicationName,
        }
      : undefined;
  const extension: Extension[] = a.dosage ? [{ url: NCD_EXTENSIONS.dosage, valueString: a.dosage }] : [];
  return {
    detail: {
      extension,
      kind: a.category === ActivityCategory.MEDICATION ? 'MedicationRequest' : undefined,
      code: ncdConcept(NCD_SYSTEMS.activityCategory, a.category, ACTIVITY_CATEGORY_DISPLAY[a.category]!),
      status: ACTIVITY_STATUS_OUT[a.status],
      scheduledString: a.frequency,
      productCodeableConcept: product,
      description: a.description,
    },
  };
}

/** Kinds the plan says it addresses: our category codings, and Conditions it contains. */
function addressedKinds(c: CarePlan): ConditionKind[] {
  const kinds = new Set<ConditionKind>();
  for (const category of c.category ?? []) {
    for (const x of category.coding ?? []) {
      const kind = x.system === NCD_SYSTEMS.conditionKind ? enumFrom(ConditionKind, x.code) : undefined;
      if (kind) kinds.add(kind);
    }
  }
  for (const address of c.addresses ?? []) {
    const local = address.reference?.startsWith('#') ? c.contained?.find((r) => r.resourceType === 'Condition' && r.id === address.reference!.slice(1)) : undefined;
    const found = local && conditionCoding((local as Condition).code);
    const kind = found ? classifyCondition(found.system!, found.code!) : undefined;
    if (kind && kind !== ConditionKind.OTHER) kinds.add(kind);
  }
  return [...kinds];
}

/** A plan without a title is usually named by its category (Synthea: "Diabetes self management plan"). */
function titleOf(c: CarePlan): string | undefined {
  if (c.title) return c.title;
  for (const category of c.category ?? []) {
    if (category.coding?.some((x) => x.system === NCD_SYSTEMS.conditionKind)) continue;
    const text = category.text ?? category.coding?.find((x) => x.display)?.display;
    if (text) return text;
  }
  return undefined;
}

export const carePlanMapping = defineMapping<CarePlan, CarePlanShape>({
  resourceType: 'CarePlan',
  read(c) {
    return {
      patientRef: refOf(c.subject, 'Patient'),
      title: titleOf(c),
      status: STATUS_IN[c.status],
      intent: c.intent,
      addresses: addressedKinds(c),
      addressesRefs: (c.addresses ?? []).map((a) => refOf(a, 'Condition')).filter((r): r is string => r !== undefined),
      periodStart: datePart(c.period?.start, 'CarePlan.period.start'),
      periodEnd: datePart(c.period?.end, 'CarePlan.period.end'),
      authorRef: refOf(c.author),
      organizationRef: refOf(c.contributor?.find((x) => refType(x) === 'Organization')),
      note: notesText(c.note),
      goalRefs: (c.goal ?? []).map((g) => refOf(g, 'Goal')).filter((r): r is string => r !== undefined),
      activities: (c.activity ?? []).map(readActivity),
    };
  },
  build(s) {
    return {
      resourceType: 'CarePlan',
      status: STATUS_OUT[s.status],
      intent: s.intent ?? 'plan',
      category: s.addresses.map((k) => ncdConcept(NCD_SYSTEMS.conditionKind, k, CONDITION_DISPLAY[k])),
      title: s.title,
      subject: toReference(s.patientRef)!,
      period: { start: s.periodStart, end: s.periodEnd },
      author: toReference(s.authorRef),
      contributor: s.organizationRef ? [toReference(s.organizationRef, 'Organization')!] : undefined,
      addresses: s.addressesRefs.map((r) => toReference(r)!),
      goal: s.goalRefs.map((r) => toReference(r)!),
      activity: s.activities.map(buildActivity),
      note: s.note ? [{ text: s.note }] : undefined,
    };
  },
  merge: {
    // Activities have no identity of their own; they line up one to one with the plan's list.
    arrays: { activity: 'indexed' },
    atomic: ['activity.detail.code', 'activity.detail.productCodeableConcept', 'note'],
    choices: ['scheduled', 'product'],
  },
});
