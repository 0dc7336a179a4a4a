import { Arg, Ctx, Field, FieldResolver, ID, InputType, Mutation, ObjectType, Resolver, Root } from 'type-graphql';
import { ControlStatus } from '../../care-rules/control.js';
import { FollowUp, FollowUpType } from '../../domain/follow-up/follow-up.entity.js';
import type { RecordFollowUpInput as RecordFollowUp } from '../../domain/follow-up/follow-up.service.js';
import { Organization } from '../../domain/organization/organization.entity.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import { Practitioner } from '../../domain/practitioner/practitioner.entity.js';
import type { Context } from '../context.js';
import { LocalDate } from '../scalars.js';

@InputType()
export class RecordFollowUpInput implements RecordFollowUp {
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

  @Field(() => ControlStatus, { nullable: true })
  controlStatus?: ControlStatus;

  @Field({ nullable: true })
  adverseReaction?: boolean;

  @Field({ nullable: true })
  newComplication?: boolean;

  @Field(() => LocalDate, { nullable: true, description: 'Overrides the interval set by the follow-up rules.' })
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

  @Field({ description: 'The follow-up rules advise a referral up (two uncontrolled visits, a new complication, or urgent).' })
  referralAdvised!: boolean;

  @Field({ description: 'Urgent referral now (e.g. SBP ≥ 180 or DBP ≥ 110).' })
  urgent!: boolean;
}

@Resolver(() => FollowUp)
export class FollowUpResolver {
  @Mutation(() => RecordFollowUpPayload)
  recordFollowUp(@Arg('input', () => RecordFollowUpInput) input: RecordFollowUpInput, @Ctx() ctx: Context) {
    return ctx.services.followUps.record(input);
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
