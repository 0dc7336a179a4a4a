import { Arg, Ctx, Field, ID, Int, ObjectType, Query, Resolver } from 'type-graphql';
import { Alert } from '../../care/alerts/alert.entity.js';
import { CarePlan } from '../../domain/care-plan/care-plan.entity.js';
import { Condition } from '../../domain/condition/condition.entity.js';
import { ContactAttempt } from '../../domain/contact-attempt/contact-attempt.entity.js';
import { FollowUp } from '../../domain/follow-up/follow-up.entity.js';
import { Observation } from '../../domain/observation/observation.entity.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import { Referral } from '../../domain/referral/referral.entity.js';
import { changesSince } from '../../offline/changes.js';
import type { Context } from '../context.js';

@ObjectType({ description: 'A record the tablet holds that is gone: removed, or no longer yours to see. Drop it.' })
export class RemovedRecord {
  @Field({ description: 'Patient, Condition, Observation, FollowUp, CarePlan, Referral, Alert or ContactAttempt.' })
  type!: string;

  @Field(() => ID)
  id!: string;

  @Field(() => ID, { nullable: true })
  patientId?: string;

  /** Whose record it was: the audit names the patient (guards.ts touchRow reads `patient`). */
  patient?: { id: string };
}

@ObjectType({ description: 'What changed since a cursor (docs/api.md, "Offline sync"): records in their current state, and what to drop.' })
export class Changes {
  @Field(() => [Patient])
  patients!: Patient[];

  @Field(() => [Condition])
  conditions!: Condition[];

  @Field(() => [Observation])
  observations!: Observation[];

  @Field(() => [FollowUp], { description: 'Done and planned visits.' })
  followUps!: FollowUp[];

  @Field(() => [CarePlan], { description: 'With their goals and activities as they are now: replace the plan whole.' })
  carePlans!: CarePlan[];

  @Field(() => [Referral])
  referrals!: Referral[];

  @Field(() => [Alert])
  alerts!: Alert[];

  @Field(() => [ContactAttempt], { description: 'Attempts to reach overdue patients.' })
  contactAttempts!: ContactAttempt[];

  @Field(() => [RemovedRecord])
  removed!: RemovedRecord[];

  @Field(() => [ID], { description: 'Patients no longer yours to see: drop them and every record of theirs.' })
  removedPatientIds!: string[];

  @Field({ description: 'Who you see has changed: call again with the same cursor and heldPatientIds (nothing else is in this answer).' })
  viewChanged!: boolean;

  @Field({ description: 'Pass it as `since` next time (opaque). Keep the previous one until this answer is applied.' })
  cursor!: string;

  @Field({ description: 'Call again at once with the new cursor: more is waiting.' })
  hasMore!: boolean;
}

@Resolver()
export class SyncResolver {
  @Query(() => Changes, {
    description:
      'Incremental sync for tablets that work offline: without `since`, every record of your patients (in pages), then only what changed. Upsert records by id; drop `removed` and `removedPatientIds`; repeat while `hasMore`.',
  })
  async changes(
    @Ctx() ctx: Context,
    @Arg('since', { nullable: true, description: 'The cursor of the previous answer; none to start from scratch.' }) since?: string,
    @Arg('first', () => Int, { nullable: true, description: 'Patients (first sync) or changes per answer: default 100, at most 200.' }) first?: number,
    @Arg('heldPatientIds', () => [ID], { nullable: true, description: 'The patients the tablet holds: send them when an answer said viewChanged.' })
    heldPatientIds?: string[],
  ): Promise<Changes> {
    const page = await changesSince(ctx.em, ctx.policy, { since, first, heldPatientIds });
    for (const id of page.removedPatientIds) ctx.audit.touch(id);
    return Object.assign(new Changes(), {
      ...page.records,
      removed: page.removed.map((r) => Object.assign(new RemovedRecord(), { ...r, patientId: r.patientId ?? undefined, patient: r.patientId ? { id: r.patientId } : undefined })),
      removedPatientIds: page.removedPatientIds,
      viewChanged: page.viewChanged,
      cursor: page.cursor,
      hasMore: page.hasMore,
    });
  }
}
