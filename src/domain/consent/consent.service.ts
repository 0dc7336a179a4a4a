import type { AccessPolicy } from '../../access/policy.js';
import type { EntityManager } from '../../db/orm.js';
import { badInput } from '../errors.js';
import { mustFind } from '../patient/patient.service.js';
import { Patient } from '../patient/patient.entity.js';
import { Practitioner } from '../practitioner/practitioner.entity.js';
import { Consent, ConsentDecision, ConsentPurpose } from './consent.entity.js';

export interface RecordConsentInput {
  patientId: string;
  purpose: ConsentPurpose;
  decision: ConsentDecision;
  periodStart: string;
  periodEnd?: string | null;
  note?: string | null;
}

export class ConsentService {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
  ) {}

  /** Records a patient's decision; the newest decision in force for a purpose is the one the policy honours. */
  async record(input: RecordConsentInput): Promise<Consent> {
    this.policy.assertCan('Consent', 'c');
    if (input.periodEnd && input.periodEnd < input.periodStart) throw badInput('periodEnd is before periodStart', 'periodEnd');
    return this.em.transactional(async (em) => {
      const patient = await mustFind(em, Patient, input.patientId, 'patientId');
      const recordedBy = this.policy.caller.practitionerId;
      const consent = em.create(Consent, {
        patient,
        purpose: input.purpose,
        decision: input.decision,
        periodStart: input.periodStart,
        periodEnd: input.periodEnd ?? undefined,
        note: input.note ?? undefined,
        recordedBy: recordedBy ? em.getReference(Practitioner, recordedBy) : undefined,
        version: 1,
      } as never) as Consent;
      await em.flush();
      return consent;
    });
  }
}
