import type { Condition } from '@medplum/fhirtypes';
import { ClinicalStatus, VerificationStatus } from '../vocabulary/index.js';
import { ConditionKind, SYSTEMS } from './codes.js';
import { conditionMapping as m } from './condition.js';
import type { ConditionShape } from './domain-shapes.js';
import { loadSharedResources } from './test-support/shared-data.js';
import { errorsOf, validateFhir } from './validate.js';

const conditions = loadSharedResources()
  .map((r) => r.resource)
  .filter((r): r is Condition => r.resourceType === 'Condition');
const snomed = (...codes: string[]) => conditions.filter((c) => c.code?.coding?.some((x) => x.system === SYSTEMS.snomed && codes.includes(x.code!)));
const valid = (r: Condition) => expect(errorsOf(validateFhir(r))).toEqual([]);

describe('classification of the shared data', () => {
  test('hypertension (SNOMED 38341003, 59621000) and type 2 diabetes (44054006) get their kind', () => {
    const htn = snomed('38341003', '59621000');
    const t2d = snomed('44054006');
    expect(htn.length).toBeGreaterThan(5);
    expect(t2d.length).toBeGreaterThan(3);
    for (const c of htn) expect(m.fromFhir(c).domain.kind).toBe(ConditionKind.HYPERTENSION);
    for (const c of t2d) expect(m.fromFhir(c).domain.kind).toBe(ConditionKind.TYPE_2_DIABETES);
  });

  test('everything else is OTHER, and a text-only condition keeps its text as display', () => {
    const others = conditions.filter((c) => !snomed('38341003', '59621000', '44054006').includes(c));
    const kinds = new Set(others.map((c) => m.fromFhir(c).domain.kind));
    expect(kinds.has(ConditionKind.HYPERTENSION) || kinds.has(ConditionKind.TYPE_2_DIABETES)).toBe(false);
    const asthma = conditions.find((c) => c.id === 'example2')!;
    expect(m.fromFhir(asthma).domain).toMatchObject({ kind: ConditionKind.OTHER, display: 'Asthma', onsetDate: undefined });
  });
});

describe('ICD-10', () => {
  const withCode = (system: string, code: string): Condition => ({
    resourceType: 'Condition',
    subject: { reference: 'Patient/1' },
    code: { coding: [{ system: 'http://example.org/local', code: 'X1' }, { system, code }] },
  });
  test.each([
    ['I10', ConditionKind.HYPERTENSION],
    ['I11.9', ConditionKind.HYPERTENSION],
    ['I15.0', ConditionKind.HYPERTENSION],
    ['E11.9', ConditionKind.TYPE_2_DIABETES],
    ['E10.9', ConditionKind.OTHER],
    ['I16.0', ConditionKind.OTHER],
  ])('%s is %s, found behind a local coding', (code, kind) => {
    for (const system of [SYSTEMS.icd10, 'http://hl7.org/fhir/sid/icd-10-cm', SYSTEMS.icd10cn]) {
      const { domain } = m.fromFhir(withCode(system, code));
      expect(domain.kind).toBe(kind);
      if (kind !== ConditionKind.OTHER) expect(domain).toMatchObject({ system, code });
    }
  });
  test('a missing status reads as active / unconfirmed, not as confirmed', () => {
    expect(m.fromFhir(withCode(SYSTEMS.icd10, 'I10')).domain).toMatchObject({ clinicalStatus: ClinicalStatus.ACTIVE, verificationStatus: VerificationStatus.UNCONFIRMED });
  });
});

describe('domain-only conditions', () => {
  const htn: ConditionShape = {
    patientRef: 'Patient/p1',
    code: 'I10',
    system: SYSTEMS.icd10,
    kind: ConditionKind.HYPERTENSION,
    onsetDate: '2024-03-01',
    clinicalStatus: ClinicalStatus.ACTIVE,
    verificationStatus: VerificationStatus.CONFIRMED,
    confirmedByRef: 'Organization/county-hospital',
    confirmedAt: new Date('2024-03-02T09:00:00Z'),
  };

  test('carry a coded display and a Chinese + English text, and read back', () => {
    const out = m.toFhir(htn, { id: 'c1' });
    valid(out);
    expect(out.code).toEqual({ coding: [{ system: SYSTEMS.icd10, code: 'I10', display: 'Hypertension' }], text: '高血压 Hypertension' });
    expect(m.fromFhir(out).domain).toEqual({ ...htn, display: 'Hypertension' });
  });

  test('entered-in-error has no clinical status (con-5)', () => {
    const out = m.toFhir({ ...htn, verificationStatus: VerificationStatus.ENTERED_IN_ERROR }, { id: 'c1' });
    expect(out.clinicalStatus).toBeUndefined();
    valid(out);
  });
});

describe('changes applied to a received condition', () => {
  const received: Condition = {
    resourceType: 'Condition',
    id: 'h1',
    meta: { profile: ['http://hl7.org/fhir/us/core/StructureDefinition/us-core-condition-problems-health-concerns'] },
    extension: [{ url: 'http://example.org/hospital-flag', valueBoolean: true }],
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'provisional' }] },
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }],
    code: {
      coding: [
        { system: SYSTEMS.snomed, code: '38341003', display: 'Hypertensive disorder' },
        { system: SYSTEMS.icd10, code: 'I10', display: 'Essential hypertension' },
      ],
      text: 'Hypertension',
    },
    subject: { reference: 'Patient/remote-1', display: 'Li Lei' },
    onsetString: 'spring 2019',
  };

  test('confirmation keeps the codes, profile, extension and category; the verification status changes', () => {
    const { domain, original } = m.fromFhir(received);
    const out = m.toFhir({ ...domain, verificationStatus: VerificationStatus.CONFIRMED, confirmedByRef: 'Organization/o1' }, { id: 'c9', original });
    valid(out);
    expect(out.code).toEqual(received.code);
    expect(out.meta?.profile).toEqual(received.meta?.profile);
    expect(out.category).toEqual(received.category);
    expect(out.verificationStatus?.coding?.[0]?.code).toBe('confirmed');
    expect(out.extension?.map((e) => e.url)).toEqual(['http://example.org/hospital-flag', 'https://ncd-gateway.example/fhir/StructureDefinition/condition-confirmation']);
  });

  test('a recoded condition replaces the code as a whole (no stale ICD-10 coding left beside it)', () => {
    const { domain, original } = m.fromFhir(received);
    const out = m.toFhir({ ...domain, code: '44054006', system: SYSTEMS.snomed, display: 'Diabetes mellitus type 2', kind: ConditionKind.TYPE_2_DIABETES }, { id: 'c9', original });
    expect(out.code).toEqual({ coding: [{ system: SYSTEMS.snomed, code: '44054006', display: 'Diabetes mellitus type 2' }], text: '2型糖尿病 Type 2 diabetes mellitus' });
    expect(out.subject).toEqual(received.subject);
  });

  test('an onset date replaces the onset string (one onset[x] only)', () => {
    const { domain, original } = m.fromFhir(received);
    const out = m.toFhir({ ...domain, onsetDate: '2019-04-01' }, { id: 'c9', original });
    expect(out.onsetString).toBeUndefined();
    expect(out.onsetDateTime).toBe('2019-04-01');
    valid(out);
  });

  test('a changed subject reference keeps its display', () => {
    const { domain, original } = m.fromFhir(received);
    expect(m.toFhir({ ...domain, patientRef: 'Patient/local-7' }, { id: 'c9', original }).subject).toEqual({ reference: 'Patient/local-7', display: 'Li Lei' });
  });
});
