import type { CodeableConcept, Organization, Practitioner, Reference, ServiceRequest } from '@medplum/fhirtypes';
import { ReferralDirection, ReferralReason, ReferralStatus, ReferralUrgency } from '../vocabulary/index.js';
import {
  bilingual,
  isReferralCode,
  NCD_EXTENSIONS,
  NCD_SYSTEMS,
  REFERRAL_DIRECTION_DISPLAY,
  REFERRAL_DISPLAY,
  REFERRAL_REASON_DISPLAY,
  REFERRAL_SNOMED,
  SYSTEMS,
} from './codes.js';
import { coding, defineMapping, enumFrom, findCodingIn, findExtension, iso, ncdConcept, notesText, parseInstant, refOf, refType, toReference } from './common.js';
import type { ReferralShape } from './domain-shapes.js';

/** ServiceRequest.status for a referral state: the request stays active until the Task ends it. */
export function requestStatusOf(status: ReferralStatus): ServiceRequest['status'] {
  switch (status) {
    case ReferralStatus.COMPLETED:
      return 'completed';
    case ReferralStatus.REJECTED:
    case ReferralStatus.CANCELLED:
      return 'revoked';
    default:
      return 'active';
  }
}

/** Our referral state from a ServiceRequest alone (without its Task, accepted cannot be told from requested). */
export function referralStatusOfRequest(status: ServiceRequest['status']): ReferralStatus {
  switch (status) {
    case 'completed':
      return ReferralStatus.COMPLETED;
    case 'revoked':
    case 'entered-in-error':
      return ReferralStatus.CANCELLED;
    default:
      return ReferralStatus.REQUESTED;
  }
}

const isOrganization = (r: Reference | undefined): boolean => refType(r) === 'Organization';
const URGENT = new Set(['urgent', 'asap', 'stat']);

export const serviceRequestMapping = defineMapping<ServiceRequest, ReferralShape>({
  resourceType: 'ServiceRequest',
  read(r) {
    const directionCoding = findCodingIn(r.category, NCD_SYSTEMS.referralDirection);
    const isReferral =
      directionCoding !== undefined ||
      [...(r.category ?? []), ...(r.code ? [r.code] : [])].some((c) => c.coding?.some((x) => isReferralCode(x.system, x.code)));
    const reasonCoding = findCodingIn(r.reasonCode, NCD_SYSTEMS.referralReason);
    const sending = findExtension(r.extension, NCD_EXTENSIONS.sendingOrganization)?.valueReference;
    const requesterIsOrg = isOrganization(r.requester);
    const performers = r.performer ?? [];
    return {
      patientRef: refOf(r.subject, 'Patient'),
      isReferral,
      requestStatus: r.status,
      intent: r.intent,
      direction: enumFrom(ReferralDirection, directionCoding?.code),
      fromOrganizationRef: refOf(sending, 'Organization') ?? (requesterIsOrg ? refOf(r.requester, 'Organization') : undefined),
      fromPractitionerRef: requesterIsOrg ? undefined : refOf(r.requester, 'Practitioner'),
      toOrganizationRef: refOf(performers.find(isOrganization), 'Organization'),
      toPractitionerRef: refOf(performers.find((p) => !isOrganization(p)), 'Practitioner'),
      reason: enumFrom(ReferralReason, reasonCoding?.code),
      reasonText: r.reasonCode?.find((c) => !findCodingIn([c], NCD_SYSTEMS.referralReason) && c.text)?.text,
      urgency: r.priority && URGENT.has(r.priority) ? ReferralUrgency.URGENT : ReferralUrgency.ROUTINE,
      clinicalSummary: notesText(r.note),
      requestedAt: parseInstant(r.authoredOn, 'ServiceRequest.authoredOn'),
      // A down-referral made in answer to an up-referral is based on it (basedOn: the request it fulfils), not its replacement.
      closesRef: refOf(r.basedOn?.find((b) => refType(b) === 'ServiceRequest'), 'ServiceRequest'),
    };
  },
  build(s) {
    const category: CodeableConcept[] = s.direction ? [ncdConcept(NCD_SYSTEMS.referralDirection, s.direction, REFERRAL_DIRECTION_DISPLAY[s.direction]!)] : [];
    const performer: Array<Reference<Organization | Practitioner> | undefined> = [toReference(s.toOrganizationRef, 'Organization'), toReference(s.toPractitionerRef, 'Practitioner')];
    const requester: Reference<Organization | Practitioner> | undefined = s.fromPractitionerRef
      ? toReference(s.fromPractitionerRef, 'Practitioner')
      : toReference(s.fromOrganizationRef, 'Organization');
    const reasonCode: CodeableConcept[] = [];
    if (s.reason) reasonCode.push(ncdConcept(NCD_SYSTEMS.referralReason, s.reason, REFERRAL_REASON_DISPLAY[s.reason]!));
    if (s.reasonText) reasonCode.push({ text: s.reasonText });
    // The requester is one reference: when a practitioner sends, their organisation travels in an extension.
    const sendingOrg = s.fromPractitionerRef && s.fromOrganizationRef ? s.fromOrganizationRef : undefined;
    return {
      resourceType: 'ServiceRequest',
      extension: sendingOrg ? [{ url: NCD_EXTENSIONS.sendingOrganization, valueReference: toReference(sendingOrg, 'Organization') }] : undefined,
      status: s.requestStatus,
      basedOn: s.closesRef ? [toReference(s.closesRef, 'ServiceRequest')!] : undefined,
      intent: s.intent ?? 'order',
      category,
      priority: s.urgency === ReferralUrgency.URGENT ? 'urgent' : 'routine',
      code: s.isReferral ? { coding: [coding(SYSTEMS.snomed, REFERRAL_SNOMED.code, REFERRAL_SNOMED.display)], text: bilingual(REFERRAL_DISPLAY) } : undefined,
      subject: toReference(s.patientRef)!,
      authoredOn: iso(s.requestedAt),
      requester,
      performer: performer.filter((p) => p !== undefined),
      reasonCode,
      note: s.clinicalSummary ? [{ text: s.clinicalSummary }] : undefined,
    };
  },
  merge: { atomic: ['code', 'note', 'requester'] },
});
