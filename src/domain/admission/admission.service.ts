import type { EntityManager } from '../../db/orm.js';
import type { AccessPolicy } from '../../access/policy.js';
import { attributeOne } from '../../access/attribution.js';
import { badInput } from '../errors.js';
import { mustFind } from '../patient/patient.service.js';
import { Patient } from '../patient/patient.entity.js';
import { Admission, type AdmissionKind, type AdmissionStatus } from './admission.entity.js';

export interface AdmissionInput {
  patientId: string;
  kind: AdmissionKind;
  status: AdmissionStatus;
  classCode?: string | null;
  /** The hospital: the caller's own organisation or one below it (attribution.ts). */
  organizationId?: string | null;
  periodStart: Date;
  periodEnd?: Date | null;
  reasonCode?: string | null;
  reasonSystem?: string | null;
  reasonDisplay?: string | null;
}

/**
 * Hospital stays and emergency visits. They are reported by hospitals (FHIR Encounters, src/fhir/projection/
 * encounter.ts), not recorded by hand; `put` writes one under the id its resource has, in the caller's unit of
 * work (the caller flushes).
 */
export class AdmissionService {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
  ) {}

  async put(id: string, input: AdmissionInput, existing?: Admission | null): Promise<Admission> {
    this.policy.assertCan('Encounter', existing ? 'u' : 'c');
    if (Number.isNaN(input.periodStart.getTime())) throw badInput('periodStart is not a time', 'periodStart');
    if (input.periodEnd && input.periodEnd < input.periodStart) throw badInput('the stay ends before it begins', 'periodEnd');
    const em = this.em;
    const patient = await mustFind(em, Patient, input.patientId, 'patientId');
    const by = await attributeOne(em, this.policy, { organizationId: input.organizationId }, { practitioner: 'practitionerId', organization: 'organizationId' }, false);
    const data = {
      patient,
      kind: input.kind,
      status: input.status,
      classCode: input.classCode ?? undefined,
      organization: by.organization,
      periodStart: input.periodStart,
      periodEnd: input.periodEnd ?? undefined,
      reasonCode: input.reasonCode ?? undefined,
      reasonSystem: input.reasonSystem ?? undefined,
      reasonDisplay: input.reasonDisplay ?? undefined,
    };
    if (existing) return em.assign(existing, data as never);
    return em.create(Admission, { id, version: 1, ...data } as never) as Admission;
  }
}
