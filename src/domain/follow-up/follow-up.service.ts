import type { EntityManager } from '../../db/orm.js';
import type { AccessPolicy } from '../../access/policy.js';
import { attributeOne } from '../../access/attribution.js';
import { ControlStatus } from '../../care-rules/control.js';
import { addDays, nextFollowUp } from '../../care-rules/follow-up-interval.js';
import { type CareRules, DEFAULT_CARE_RULES } from '../../care-rules/rules.js';
import { badInput } from '../errors.js';
import { mustFind } from '../patient/patient.service.js';
import { Patient } from '../patient/patient.entity.js';
import { FollowUp, FollowUpType } from './follow-up.entity.js';
import { countyToday } from '../../care-rules/calendar.js';

export interface RecordFollowUpInput {
  patientId: string;
  type: FollowUpType;
  plannedDate?: string | null;
  doneDate?: string | null;
  findings?: string | null;
  controlStatus?: ControlStatus | null;
  adverseReaction?: boolean | null;
  newComplication?: boolean | null;
  /** Overrides the interval the care rules would set. */
  nextDueDate?: string | null;
  /** Who saw the patient: the caller when not given; else the caller or a colleague (attribution.ts). */
  practitionerId?: string | null;
  /** Where: the caller's organisation when not given; else it or one below it. */
  organizationId?: string | null;
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
   * Records a planned or a done visit. For a done visit the next due date follows the care rules from
   * this visit's outcome and the previous visit's control status, unless the clinician sets one.
   */
  async record(input: RecordFollowUpInput): Promise<RecordedFollowUp> {
    this.policy.assertCan('Encounter', 'c');
    this.check(input);
    return this.em.transactional(async (em) => {
      const recorded = await this.write(em, undefined, input, true);
      await em.flush();
      return recorded;
    });
  }

  /**
   * A visit a hospital or another system sent (a FHIR Encounter), created or updated under the resource's id in
   * the caller's unit of work (the caller flushes): the same rules as `record`. Who saw the patient and where are
   * what the resource says, never the caller by default.
   */
  async put(id: string, input: RecordFollowUpInput, existing?: FollowUp | null): Promise<RecordedFollowUp> {
    this.policy.assertCan('Encounter', existing ? 'u' : 'c');
    this.check(input);
    return this.write(this.em, existing ?? { id }, input, false);
  }

  private check(input: RecordFollowUpInput): void {
    const today = countyToday();
    if (!input.plannedDate && !input.doneDate) throw badInput('give a plannedDate, a doneDate, or both', 'doneDate');
    if (input.doneDate && input.doneDate > today) throw badInput('doneDate is in the future', 'doneDate');
    if (!input.doneDate && (input.controlStatus || input.findings)) throw badInput('findings belong to a done visit (doneDate)', 'doneDate');
    const reference = input.doneDate ?? input.plannedDate!;
    if (input.nextDueDate && input.nextDueDate <= reference) throw badInput('nextDueDate must be after the visit', 'nextDueDate');
  }

  /** `into`: the visit to update, or the id a new one takes (a new id when absent). */
  private async write(em: EntityManager, into: FollowUp | { id: string } | undefined, input: RecordFollowUpInput, defaults: boolean): Promise<RecordedFollowUp> {
    const reference = input.doneDate ?? input.plannedDate!;
    const patient = await mustFind(em, Patient, input.patientId, 'patientId');
    const by = await attributeOne(em, this.policy, input, { practitioner: 'practitionerId', organization: 'organizationId' }, defaults);
    if (patient.birthDate && reference < patient.birthDate) throw badInput('the visit is before the patient was born', 'doneDate');
    let step = { days: 0, referralAdvised: false, urgent: false };
    let nextDueDate = input.nextDueDate ?? undefined;
    if (input.doneDate) {
      const previous = await em.findOne(
        FollowUp,
        { patient, doneDate: { $ne: null, $lte: input.doneDate }, controlStatus: { $ne: null }, ...(into ? { id: { $ne: into.id } } : {}) },
        { orderBy: { doneDate: 'desc', id: 'desc' } },
      );
      step = nextFollowUp(
        {
          controlStatus: input.controlStatus ?? undefined,
          adverseReaction: input.adverseReaction ?? false,
          newComplication: input.newComplication ?? false,
          previousControlStatus: previous?.controlStatus,
        },
        this.rules,
      );
      nextDueDate ??= addDays(input.doneDate, step.days);
    }
    const data = {
      patient,
      type: input.type,
      plannedDate: input.plannedDate ?? undefined,
      doneDate: input.doneDate ?? undefined,
      findings: input.findings ?? undefined,
      controlStatus: input.controlStatus ?? undefined,
      adverseReaction: input.adverseReaction ?? false,
      newComplication: input.newComplication ?? false,
      nextDueDate,
      practitioner: by.practitioner,
      organization: by.organization,
    };
    const followUp =
      into instanceof FollowUp ? em.assign(into, data as never) : (em.create(FollowUp, { ...(into ? { id: into.id } : {}), ...data, version: 1 } as never) as FollowUp);
    return { followUp, referralAdvised: step.referralAdvised, urgent: step.urgent };
  }
}
