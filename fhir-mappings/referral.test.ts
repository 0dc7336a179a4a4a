import type { ServiceRequest, Task } from '@medplum/fhirtypes';
import { ReferralDirection, ReferralReason, ReferralStatus, ReferralUrgency } from '../vocabulary/index.js';
import { NCD_EXTENSIONS } from './codes.js';
import type { ReferralShape, ReferralTaskShape } from './domain-shapes.js';
import { referralStatusOfRequest, requestStatusOf, serviceRequestMapping as sr } from './service-request.js';
import { referralTaskMapping as task } from './task.js';
import { loadSharedResources } from './test-support/shared-data.js';
import { errorsOf, validateFhir } from './validate.js';

const valid = (r: ServiceRequest | Task) => expect(errorsOf(validateFhir(r))).toEqual([]);

const upReferral: ReferralShape = {
  patientRef: 'Patient/p1',
  isReferral: true,
  requestStatus: 'active',
  intent: 'order',
  direction: ReferralDirection.UP,
  fromOrganizationRef: 'Organization/village-clinic',
  fromPractitionerRef: 'Practitioner/village-doctor',
  toOrganizationRef: 'Organization/county-hospital',
  toPractitionerRef: 'Practitioner/cardiologist',
  reason: ReferralReason.POOR_CONTROL,
  reasonText: '两次随访血压控制不满意',
  urgency: ReferralUrgency.URGENT,
  clinicalSummary: 'BP 168/102 and 172/104 on the last two visits on amlodipine 5 mg.',
  requestedAt: new Date('2026-11-20T02:00:00Z'),
};

