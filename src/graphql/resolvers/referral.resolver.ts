import { Arg, Ctx, Field, FieldResolver, ID, InputType, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Organization } from '../../domain/organization/organization.entity.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import { Practitioner } from '../../domain/practitioner/practitioner.entity.js';
import { Referral, ReferralDirection, ReferralReason, ReferralStatus, ReferralUrgency } from '../../domain/referral/referral.entity.js';
import type { CreateReferralInput as CreateReferral, ReferralFilter } from '../../domain/referral/referral.service.js';
import { Connection } from '../connection.js';
import { notFound } from '../../domain/errors.js';
import type { Context } from '../context.js';

export const ReferralConnection = Connection(Referral, 'Referral');

@InputType()
export class CreateReferralInput implements CreateReferral {
  @Field(() => ID)
  patientId!: string;

  @Field(() => ReferralDirection)
  direction!: ReferralDirection;

  @Field(() => ID)
  fromOrganizationId!: string;

  @Field(() => ID)
  toOrganizationId!: string;

  @Field(() => ID, { nullable: true })
  fromPractitionerId?: string;

  @Field(() => ID, { nullable: true })
  toPractitionerId?: string;

  @Field(() => ReferralReason)
  reason!: ReferralReason;

  @Field({ nullable: true })
  reasonText?: string;

  @Field(() => ReferralUrgency, { nullable: true, defaultValue: ReferralUrgency.ROUTINE })
  urgency?: ReferralUrgency;

  @Field({ nullable: true })
  clinicalSummary?: string;
}

@InputType()
export class ReferralFilterInput implements ReferralFilter {
  @Field(() => ReferralDirection, { nullable: true })
  direction?: ReferralDirection;

  @Field(() => ReferralStatus, { nullable: true })
  status?: ReferralStatus;

  @Field(() => ID, { nullable: true })
  fromOrganizationId?: string;

  @Field(() => ID, { nullable: true })
  toOrganizationId?: string;

  @Field(() => ID, { nullable: true })
  patientId?: string;
}

const versionArg = { nullable: true, description: 'The version you read; a stale one is a CONFLICT.' };

@Resolver(() => Referral)
export class ReferralResolver {
  @Query(() => Referral)
  referral(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return ctx.services.referrals.get(id);
  }

  @Query(() => ReferralConnection, { description: 'Newest first.' })
  async referrals(
    @Ctx() ctx: Context,
    @Arg('filter', () => ReferralFilterInput, { nullable: true }) filter?: ReferralFilterInput,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', { nullable: true }) after?: string,
  ) {
    return ReferralConnection.from(await ctx.services.referrals.search({ ...filter }, first, after));
  }

  @Mutation(() => Referral)
  createReferral(@Arg('input', () => CreateReferralInput) input: CreateReferralInput, @Ctx() ctx: Context) {
    return ctx.services.referrals.create(input);
  }

  @Mutation(() => Referral)
  acceptReferral(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: Context,
    @Arg('version', () => Int, versionArg) version?: number,
    @Arg('toPractitionerId', () => ID, { nullable: true, description: 'Who takes the patient on.' }) toPractitionerId?: string,
  ) {
    return ctx.services.referrals.transition(id, 'accept', { expectedVersion: version, toPractitionerId });
  }

  @Mutation(() => Referral)
  rejectReferral(@Arg('id', () => ID) id: string, @Arg('reason') reason: string, @Ctx() ctx: Context, @Arg('version', () => Int, versionArg) version?: number) {
    return ctx.services.referrals.transition(id, 'reject', { expectedVersion: version, reason });
  }

  @Mutation(() => Referral)
  completeReferral(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: Context,
    @Arg('outcomeSummary', { nullable: true }) outcomeSummary?: string,
    @Arg('version', () => Int, versionArg) version?: number,
  ) {
    return ctx.services.referrals.transition(id, 'complete', { expectedVersion: version, outcomeSummary });
  }

  @Mutation(() => Referral)
  cancelReferral(@Arg('id', () => ID) id: string, @Arg('reason') reason: string, @Ctx() ctx: Context, @Arg('version', () => Int, versionArg) version?: number) {
    return ctx.services.referrals.transition(id, 'cancel', { expectedVersion: version, reason });
  }

  @FieldResolver(() => Patient, {
    nullable: true,
    description: "A referral sent to or from your organisation can name a patient you may not see: then NOT_FOUND.",
  })
  async patient(@Root() r: Referral, @Ctx() ctx: Context) {
    const patient = await ctx.loaders.patient.load(r.patient.id);
    if (!patient) throw notFound('Patient', r.patient.id);
    return patient;
  }

  @FieldResolver(() => Organization)
  fromOrganization(@Root() r: Referral, @Ctx() ctx: Context) {
    return ctx.loaders.organization.load(r.fromOrganization.id);
  }

  @FieldResolver(() => Organization)
  toOrganization(@Root() r: Referral, @Ctx() ctx: Context) {
    return ctx.loaders.organization.load(r.toOrganization.id);
  }

  @FieldResolver(() => Practitioner, { nullable: true })
  fromPractitioner(@Root() r: Referral, @Ctx() ctx: Context) {
    return r.fromPractitioner ? ctx.loaders.practitioner.load(r.fromPractitioner.id) : null;
  }

  @FieldResolver(() => Practitioner, { nullable: true })
  toPractitioner(@Root() r: Referral, @Ctx() ctx: Context) {
    return r.toPractitioner ? ctx.loaders.practitioner.load(r.toPractitioner.id) : null;
  }
}
