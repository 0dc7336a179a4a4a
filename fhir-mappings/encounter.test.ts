import type { Encounter } from '@medplum/fhirtypes';
import { ControlStatus, FollowUpType } from '../vocabulary/index.js';
import { EncounterKind, type EncounterShape } from './domain-shapes.js';
import { encounterMapping as m } from './encounter.js';
import { loadSharedResources } from './test-support/shared-data.js';
import { errorsOf, validateFhir } from './validate.js';

const encounters = loadSharedResources()
  .map((r) => r.resource)
  .filter((r): r is Encounter => r.resourceType === 'Encounter');
const valid = (r: Encounter) => expect(errorsOf(validateFhir(r))).toEqual([]);

test('shared encounters: inpatient classes are admissions, SNOMED follow-up visits are follow-ups', () => {
  for (const e of encounters) {
    const { kind } = m.fromFhir(e).domain;
    if (['IMP', 'ACUTE', 'NONAC'].includes(e.class.code!)) expect(kind).toBe(EncounterKind.ADMISSION);
    else if (e.type?.some((t) => t.coding?.some((c) => c.code === '390906007'))) expect(kind).toBe(EncounterKind.FOLLOW_UP);
    else if (e.class.code === 'EMER') expect(kind).toBe(EncounterKind.EMERGENCY);
    else expect(kind).toBe(EncounterKind.OTHER);
  }
  const kinds = encounters.map((e) => m.fromFhir(e).domain.kind);
  expect(kinds).toEqual(expect.arrayContaining([EncounterKind.ADMISSION, EncounterKind.FOLLOW_UP, EncounterKind.EMERGENCY, EncounterKind.OTHER]));
});

test('a Synthea follow-up reads its visit date; its participant and provider are logical references', () => {
  const fu = encounters.find((e) => e.type?.some((t) => t.coding?.some((c) => c.code === '390906007')) && e.serviceProvider?.reference?.includes('?'))!;
  const { domain } = m.fromFhir(fu);
  expect(domain.followUp).toMatchObject({ type: FollowUpType.CLINIC, doneDate: fu.period!.start!.slice(0, 10), adverseReaction: false });
  expect(domain.organizationRef).toBe(fu.serviceProvider!.reference);
});

describe('domain-only follow-ups', () => {
  const planned: EncounterShape = {
    kind: EncounterKind.FOLLOW_UP,
    status: 'planned',
    patientRef: 'Patient/p1',
    practitionerRef: 'Practitioner/vd-1',
    organizationRef: 'Organization/village-1',
    followUp: { type: FollowUpType.PHONE, plannedDate: '2026-12-04', adverseReaction: false, newComplication: false },
  };

  test('a planned telephone follow-up', () => {
    const out = m.toFhir(planned, { id: 'e1' });
    valid(out);
    expect(out.class).toEqual({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR', display: 'virtual' });
    expect(out.type?.[0]?.text).toBe('电话随访 Telephone follow-up');
    expect(m.fromFhir(out).domain).toMatchObject({ ...planned, classCode: 'VR' });
  });

  test('a finished follow-up with findings, control status, reactions and next due date', () => {
    const done: EncounterShape = {
      ...planned,
      status: 'finished',
      periodStart: new Date('2026-12-04T01:30:00Z'),
      followUp: {
        type: FollowUpType.HOME,
        plannedDate: '2026-12-04',
        doneDate: '2026-12-04',
        findings: '头晕，血压 162/98',
        controlStatus: ControlStatus.UNCONTROLLED,
        adverseReaction: true,
        newComplication: false,
        nextDueDate: '2026-12-18',
      },
    };
    const out = m.toFhir(done, { id: 'e2' });
    valid(out);
    expect(m.fromFhir(out).domain).toEqual({ ...done, classCode: 'HH' });
  });

  test('an admission', () => {
    const stay: EncounterShape = { kind: EncounterKind.ADMISSION, status: 'finished', patientRef: 'Patient/p1', periodStart: new Date('2026-10-01T00:00:00Z'), periodEnd: new Date('2026-10-09T00:00:00Z'), organizationRef: 'Organization/county' };
    const out = m.toFhir(stay, { id: 'e3' });
    valid(out);
    expect(out.class.code).toBe('IMP');
    expect(m.fromFhir(out).domain).toEqual({ ...stay, classCode: 'IMP' });
  });
});

test('recording the outcome of a received follow-up keeps the hospital’s participants and location', () => {
  const fu = encounters.find((e) => e.type?.some((t) => t.coding?.some((c) => c.code === '390906007')) && e.location)!;
  const { domain, original } = m.fromFhir(fu);
  const out = m.toFhir({ ...domain, followUp: { ...domain.followUp!, controlStatus: ControlStatus.CONTROLLED, nextDueDate: '2017-10-08' } }, { id: 'x', original });
  valid(out);
  expect(out.location).toEqual(fu.location);
  expect(out.participant).toEqual(fu.participant);
  expect(out.type).toEqual(fu.type);
  expect(m.fromFhir(out).domain.followUp).toMatchObject({ controlStatus: ControlStatus.CONTROLLED, nextDueDate: '2017-10-08' });
});
