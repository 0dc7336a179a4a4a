import type { Coverage, Organization, Reference } from '@medplum/fhirtypes';
import { CoverageStatus } from '../vocabulary/index.js';
import { datePart, defineMapping, refOf, toReference } from './common.js';
import type { CoverageShape } from './domain-shapes.js';

export const coverageMapping = defineMapping<Coverage, CoverageShape>({
  resourceType: 'Coverage',
  read(c) {
    const payor = c.payor?.[0];
    return {
      patientRef: refOf(c.beneficiary, 'Patient'),
      insurerRef: refOf(payor, 'Organization'),
      insurerName: payor?.display,
      memberNumber: c.subscriberId ?? c.identifier?.find((i) => i.value)?.value,
      plan: c.type?.text ?? c.type?.coding?.find((x) => x.display)?.display,
      // Draft and entered-in-error memberships cover nobody: for payment they count as cancelled.
      status: c.status === 'active' ? CoverageStatus.ACTIVE : CoverageStatus.CANCELLED,
      periodStart: datePart(c.period?.start, 'Coverage.period.start'),
      periodEnd: datePart(c.period?.end, 'Coverage.period.end'),
    };
  },
  build(s) {
    const payor: Reference<Organization> = { ...toReference(s.insurerRef, 'Organization'), display: s.insurerName };
    return {
      resourceType: 'Coverage',
      status: s.status === CoverageStatus.ACTIVE ? 'active' : 'cancelled',
      type: s.plan ? { text: s.plan } : undefined,
      subscriberId: s.memberNumber,
      beneficiary: toReference(s.patientRef)!,
      period: { start: s.periodStart, end: s.periodEnd },
      payor: [payor],
    };
  },
  merge: { atomic: ['type'], arrays: { payor: 'indexed' } },
});
