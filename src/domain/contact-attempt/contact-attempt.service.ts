import type { EntityManager } from '../../db/orm.js';
import type { AccessPolicy } from '../../access/policy.js';
import { attributeOne } from '../../access/attribution.js';
import { countyToday } from '../../care-rules/calendar.js';
import { CLOCK_SKEW_MS } from '../../care-rules/plausibility.js';
import type { CareRules } from '../../care-rules/rules.js';
import { reassess } from '../../care/index.js';
import { badInput, isUuid } from '../errors.js';
import { FollowUp } from '../follow-up/follow-up.entity.js';
import { applyCareStatus } from '../patient/care-status.js';
import { mustFind } from '../patient/patient.service.js';
import { CareStatus, Patient } from '../patient/patient.entity.js';
import { ContactAttempt, ContactMethod, ContactOutcome } from './contact-attempt.entity.js';

export interface RecordContactAttemptInput {
  patientId: string;
  /** The overdue planned visit the call is about; the patient's earliest open planned visit when not given. */
  followUpId?: string | null;
  /** Now when not given. */
  attemptedAt?: Date | null;
  method: ContactMethod;
  outcome: ContactOutcome;
  /** REACHED only: the day the patient said they will come. */
  willComeOn?: string | null;
  note?: string | null;
  practitionerId?: string | null;
  organizationId?: string | null;
}

/** What a call's outcome says of the patient's programme status: they moved away, or died. */
const STATUS_OF: Partial<Record<ContactOutcome, CareStatus>> = { [ContactOutcome.MOVED]: CareStatus.MOVED_AWAY, [ContactOutcome.DIED]: CareStatus.DIED };

export class ContactAttemptService {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
    private readonly rules: CareRules,
  ) {}

  /**
   * Records an attempt to reach an overdue patient. A MOVED or DIED outcome sets the patient's care status (from
   * ACTIVE only: a status a person set stands), dated the day of the call, with the note as its reason; whether the
   * patient is on the next overdue lists follows from the outcome (src/care-rules/overdue-contact.ts). The patient
   * is reassessed in the same transaction.
   */
  async record(input: RecordContactAttemptInput): Promise<ContactAttempt> {
    this.policy.assertCan('Communication', 'c');
    const attemptedAt = input.attemptedAt ?? new Date();
    if (Number.isNaN(attemptedAt.getTime())) throw badInput('attemptedAt is not a time', 'attemptedAt');
    if (attemptedAt.getTime() > Date.now() + CLOCK_SKEW_MS) throw badInput('attemptedAt is in the future', 'attemptedAt');
    const attemptedOn = countyToday(attemptedAt);
    if (input.willComeOn && input.outcome !== ContactOutcome.REACHED) throw badInput('willComeOn is for a REACHED patient only', 'willComeOn');
    if (input.willComeOn && input.willComeOn < attemptedOn) throw badInput('willComeOn is before the attempt', 'willComeOn');
    if (input.outcome === ContactOutcome.WRONG_NUMBER && input.method !== ContactMethod.PHONE && input.method !== ContactMethod.SMS) {
      throw badInput('WRONG_NUMBER is an outcome of a call or a message', 'outcome');
    }
    return this.em.transactional(async (em) => {
      const patient = await mustFind(em, Patient, input.patientId, 'patientId');
      if (patient.birthDate && attemptedOn < patient.birthDate) throw badInput('attemptedAt is before the birth date', 'attemptedAt');
      const followUp = await this.overdueVisit(em, patient, input.followUpId);
      const by = await attributeOne(em, this.policy, input, { practitioner: 'practitionerId', organization: 'organizationId' });
      const note = input.note?.trim() || undefined;
      const attempt = em.create(ContactAttempt, {
        patient,
        followUp,
        attemptedAt,
        method: input.method,
        outcome: input.outcome,
        willComeOn: input.willComeOn ?? undefined,
        phone: patient.phone,
        note,
        practitioner: by.practitioner,
        organization: by.organization,
        version: 1,
      } as never) as ContactAttempt;
      const status = STATUS_OF[input.outcome];
      if (status && patient.careStatus === CareStatus.ACTIVE) {
        applyCareStatus(patient, { status, on: attemptedOn, reason: note ?? `${input.outcome} (overdue contact attempt)` }, 'note');
      }
      await em.flush();
      await reassess(em as EntityManager, { patientIds: [patient.id] }, this.rules, countyToday());
      return attempt;
    });
  }

  /** The planned visit named (the patient's, not yet done), or the patient's earliest open planned visit. */
  private async overdueVisit(em: EntityManager, patient: Patient, followUpId: string | null | undefined): Promise<FollowUp | undefined> {
    if (followUpId) {
      const named = isUuid(followUpId) ? await em.findOne(FollowUp, { id: followUpId, patient }) : null;
      if (!named) throw badInput(`followUpId: no follow-up ${followUpId} of this patient`, 'followUpId');
      if (!named.plannedDate || named.doneDate) throw badInput('followUpId must name a planned visit not yet done', 'followUpId');
      return named;
    }
    const open = await em.findOne(FollowUp, { patient, plannedDate: { $ne: null }, doneDate: null }, { orderBy: { plannedDate: 'asc', id: 'asc' } });
    return open ?? undefined;
  }
}
