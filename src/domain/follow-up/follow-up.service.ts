import type { EntityManager } from '../../db/orm.js';
import type { AccessPolicy } from '../../access/policy.js';
import { attributeOne } from '../../access/attribution.js';
import { referralAdviceOf } from '../../care-rules/follow-up-interval.js';
import { type CareRules, DEFAULT_CARE_RULES } from '../../care-rules/rules.js';
import { countyToday } from '../../care-rules/calendar.js';
import { isOpenPlannedVisit, OPEN_PLANNED_VISIT } from '../../care-rules/visits.js';
import { reassess } from '../../care/index.js';
import { ReferralDirection, ReferralStatus } from '../../../vocabulary/index.js';
import { badInput, conflict } from '../errors.js';
import { mustFind } from '../patient/patient.service.js';
import { Patient } from '../patient/patient.entity.js';
import { ObservationService, type RecordObservationInput } from '../observation/observation.service.js';
import { Referral } from '../referral/referral.entity.js';
import { FollowUp, FollowUpType } from './follow-up.entity.js';

/** A reading taken at the visit: recorded with it, by the rules of `recordObservation`, and linked to it. */
export type VisitReadingInput = Omit<RecordObservationInput, 'patientId' | 'followUpId'>;

export interface RecordFollowUpInput {
  /** A client-generated id for the visit (offline writes): see `write` for how it fulfils a planned visit. */
  id?: string | null;
  patientId: string;
  type: FollowUpType;
  plannedDate?: string | null;
  doneDate?: string | null;
  findings?: string | null;
  /** Danger signs besides the readings (the clinician's call): the visit is URGENT. */
  dangerSigns?: boolean | null;
  adverseReaction?: boolean | null;
  newComplication?: boolean | null;
  /** A date the clinician wants the next visit by: the rules take it when it is earlier than theirs. */
  nextDueDate?: string | null;
  /** Who saw the patient: the caller when not given; else the caller or a colleague (attribution.ts). */
  practitionerId?: string | null;
  /** Where: the caller's organisation when not given; else it or one below it. */
  organizationId?: string | null;
  /** The planned visit this one fulfils (or, for a planned visit, replans); unnamed, the patient's open planned visit. */
  plannedFollowUpId?: string | null;
  /** Readings taken at the visit (a done visit only). */
  readings?: VisitReadingInput[] | null;
}

export interface RecordedFollowUp {
  followUp: FollowUp;
  referralAdvised: boolean;
  urgent: boolean;
}