describe('ServiceRequest (referral)', () => {
  test('a domain-only up-referral is valid, coded as a referral with direction, reason and urgency', () => {
    const out = sr.toFhir(upReferral, { id: 'r1' });
    valid(out);
    expect(out.code?.coding?.[0]).toEqual({ system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' });
    expect(out.category?.[0]?.text).toBe('上转 Up-referral');
    expect(out.reasonCode?.[0]?.text).toBe('控制不满意 Poor control');
    expect(out.priority).toBe('urgent');
    expect(out.requester).toEqual({ reference: 'Practitioner/village-doctor' });
    expect(out.extension).toEqual([{ url: NCD_EXTENSIONS.sendingOrganization, valueReference: { reference: 'Organization/village-clinic' } }]);
    expect(sr.fromFhir(out).domain).toEqual(upReferral);
  });

  test('references whose target type the string does not say are typed, so sender and receiver stay apart', () => {
    const shape: ReferralShape = { ...upReferral, fromPractitionerRef: undefined, toPractitionerRef: undefined, fromOrganizationRef: 'urn:uuid:a', toOrganizationRef: 'urn:uuid:b' };
    const out = sr.toFhir(shape, { id: 'r2' });
    expect(out.requester).toEqual({ reference: 'urn:uuid:a', type: 'Organization' });
    expect(sr.fromFhir(out).domain).toEqual(shape);
  });

  test('the referral stub Synthea puts in claims reads as a completed non-referral request', () => {
    const stub = loadSharedResources().find((r) => r.resource.resourceType === 'ServiceRequest' && r.resource.id === 'referral')!.resource as ServiceRequest;
    expect(sr.fromFhir(stub).domain).toMatchObject({ isReferral: false, requestStatus: 'completed', urgency: ReferralUrgency.ROUTINE });
  });

  test('request status follows the referral lifecycle', () => {
    expect(Object.values(ReferralStatus).map(requestStatusOf)).toEqual(['active', 'active', 'revoked', 'completed', 'revoked']);
    expect(referralStatusOfRequest('completed')).toBe(ReferralStatus.COMPLETED);
    expect(referralStatusOfRequest('draft')).toBe(ReferralStatus.REQUESTED);
  });
});

describe('Task (referral workflow)', () => {
  const requested: ReferralTaskShape = {
    referralRef: 'ServiceRequest/r1',
    patientRef: 'Patient/p1',
    status: ReferralStatus.REQUESTED,
    intent: 'order',
    requesterRef: 'Practitioner/village-doctor',
    ownerRef: 'Organization/county-hospital',
    requestedAt: new Date('2026-11-20T02:00:00Z'),
  };
  const accepted: ReferralTaskShape = { ...requested, status: ReferralStatus.ACCEPTED, acceptedAt: new Date('2026-11-20T05:00:00Z') };
  const completed: ReferralTaskShape = { ...accepted, status: ReferralStatus.COMPLETED, completedAt: new Date('2026-11-25T09:00:00Z'), outcomeSummary: '调整为氨氯地平+缬沙坦，两周后乡镇随访' };
  const rejected: ReferralTaskShape = { ...requested, status: ReferralStatus.REJECTED, rejectedAt: new Date('2026-11-20T04:00:00Z'), statusReason: '床位已满，请转市医院' };
  const cancelled: ReferralTaskShape = { ...accepted, status: ReferralStatus.CANCELLED, cancelledAt: new Date('2026-11-21T04:00:00Z'), statusReason: 'patient declined' };

  test.each([
    ['requested', requested],
    ['accepted', accepted],
    ['completed', completed],
    ['rejected', rejected],
    ['cancelled', cancelled],
  ])('a %s referral is a valid Task that reads back with each step time', (status, shape) => {
    const out = task.toFhir(shape, { id: 't1' });
    valid(out);
    expect(out.status).toBe(status);
    expect(out.businessStatus?.text).toMatch(/^\S+ [A-Z]/);
    expect(task.fromFhir(out).domain).toEqual({ ...shape, taskStatus: status });
  });

  test('the completed Task carries the outcome and its execution period', () => {
    const out = task.toFhir(completed, { id: 't1' });
    expect(out.executionPeriod).toEqual({ start: '2026-11-20T05:00:00.000Z', end: '2026-11-25T09:00:00.000Z' });
    expect(out.output?.[0]?.valueString).toBe(completed.outcomeSummary);
    expect(out.focus).toEqual({ reference: 'ServiceRequest/r1' });
  });

  test('a hospital Task in progress reads as accepted; completing it keeps its own elements', () => {
    const received: Task = {
      resourceType: 'Task',
      id: 'remote-7',
      meta: { profile: ['http://example.org/StructureDefinition/referral-task'] },
      extension: [{ url: 'http://example.org/ward', valueString: 'Cardiology 3' }],
      identifier: [{ system: 'http://county-hospital.example/tasks', value: 'T-7' }],
      status: 'in-progress',
      intent: 'order',
      focus: { reference: 'ServiceRequest/remote-sr-7' },
      for: { reference: 'Patient/remote-p', display: '李雷' },
      authoredOn: '2026-11-20T10:00:00+08:00',
      executionPeriod: { start: '2026-11-20T13:00:00+08:00' },
      owner: { reference: 'Practitioner/remote-cardio' },
    };
    const { domain, original } = task.fromFhir(received);
    expect(domain).toMatchObject({ status: ReferralStatus.ACCEPTED, taskStatus: 'in-progress', acceptedAt: new Date('2026-11-20T05:00:00Z') });
    expect(task.toFhir(domain, { id: 'remote-7', original })).toEqual(received);

    const done = task.toFhir({ ...domain, status: ReferralStatus.COMPLETED, completedAt: new Date('2026-11-22T01:00:00Z'), outcomeSummary: 'new regimen' }, { id: 'local-7', original });
    valid(done);
    expect(done).toMatchObject({
      status: 'completed',
      extension: received.extension,
      identifier: received.identifier,
      for: received.for,
      executionPeriod: { start: received.executionPeriod!.start, end: '2026-11-22T01:00:00.000Z' },
      lastModified: '2026-11-22T01:00:00.000Z',
    });
  });
});
