import { Arg, Ctx, Field, FieldResolver, ID, InputType, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ConditionKind } from '../../../fhir-mappings/codes.js';
import { CarePlan, CarePlanStatus } from '../../domain/care-plan/care-plan.entity.js';
import { CareTeam } from '../../domain/care-team/care-team.entity.js';
import { ClinicalStatus, Condition } from '../../domain/condition/condition.entity.js';
import { Coverage } from '../../domain/coverage/coverage.entity.js';
import { Consent } from '../../domain/consent/consent.entity.js';
import { FollowUp } from '../../domain/follow-up/follow-up.entity.js';
import { MedicationUse } from '../../domain/medication/medication.entity.js';
import { MedicationService } from '../../domain/medication/medication.service.js';
import { Admission } from '../../domain/admission/admission.entity.js';
import { Observation, ObservationKind } from '../../domain/observation/observation.entity.js';
import { Grid, Organization } from '../../domain/organization/organization.entity.js';
import { Gender } from '../../domain/patient/gender.js';
import { CareStatus, ManagementColour, ManagementTier, Patient, PatientIdentifier } from '../../domain/patient/patient.entity.js';
import type { PatientFields, PatientFilter } from '../../domain/patient/patient.service.js';
import { Referral } from '../../domain/referral/referral.entity.js';
import { Connection } from '../connection.js';
import type { Context } from '../context.js';
import { latestOf } from '../loaders.js';
import { LocalDate } from '../scalars.js';
import { ObservationConnection } from './observation.resolver.js';
import { countyToday } from '../../care-rules/calendar.js';
import { isUuid, notFound } from '../../domain/errors.js';

export const PatientConnection = Connection(Patient, 'Patient');

@InputType()
export class IdentifierInput {
  @Field()
  system!: string;

  @Field()
  value!: string;
}

@InputType()
export class PatientFilterInput implements PatientFilter {
  @Field(() => ID, { nullable: true, description: 'Managed by this organisation or any of its sub-organisations.' })
  organizationId?: string;

  @Field(() => ID, { nullable: true })
  careTeamId?: string;

  @Field(() => ID, { nullable: true })
  gridId?: string;

  @Field(() => ConditionKind, { nullable: true, description: 'Has an active condition of this kind.' })
  conditionKind?: ConditionKind;

  @Field(() => ManagementTier, { nullable: true })
  managementTier?: ManagementTier;

  @Field(() => ManagementColour, { nullable: true })
  managementColour?: ManagementColour;

  @Field({ nullable: true, description: 'Name prefix, or an exact identifier value.' })
  search?: string;

  @Field(() => [CareStatus], { nullable: true, description: 'Only patients of these care statuses; every status when not given (worklists show ACTIVE patients only).' })
  careStatuses?: CareStatus[];
}

@InputType()
export class PatientInput implements PatientFields {
  @Field({ nullable: true })
  name?: string;

  @Field(() => Gender, { nullable: true })
  gender?: Gender;

  @Field(() => LocalDate, { nullable: true })
  birthDate?: string;

  @Field(() => String, { nullable: true })
  phone?: string | null;

  @Field(() => String, { nullable: true })
  address?: string | null;

  @Field(() => ID, { nullable: true })
  gridId?: string | null;

  @Field(() => ID, { nullable: true })
  managingOrganizationId?: string;

  @Field(() => ID, { nullable: true })
  familyDoctorTeamId?: string | null;

  @Field(() => LocalDate, { nullable: true })
  contractSignedOn?: string | null;

  @Field(() => LocalDate, { nullable: true })
  contractExpiresOn?: string | null;

  @Field(() => ManagementTier, { nullable: true })
  managementTier?: ManagementTier | null;

  @Field(() => ManagementColour, { nullable: true })
  managementColour?: ManagementColour | null;

  @Field(() => String, { nullable: true, description: 'Required when setting managementTier or managementColour by hand.' })
  managementOverrideReason?: string | null;

