import { Arg, Ctx, Field, FieldResolver, ID, InputType, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Condition } from '../../domain/condition/condition.entity.js';
import { Observation } from '../../domain/observation/observation.entity.js';
import { Organization } from '../../domain/organization/organization.entity.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import { Practitioner } from '../../domain/practitioner/practitioner.entity.js';
import { Referral, ReferralDirection, ReferralReason, ReferralStatus, ReferralUrgency } from '../../domain/referral/referral.entity.js';
import type { CreateReferralInput as CreateReferral, ReferralFilter } from '../../domain/referral/referral.service.js';
import type { WaitingFilter } from '../../domain/referral/waiting.js';
import { Connection } from '../connection.js';
import { notFound } from '../../domain/errors.js';
import type { Context } from '../context.js';
import { CLIENT_ID, createOnce } from '../client-id.js';

export const ReferralConnection = Connection(Referral, 'Referral');

@InputType()
export class CreateReferralInput implements CreateReferral {
  @Field(() => ID, CLIENT_ID)
  id?: string;

  @Field(() => ID)
  patientId!: string;

  @Field(() => ReferralDirection, { nullable: true, description: "UP or DOWN: what the two organisations' levels give when not said; said, it must agree with them." })
  direction?: ReferralDirection;

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

  @Field(() => ID, {
    nullable: true,
    description: 'A down-referral: the up-referral it closes (the same patient, sent up to the organisation now sending them back, accepted or completed). One still accepted is completed by it.',
  })
  closesReferralId?: string;
}

@InputType({ description: 'Referrals waiting for a receiver: open (REQUESTED: to accept or reject; ACCEPTED: to complete) and addressed to it.' })
export class ReferralsWaitingInput implements WaitingFilter {
  @Field(() => ID, { nullable: true, description: "The receiving organisation, and every one below it. With neither this nor practitionerId: the caller's organisation, or the caller." })
  organizationId?: string;

  @Field(() => ID, { nullable: true, description: 'The practitioner they are addressed to.' })
  practitionerId?: string;

  @Field(() => ReferralStatus, { nullable: true, description: 'REQUESTED or ACCEPTED; both when not given.' })
  status?: ReferralStatus;

  @Field(() => ReferralDirection, { nullable: true })
  direction?: ReferralDirection;
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

  @Query(() => ReferralConnection, { description: 'Referrals waiting for a receiver (an organisation and those below it, or a practitioner): urgent first, then the longest waiting.' })
  async referralsWaiting(
    @Ctx() ctx: Context,
    @Arg('filter', () => ReferralsWaitingInput, { nullable: true }) filter?: ReferralsWaitingInput,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', { nullable: true }) after?: string,
  ) {
    return ReferralConnection.from(await ctx.services.referrals.waiting({ ...filter }, first, after));
  }

  @Mutation(() => Referral)
  createReferral(@Arg('input', () => CreateReferralInput) input: CreateReferralInput, @Ctx() ctx: Context) {
    return createOnce(ctx, 'createReferral', { id: input.id, patientId: input.patientId, args: { input } }, (services, id) => services.referrals.create({ ...input, id }));
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
    @Arg('outcomeObservationIds', () => [ID], { nullable: true, description: "Readings of the patient's taken at the receiver's visit." }) outcomeObservationIds?: string[],
    @Arg('outcomeConditionIds', () => [ID], { nullable: true, description: "Diagnoses of the patient's made or confirmed at the receiver's visit." }) outcomeConditionIds?: string[],
  ) {
    const results = outcomeObservationIds || outcomeConditionIds ? { observationIds: outcomeObservationIds ?? [], conditionIds: outcomeConditionIds ?? [] } : undefined;
    return ctx.services.referrals.transition(id, 'complete', { expectedVersion: version, outcomeSummary, results });
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

  @FieldResolver(() => Referral, { nullable: true, description: 'A down-referral: the up-referral it closes (null when there is none, or you may not see it).' })
  closes(@Root() r: Referral, @Ctx() ctx: Context) {
    return r.closes ? ctx.loaders.referral.load(r.closes.id) : null;
  }

  @FieldResolver(() => [Referral], { description: 'An up-referral: the down-referrals that close it, oldest first.' })
  closedBy(@Root() r: Referral, @Ctx() ctx: Context) {
    return ctx.loaders.referralsClosing.load(r.id);
  }

  @FieldResolver(() => [Observation], { description: "Readings the receiver sent back with the outcome (FHIR: the Task's output)." })
  async outcomeReadings(@Root() r: Referral, @Ctx() ctx: Context) {
    const results = await ctx.loaders.resultsByReferral.load(r.id);
    const found = await Promise.all(results.filter((x) => x.observation).map((x) => ctx.loaders.observation.load(x.observation!.id)));
    return found.filter((o): o is Observation => !!o);
  }

  @FieldResolver(() => [Condition], { description: "Diagnoses the receiver sent back with the outcome (FHIR: the Task's output)." })
  async outcomeDiagnoses(@Root() r: Referral, @Ctx() ctx: Context) {
    const results = await ctx.loaders.resultsByReferral.load(r.id);
    const found = await Promise.all(results.filter((x) => x.condition).map((x) => ctx.loaders.condition.load(x.condition!.id)));
    return found.filter((c): c is Condition => !!c);
  }
}
