import { Arg, Ctx, Field, FieldResolver, Float, ID, InputType, Mutation, ObjectType, Resolver, Root } from 'type-graphql';
import { ObservationKind, ObservationSource } from '../../domain/observation/observation.entity.js';
import { FollowUp, FollowUpType } from '../../domain/follow-up/follow-up.entity.js';
import type { RecordedFollowUp, RecordFollowUpInput as RecordFollowUp, VisitReadingInput as VisitReading } from '../../domain/follow-up/follow-up.service.js';
import type { AnswerShape } from '../../offline/write-once.js';
import { CLIENT_ID, createOnce } from '../client-id.js';
import { Organization } from '../../domain/organization/organization.entity.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import { Practitioner } from '../../domain/practitioner/practitioner.entity.js';
import type { Context } from '../context.js';
import { LocalDate } from '../scalars.js';

@InputType({ description: 'A reading taken at a visit: as RecordObservationInput, of the visit’s patient.' })
export class VisitReadingInput implements VisitReading {
  @Field(() => ObservationKind, { nullable: true, description: 'Give a kind or a LOINC code.' })
  kind?: ObservationKind;

  @Field({ nullable: true })
  code?: string;

  @Field(() => Float, { nullable: true })
  value?: number;

  @Field({ nullable: true })
  unit?: string;

  @Field(() => Float, { nullable: true })
  systolic?: number;

  @Field(() => Float, { nullable: true })
  diastolic?: number;

  @Field({ description: 'When it was taken: on the visit’s day (county calendar).' })
  effectiveAt!: Date;

  @Field(() => ObservationSource, { nullable: true, defaultValue: ObservationSource.CLINIC })
  source?: ObservationSource;

  @Field(() => ID, { nullable: true })
  performerId?: string;

  @Field(() => ID, { nullable: true })
  organizationId?: string;

  @Field({ nullable: true })
  deviceId?: string;

  @Field({ nullable: true, defaultValue: false })
  confirmImplausible?: boolean;
}

@InputType()
export class RecordFollowUpInput implements RecordFollowUp {
  @Field(() => ID, CLIENT_ID)
  id?: string;

  @Field(() => ID)
  patientId!: string;

  @Field(() => FollowUpType)
  type!: FollowUpType;

  @Field(() => LocalDate, { nullable: true })
  plannedDate?: string;

  @Field(() => LocalDate, { nullable: true, description: 'Set when the visit took place.' })
  doneDate?: string;

  @Field({ nullable: true })
  findings?: string;

  @Field({ nullable: true, description: 'Danger signs found besides the readings: the visit is URGENT (its control status is otherwise derived from its readings).' })
  dangerSigns?: boolean;

  @Field(() => ID, { nullable: true, description: 'The planned visit this one fulfils (its row becomes the done visit); unnamed, the patient’s open planned visit.' })
  plannedFollowUpId?: string;

  @Field(() => [VisitReadingInput], { nullable: true, description: 'Readings taken at the visit (that day): recorded as recordObservation records them, linked to the visit, and what its control status is derived from.' })
  readings?: VisitReadingInput[];

  @Field({ nullable: true })
  adverseReaction?: boolean;

  @Field({ nullable: true })
  newComplication?: boolean;

  @Field(() => LocalDate, { nullable: true, description: 'A date the clinician wants the next visit by: taken when earlier than the follow-up rules’ date (due reason CLINICIAN), never later.' })
  nextDueDate?: string;

  @Field(() => ID, { nullable: true })
  practitionerId?: string;

  @Field(() => ID, { nullable: true })
  organizationId?: string;
}

@ObjectType()
export class RecordFollowUpPayload {
  @Field(() => FollowUp)
  followUp!: FollowUp;

  @Field({ description: 'The follow-up rules advise a referral up (two uncontrolled visits in a row, a new complication, or urgent) — not when an up-referral is already requested or accepted.' })
  referralAdvised!: boolean;

  @Field({ description: 'The visit is URGENT (a reading with SBP ≥ 180 or DBP ≥ 110, glucose ≥ 16.7 or ≤ 3.9, or danger signs): refer now.' })
  urgent!: boolean;
}

/** recordFollowUp's answer holds the visit; its advice is kept as it was answered (src/offline/write-once.ts). */
const RECORDED_VISIT: AnswerShape<RecordedFollowUp> = {
  record: (a) => a.followUp,
  // Scalars only (the advice): a record in the answer would not survive as JSON.
  kept: ({ followUp: _visit, ...advice }) => Object.fromEntries(Object.entries(advice).filter(([, v]) => v === null || typeof v !== 'object')),
  rebuild: (followUp, kept) => ({ ...kept, followUp }) as RecordedFollowUp,
};

@Resolver(() => FollowUp)
export class FollowUpResolver {
  @Mutation(() => RecordFollowUpPayload)
  recordFollowUp(@Arg('input', () => RecordFollowUpInput) input: RecordFollowUpInput, @Ctx() ctx: Context) {
    return createOnce(ctx, 'recordFollowUp', { id: input.id, patientId: input.patientId, args: { input } }, (services, id) => services.followUps.record({ ...input, id }), RECORDED_VISIT);
  }

  @FieldResolver(() => Patient)
  patient(@Root() f: FollowUp, @Ctx() ctx: Context) {
    return ctx.loaders.patient.load(f.patient.id);
  }

  @FieldResolver(() => Practitioner, { nullable: true })
  practitioner(@Root() f: FollowUp, @Ctx() ctx: Context) {
    return f.practitioner ? ctx.loaders.practitioner.load(f.practitioner.id) : null;
  }

  @FieldResolver(() => Organization, { nullable: true })
  organization(@Root() f: FollowUp, @Ctx() ctx: Context) {
    return f.organization ? ctx.loaders.organization.load(f.organization.id) : null;
  }
}