  @Field(() => LocalDate, { nullable: true, description: 'With a hand-set tier/colour: the override stands until this date (default: a year from today, care rules `management.overrideReviewDays`) or a newer health assessment.' })
  managementOverrideReviewOn?: string | null;

  @Field(() => [IdentifierInput], { nullable: true, description: 'Replaces all identifiers when given.' })
  identifiers?: IdentifierInput[];
}

@InputType()
export class RegisterPatientInput extends PatientInput {
  @Field()
  declare name: string;

  @Field(() => Gender)
  declare gender: Gender;

  @Field(() => ID)
  declare managingOrganizationId: string;
}

const ACTIVE_CLINICAL = [ClinicalStatus.ACTIVE, ClinicalStatus.RECURRENCE, ClinicalStatus.RELAPSE];

/** Only the fields the client sent: GraphQL input objects carry absent fields as undefined already. */
function sent<T extends object>(input: T): T {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as T;
}

@Resolver(() => Patient)
export class PatientResolver {
  @Query(() => Patient, { description: 'NOT_FOUND when there is no such patient.' })
  async patient(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Patient> {
    // Read as the nested fields are (loaders: a record from its row, the policy in SQL), not through the unit of work.
    const patient = isUuid(id) ? await ctx.loaders.patient.load(id) : null;
    if (!patient) throw notFound('Patient', id);
    return patient;
  }

  @Query(() => Patient, { nullable: true, description: 'Null when no patient holds this identifier.' })
  patientByIdentifier(@Arg('system') system: string, @Arg('value') value: string, @Ctx() ctx: Context): Promise<Patient | null> {
    return ctx.services.patients.findByIdentifier(system, value);
  }

  @Query(() => PatientConnection)
  async patients(
    @Ctx() ctx: Context,
    @Arg('filter', () => PatientFilterInput, { nullable: true }) filter?: PatientFilterInput,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', { nullable: true }) after?: string,
  ) {
    return PatientConnection.from(await ctx.services.patients.search(sent(filter ?? {}), first, after));
  }

  @Mutation(() => Patient)
  registerPatient(@Arg('input', () => RegisterPatientInput) input: RegisterPatientInput, @Ctx() ctx: Context): Promise<Patient> {
    return ctx.services.patients.register(sent(input));
  }

  @Mutation(() => Patient, { description: 'Fields left out are unchanged; null clears a field.' })
  updatePatient(
    @Arg('id', () => ID) id: string,
    @Arg('version', () => Int, { description: 'The version you read; a stale one is a CONFLICT.' }) version: number,
    @Arg('input', () => PatientInput) input: PatientInput,
    @Ctx() ctx: Context,
  ): Promise<Patient> {
    return ctx.services.patients.update(id, version, sent(input));
  }

  @FieldResolver(() => [PatientIdentifier])
  identifiers(@Root() p: Patient, @Ctx() ctx: Context) {
    return ctx.loaders.identifiersByPatient.load(p.id);
  }

  @FieldResolver(() => Int, { nullable: true, description: 'Age in whole years today.' })
  age(@Root() p: Patient): number | null {
    if (!p.birthDate) return null;
    const today = countyToday();
    const years = Number(today.slice(0, 4)) - Number(p.birthDate.slice(0, 4));
    return today.slice(5) < p.birthDate.slice(5) ? years - 1 : years;
  }

  @FieldResolver(() => Organization)
  managingOrganization(@Root() p: Patient, @Ctx() ctx: Context) {
    return ctx.loaders.organization.load(p.managingOrganization.id);
  }

  @FieldResolver(() => Grid, { nullable: true })
  grid(@Root() p: Patient, @Ctx() ctx: Context) {
    return p.grid ? ctx.loaders.grid.load(p.grid.id) : null;
  }

  @FieldResolver(() => CareTeam, { nullable: true })
  familyDoctorTeam(@Root() p: Patient, @Ctx() ctx: Context) {
    return p.familyDoctorTeam ? ctx.loaders.careTeam.load(p.familyDoctorTeam.id) : null;
  }

  @FieldResolver(() => [Condition])
  async conditions(
    @Root() p: Patient,
    @Ctx() ctx: Context,
    @Arg('kind', () => ConditionKind, { nullable: true }) kind?: ConditionKind,
    @Arg('activeOnly', { defaultValue: false }) activeOnly: boolean = false,
  ) {
    const all = await ctx.loaders.conditionsByPatient.load(p.id);
    return all.filter((c) => (!kind || c.kind === kind) && (!activeOnly || ACTIVE_CLINICAL.includes(c.clinicalStatus)));
  }

  @FieldResolver(() => ObservationConnection, { description: 'Newest first.' })
  async observations(
    @Root() p: Patient,
    @Ctx() ctx: Context,
    @Arg('kind', () => ObservationKind, { nullable: true }) kind?: ObservationKind,
    @Arg('from', { nullable: true }) from?: Date,
    @Arg('to', { nullable: true }) to?: Date,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', { nullable: true }) after?: string,
  ) {
    const page = await ctx.services.observations.search({ patientId: p.id, kinds: kind ? [kind] : undefined, from, to }, first, after);
    return ObservationConnection.from(page);
  }

  @FieldResolver(() => Observation, { nullable: true })
  latestBloodPressure(@Root() p: Patient, @Ctx() ctx: Context) {
    return latestOf(ctx.loaders, p.id, [ObservationKind.BLOOD_PRESSURE]);
  }

  @FieldResolver(() => Observation, { nullable: true, description: 'Latest glucose reading, fasting or not (see `kind`).' })
  latestGlucose(@Root() p: Patient, @Ctx() ctx: Context, @Arg('fastingOnly', { defaultValue: false }) fastingOnly: boolean = false) {
    return latestOf(ctx.loaders, p.id, fastingOnly ? [ObservationKind.FASTING_GLUCOSE] : [ObservationKind.FASTING_GLUCOSE, ObservationKind.GLUCOSE]);
  }

  @FieldResolver(() => Observation, { nullable: true })
  latestHbA1c(@Root() p: Patient, @Ctx() ctx: Context) {
    return latestOf(ctx.loaders, p.id, [ObservationKind.HBA1C]);
  }

  @FieldResolver(() => [CarePlan])
  async carePlans(@Root() p: Patient, @Ctx() ctx: Context, @Arg('status', () => CarePlanStatus, { nullable: true }) status?: CarePlanStatus) {
    const plans = await ctx.loaders.carePlansByPatient.load(p.id);
    return status ? plans.filter((c) => c.status === status) : plans;
  }

  @FieldResolver(() => [Referral], { description: 'Newest first.' })
  referrals(@Root() p: Patient, @Ctx() ctx: Context) {
    return ctx.loaders.referralsByPatient.load(p.id);
  }

  @FieldResolver(() => [FollowUp], { description: 'Newest first.' })
  followUps(@Root() p: Patient, @Ctx() ctx: Context) {
    return ctx.loaders.followUpsByPatient.load(p.id);
  }

  @FieldResolver(() => [Admission], { description: 'Hospital stays and emergency visits hospitals reported, newest first.' })
  admissions(@Root() p: Patient, @Ctx() ctx: Context) {
    return ctx.loaders.admissionsByPatient.load(p.id);
  }

  @FieldResolver(() => [Consent], { description: 'Consent decisions, newest first.' })
  consents(@Root() p: Patient, @Ctx() ctx: Context) {
    return ctx.loaders.consentsByPatient.load(p.id);
  }

  @FieldResolver(() => [Coverage])
  coverages(@Root() p: Patient, @Ctx() ctx: Context) {
    return ctx.loaders.coveragesByPatient.load(p.id);
  }

  @FieldResolver(() => [MedicationUse], { description: 'Medicines as prescriptions and statements say them, newest first; current: active and not ended today (county calendar).' })
  async medications(@Root() p: Patient, @Ctx() ctx: Context, @Arg('current', { defaultValue: true }) current: boolean = true) {
    const all = await ctx.loaders.medicationsByPatient.load(p.id);
    if (!current) return all;
    const today = countyToday();
    return all.filter((m) => MedicationService.isCurrent(m, today));
  }
}
