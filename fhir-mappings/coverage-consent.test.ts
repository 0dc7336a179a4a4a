import type { Consent, Coverage } from '@medplum/fhirtypes';
import { ConsentDecision, ConsentPurpose, CoverageStatus } from '../vocabulary/index.js';
import { consentMapping as consents } from './consent.js';
import { coverageMapping as coverages } from './coverage.js';
import type { ConsentShape, CoverageShape } from './domain-shapes.js';
import { loadSharedResources } from './test-support/shared-data.js';
import { errorsOf, validateFhir } from './validate.js';

const valid = (r: Coverage | Consent) => expect(errorsOf(validateFhir(r))).toEqual([]);

describe('Coverage', () => {
  const membership: CoverageShape = {
    patientRef: 'Patient/p1',
    insurerRef: 'Organization/county-insurance-bureau',
    insurerName: '赞皇县医疗保障局',
    memberNumber: '130129000012345',
    plan: '城乡居民基本医疗保险',
    status: CoverageStatus.ACTIVE,
    periodStart: '2026-01-01',
    periodEnd: '2026-12-31',
  };

  test('a domain-only membership is valid and reads back', () => {
    const out = coverages.toFhir(membership, { id: 'cov1' });
    valid(out);
    expect(out.payor).toEqual([{ reference: 'Organization/county-insurance-bureau', display: '赞皇县医疗保障局' }]);
    expect(coverages.fromFhir(out).domain).toEqual(membership);
  });

  test('Synthea coverages (payor by name only) read their plan and insurer name', () => {
    const cov = loadSharedResources().map((r) => r.resource).filter((r): r is Coverage => r.resourceType === 'Coverage');
    expect(cov.length).toBeGreaterThan(100);
    for (const c of cov) expect(coverages.fromFhir(c).domain).toMatchObject({ status: CoverageStatus.ACTIVE, plan: c.type!.text, insurerName: c.payor[0]!.display });
  });

  test('a cancelled membership keeps the received payor reference and display', () => {
    const received: Coverage = { resourceType: 'Coverage', status: 'active', beneficiary: { reference: 'Patient/x' }, payor: [{ reference: 'Organization/ins', display: 'Insurer' }], subscriberId: 'M1' };
    const { domain, original } = coverages.fromFhir(received);
    const out = coverages.toFhir({ ...domain, status: CoverageStatus.CANCELLED }, { id: 'c', original });
    expect(out).toEqual({ ...received, id: 'c', status: 'cancelled' });
  });
});

describe('Consent', () => {
  const sharing: ConsentShape = {
    patientRef: 'Patient/p1',
    status: 'active',
    purpose: ConsentPurpose.INSURER_SHARING,
    decision: ConsentDecision.DENY,
    periodStart: '2026-03-01',
    periodEnd: '2027-02-28',
    recordedAt: new Date('2026-03-01T02:00:00Z'),
    recordedByRef: 'Practitioner/gp-1',
    note: '本人拒绝向医保局共享随访数据',
  };

  test.each(Object.values(ConsentPurpose))('a %s decision is a valid Consent (policy, scope, category, purpose of use) and reads back', (purpose) => {
    for (const decision of Object.values(ConsentDecision)) {
      const shape = { ...sharing, purpose, decision };
      const out = consents.toFhir(shape, { id: 'k1' });
      valid(out);
      expect(out.provision?.type).toBe(decision === ConsentDecision.DENY ? 'deny' : 'permit');
      expect(consents.fromFhir(out).domain).toEqual(shape);
    }
  });

  test('insurer sharing is a privacy consent whose purpose of use is healthcare payment, with a bilingual category', () => {
    const out = consents.toFhir(sharing, { id: 'k1' });
    expect(out.scope.coding?.[0]?.code).toBe('patient-privacy');
    expect(out.provision?.purpose).toEqual([{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HPAYMT', display: 'healthcare payment' }]);
    expect(out.category[0]?.text).toBe('向医保机构共享健康数据 Sharing health data with the insurer');
  });

  test('a hospital consent read by its purpose of use; extending its period keeps the rest', () => {
    const received: Consent = {
      resourceType: 'Consent',
      status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      patient: { reference: 'Patient/remote' },
      policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
      sourceAttachment: { contentType: 'application/pdf', url: 'http://example.org/consent.pdf' },
      provision: { type: 'permit', period: { start: '2026-01-01' }, purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HPAYMT' }] },
    };
    const { domain, original } = consents.fromFhir(received);
    expect(domain).toMatchObject({ purpose: ConsentPurpose.INSURER_SHARING, decision: ConsentDecision.PERMIT, periodStart: '2026-01-01' });
    const out = consents.toFhir({ ...domain, periodEnd: '2026-12-31' }, { id: 'k', original });
    valid(out);
    expect(out).toEqual({ ...received, id: 'k', provision: { ...received.provision, period: { start: '2026-01-01', end: '2026-12-31' } } });
  });
});