export class FollowUpService {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
    private readonly rules: CareRules = DEFAULT_CARE_RULES,
  ) {}

  /**
   * Records a planned or a done visit, with the readings taken at it. A done visit fills in the planned visit it
   * fulfils (named, else the patient's open one), so planned visits close; a planned one replans the open one.
   * Then, in a transaction of its own, the care rules reassess the patient (ADR 16): the answer carries the visit's
   * control status (from its readings), the next planned visit and the referral advice the rules give.
   */
  async record(input: RecordFollowUpInput): Promise<RecordedFollowUp> {
    this.policy.assertCan('Encounter', 'c');
    this.check(input);
    if (input.readings?.length) this.policy.assertCan('Observation', 'c');
    const followUp = await this.em.transactional(async (em) => {
      const written = await this.write(em, input.id ? { id: input.id, fresh: true } : undefined, input, true);
      await em.flush();
      if (input.readings?.length) {
        await new ObservationService(em, this.policy, this.rules).recordBatch(
          input.readings.map((r) => ({ ...r, patientId: input.patientId, followUpId: written.id })),
          'readings',
          input.doneDate ?? undefined,
        );
      }
      return written;
    });
    await this.em.transactional((em) => reassess(em, { patientIds: [followUp.patient.id] }, this.rules, countyToday()));
    return this.judged(followUp.id);
  }

  /**
   * A visit a hospital or another system sent (a FHIR Encounter), created or updated under the resource's id in
   * the caller's unit of work (the caller flushes): the same checks as `record`. Who saw the patient and where are
   * what the resource says, never the caller by default. A done visit fulfils no planned visit of ours (its id is
   * the sender's); the rules date the open one from it as from any visit, once the care-rules consumer has run. A
   * planned one is the patient's plan from then on, as the hospital dated it: the open one is cancelled (SUPERSEDED),
   * and the rules keep the hospital's date unless theirs is earlier (docs/care-model.md).
   */
  async put(id: string, input: RecordFollowUpInput, existing?: FollowUp | null): Promise<FollowUp> {
    this.policy.assertCan('Encounter', existing ? 'u' : 'c');
    this.check(input);
    return this.write(this.em, existing ?? { id }, input, false);
  }

  private check(input: RecordFollowUpInput): void {
    const today = countyToday();
    if (!input.plannedDate && !input.doneDate) throw badInput('give a plannedDate, a doneDate, or both', 'doneDate');
    if (input.doneDate && input.doneDate > today) throw badInput('doneDate is in the future', 'doneDate');
    if (!input.doneDate && (input.findings || input.dangerSigns || input.readings?.length)) throw badInput('findings and readings belong to a done visit (doneDate)', 'doneDate');
    const reference = input.doneDate ?? input.plannedDate!;
    if (input.nextDueDate && input.nextDueDate <= reference) throw badInput('nextDueDate must be after the visit', 'nextDueDate');
  }

  /**
   * `into`: the visit to update, or the id a new one takes. Without one, the visit is the planned visit it fulfils
   * (named, or the patient's open one), or a new one. A new visit under a client's id (`fresh`) cannot be the
   * planned row, so it takes the plan's date and the plan is closed as FULFILLED.
   */
  private async write(em: EntityManager, into: FollowUp | { id: string; fresh?: boolean } | undefined, input: RecordFollowUpInput, defaults: boolean): Promise<FollowUp> {
    const reference = input.doneDate ?? input.plannedDate!;
    const patient = await mustFind(em, Patient, input.patientId, 'patientId');
    const by = await attributeOne(em, this.policy, input, { practitioner: 'practitionerId', organization: 'organizationId' }, defaults);
    if (patient.birthDate && reference < patient.birthDate) throw badInput('the visit is before the patient was born', 'doneDate');
    const fresh = !!into && !(into instanceof FollowUp) && 'fresh' in into && into.fresh;
    const planned = !into || fresh ? await this.plannedVisit(em, patient, input.plannedFollowUpId) : undefined;
    // A patient has one open planned visit (the unique index follow_up_one_open_planned_unique). A new planned visit
    // under its own id — a client's, or a hospital's Encounter (`put`) — is the plan now: the open one is superseded.
    const opens = !input.doneDate;
    const superseded = fresh ? planned : into && opens ? await this.openVisitBesides(em, patient, into.id) : undefined;
    if (superseded) {
      em.assign(superseded, { cancelledAt: new Date(), cancelReason: input.doneDate ? 'FULFILLED' : 'SUPERSEDED' });
      // Written before the new plan: a flush inserts before it updates, and the index checks each row as written.
      if (opens) await em.flush();
    }
    const data = {
      patient,
      type: input.type,
      plannedDate: planned && input.doneDate ? planned.plannedDate : (input.plannedDate ?? undefined),
      doneDate: input.doneDate ?? undefined,
      findings: input.findings ?? undefined,
      dangerSigns: input.dangerSigns ?? false,
      adverseReaction: input.adverseReaction ?? false,
      newComplication: input.newComplication ?? false,
      // A planned visit's date as a person set it is their wish too: the rules keep it when it is the earlier.
      nextDueRequested: input.nextDueDate ?? (input.doneDate ? undefined : (input.plannedDate ?? undefined)),
      practitioner: by.practitioner,
      organization: by.organization,
    };
    const target = fresh ? { id: into!.id } : (into ?? planned);
    if (target instanceof FollowUp) return em.assign(target, data as never);
    return em.create(FollowUp, { ...(target ? { id: target.id } : {}), ...data, version: 1 } as never) as FollowUp;
  }

  /** The planned visit a new record fulfils: the one named (the patient's, still open), else the patient's open one. */
  private async plannedVisit(em: EntityManager, patient: Patient, id?: string | null): Promise<FollowUp | undefined> {
    if (id) {
      const named = await mustFind(em, FollowUp, id, 'plannedFollowUpId');
      if (named.patient.id !== patient.id) throw badInput('plannedFollowUpId is a visit of another patient', 'plannedFollowUpId');
      if (!isOpenPlannedVisit(named)) throw conflict(`follow-up ${id} is not an open planned visit (already done or cancelled)`);
      return named;
    }
    const open = await em.findOne(FollowUp, { patient, ...OPEN_PLANNED_VISIT }, { orderBy: { plannedDate: 'asc', id: 'asc' } });
    return open ?? undefined;
  }

  /** The patient's open planned visit, if it is another than `id`. */
  private async openVisitBesides(em: EntityManager, patient: Patient, id: string): Promise<FollowUp | undefined> {
    return (await em.findOne(FollowUp, { patient, ...OPEN_PLANNED_VISIT, id: { $ne: id } })) ?? undefined;
  }

  /** The visit as the rules left it, with their advice and the next planned visit. */
  private async judged(id: string): Promise<RecordedFollowUp> {
    // In the transaction of a caller that wraps the write (a client id: src/offline/write-once.ts), if any.
    const em = this.em.fork({ keepTransactionContext: true });
    const followUp = await em.findOneOrFail(FollowUp, { id }, { filters: false });
    const patient = followUp.patient;
    const previous = followUp.doneDate
      ? await em.findOne(
          FollowUp,
          { patient, id: { $ne: id }, doneDate: { $ne: null, $lte: followUp.doneDate }, cancelledAt: null, controlStatus: { $ne: null } },
          { orderBy: { doneDate: 'desc', id: 'desc' }, filters: false },
        )
      : null;
    const openUp = await em.count(Referral, { patient, direction: ReferralDirection.UP, status: { $in: [ReferralStatus.REQUESTED, ReferralStatus.ACCEPTED] } }, { filters: false });
    const advice = followUp.doneDate
      ? referralAdviceOf({ controlStatus: followUp.controlStatus, previousControlStatus: previous?.controlStatus, newComplication: followUp.newComplication, openUpReferral: openUp > 0 })
      : { referralAdvised: false, urgent: false };
    return { followUp, ...advice };
  }
}
