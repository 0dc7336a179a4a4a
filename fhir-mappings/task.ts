import type { Task } from '@medplum/fhirtypes';
import { ReferralStatus } from '../vocabulary/index.js';
import { bilingual, HL7, NCD_SYSTEMS, REFERRAL_OUTCOME_DISPLAY, REFERRAL_RESULT_DISPLAY, REFERRAL_STATUS_DISPLAY, REFERRAL_TASK_DISPLAY } from './codes.js';
import { coding, defineMapping, findCoding, iso, ncdConcept, parseInstant, refOf, refType, toReference } from './common.js';
import type { ReferralTaskShape } from './domain-shapes.js';

/** Task states other systems use, read as the nearest step of our lifecycle. */
const STATUS_IN: Record<Task['status'], ReferralStatus> = {
  draft: ReferralStatus.REQUESTED,
  requested: ReferralStatus.REQUESTED,
  received: ReferralStatus.REQUESTED,
  accepted: ReferralStatus.ACCEPTED,
  ready: ReferralStatus.ACCEPTED,
  'in-progress': ReferralStatus.ACCEPTED,
  'on-hold': ReferralStatus.ACCEPTED,
  rejected: ReferralStatus.REJECTED,
  completed: ReferralStatus.COMPLETED,
  cancelled: ReferralStatus.CANCELLED,
  failed: ReferralStatus.CANCELLED,
  'entered-in-error': ReferralStatus.CANCELLED,
};
const STATUS_OUT: Record<ReferralStatus, Task['status']> = {
  REQUESTED: 'requested',
  ACCEPTED: 'accepted',
  REJECTED: 'rejected',
  COMPLETED: 'completed',
  CANCELLED: 'cancelled',
};

/** Every output naming a reading or a diagnosis, however the sender types it; none: undefined. */
function resultRefsOf(t: Task): string[] | undefined {
  const refs = (t.output ?? [])
    .map((o) => o.valueReference)
    .filter((r) => !!r?.reference && (refType(r) === 'Observation' || refType(r) === 'Condition'))
    .map((r) => r!.reference!);
  return refs.length ? refs : undefined;
}

/** The outcome summary, then each reading and diagnosis of the receiver's visit, as Task outputs. */
function outputsOf(s: ReferralTaskShape): Task['output'] {
  const outputs: NonNullable<Task['output']> = [];
  if (s.outcomeSummary) outputs.push({ type: ncdConcept(NCD_SYSTEMS.taskOutput, 'outcome-summary', REFERRAL_OUTCOME_DISPLAY), valueString: s.outcomeSummary });
  for (const ref of s.resultRefs ?? []) outputs.push({ type: ncdConcept(NCD_SYSTEMS.taskOutput, 'outcome-record', REFERRAL_RESULT_DISPLAY), valueReference: toReference(ref)! });
  return outputs.length ? outputs : undefined;
}

/**
 * Where the step timestamps live: accepted → executionPeriod.start, completed → executionPeriod.end,
 * rejected / cancelled → lastModified (the time of the change that ended the Task).
 */
export const referralTaskMapping = defineMapping<Task, ReferralTaskShape>({
  resourceType: 'Task',
  read(t) {
    const status = STATUS_IN[t.status];
    const lastModified = parseInstant(t.lastModified, 'Task.lastModified');
    const output = t.output?.find((o) => findCoding(o.type, NCD_SYSTEMS.taskOutput)?.code === 'outcome-summary') ?? t.output?.find((o) => o.valueString !== undefined);
    return {
      referralRef: refOf(t.focus, 'ServiceRequest') ?? refOf(t.basedOn?.[0], 'ServiceRequest'),
      patientRef: refOf(t.for, 'Patient'),
      status,
      taskStatus: t.status,
      intent: t.intent,
      statusReason: t.statusReason?.text ?? t.statusReason?.coding?.find((c) => c.display)?.display,
      outcomeSummary: output?.valueString,
      resultRefs: resultRefsOf(t),
      requesterRef: refOf(t.requester),
      ownerRef: refOf(t.owner),
      requestedAt: parseInstant(t.authoredOn, 'Task.authoredOn'),
      acceptedAt: parseInstant(t.executionPeriod?.start, 'Task.executionPeriod.start'),
      completedAt: parseInstant(t.executionPeriod?.end, 'Task.executionPeriod.end'),
      rejectedAt: status === ReferralStatus.REJECTED ? lastModified : undefined,
      cancelledAt: status === ReferralStatus.CANCELLED ? lastModified : undefined,
    };
  },
  build(s) {
    const stepAt: Record<ReferralStatus, Date | undefined> = {
      REQUESTED: s.requestedAt,
      ACCEPTED: s.acceptedAt,
      REJECTED: s.rejectedAt,
      COMPLETED: s.completedAt,
      CANCELLED: s.cancelledAt,
    };
    // Keep a finer FHIR state as received while it still reads as our status.
    const status = s.taskStatus && STATUS_IN[s.taskStatus] === s.status ? s.taskStatus : STATUS_OUT[s.status];
    return {
      resourceType: 'Task',
      status,
      businessStatus: ncdConcept(NCD_SYSTEMS.referralStatus, s.status, REFERRAL_STATUS_DISPLAY[s.status]!),
      statusReason: s.statusReason ? { text: s.statusReason } : undefined,
      intent: s.intent ?? 'order',
      code: { coding: [coding(HL7.taskCode, 'fulfill', 'Fulfill the focal request')], text: bilingual(REFERRAL_TASK_DISPLAY) },
      focus: toReference(s.referralRef, 'ServiceRequest'),
      for: toReference(s.patientRef, 'Patient'),
      authoredOn: iso(s.requestedAt),
      lastModified: iso(stepAt[s.status] ?? s.requestedAt),
      executionPeriod: { start: iso(s.acceptedAt), end: iso(s.completedAt) },
      requester: toReference(s.requesterRef),
      owner: toReference(s.ownerRef),
      output: outputsOf(s),
    };
  },
  merge: { atomic: ['businessStatus', 'statusReason', 'output'] },
});
