import type { AccessPolicy } from '../../access/policy.js';
import type { EntityManager } from '../../db/orm.js';
import { badInput, isUuid } from '../errors.js';
import { mustFind } from '../patient/patient.service.js';
import { Patient } from '../patient/patient.entity.js';
import { Practitioner } from '../practitioner/practitioner.entity.js';
import { Unresolved } from '../unresolved.js';
import { Consent, ConsentDecision, ConsentPurpose } from './consent.entity.js';

export interface RecordConsentInput {
  patientId: string;
  purpose: ConsentPurpose;
  decision: ConsentDecision;
  periodStart: string;
  periodEnd?: string | null;
  note?: string | null;
}

/** A decision another system recorded (a FHIR Consent), under its own id. */
export interface SentConsentInput extends RecordConsentInput {
  /** The practitioner who recorded it, when the domain knows them. */
  recordedById?: string;
}

export class ConsentService {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
  ) {}

  /** The rules every consent decision is held to, whoever records it. */
  static check(input: RecordConsentInput): void {
    if (input.periodEnd && input.periodEnd < input.periodStart) throw badInput('periodEnd is before periodStart', 'periodEnd');
  }

  /** Records a patient's decision; the newest decision in force for a purpose is the one the policy honours. */
  async record(input: RecordConsentInput): Promise<Consent> {
    this.policy.assertCan('Consent', 'c');
    ConsentService.check(input);
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

  /**
   * Creates or updates a decision under the sender's id (a FHIR Consent), with the rules `record` applies, in the
   * caller's unit of work (not flushed: the caller flushes). A patient the domain does not hold (or the caller
   * cannot see) leaves it out: Unresolved. A practitioner the domain does not know is left out of `recordedBy`.
   */
  async saveUnderId(id: string, input: SentConsentInput, created: boolean): Promise<Consent | Unresolved> {
    const em = this.em;
    const existing = created ? null : await em.findOne(Consent, { id }, { filters: false });
    this.policy.assertCan('Consent', existing ? 'u' : 'c');
    ConsentService.check(input);
    const patient = isUuid(input.patientId) ? await em.findOne(Patient, { id: input.patientId }) : null;
    if (!patient) return new Unresolved(`patient ${input.patientId} is not in the domain`, 'patient');
    const recordedBy = input.recordedById && isUuid(input.recordedById) ? await em.findOne(Practitioner, { id: input.recordedById }) : null;
    const data = {
      patient,
      purpose: input.purpose,
      decision: input.decision,
      periodStart: input.periodStart,
      periodEnd: input.periodEnd ?? undefined,
      note: input.note ?? undefined,
      recordedBy: recordedBy ?? undefined,
    };
    if (existing) return em.assign(existing, data as never);
    return em.create(Consent, { id, version: 1, ...data } as never) as Consent;
  }

  /** Removes the decision under an id: a Consent no longer active (withdrawn as a record, entered in error) decides nothing. */
  async removeUnderId(id: string): Promise<void> {
    const existing = await this.em.findOne(Consent, { id }, { filters: false });
    if (!existing) return;
    this.policy.assertCan('Consent', 'u');
    this.em.remove(existing);
  }
}
