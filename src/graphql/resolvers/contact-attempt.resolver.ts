import { Arg, Ctx, Field, FieldResolver, ID, InputType, Int, Mutation, Resolver, Root } from 'type-graphql';
import { ContactAttempt, ContactMethod, ContactOutcome } from '../../domain/contact-attempt/contact-attempt.entity.js';
import type { RecordContactAttemptInput as RecordContactAttempt } from '../../domain/contact-attempt/contact-attempt.service.js';
import { FollowUp } from '../../domain/follow-up/follow-up.entity.js';
import { Organization } from '../../domain/organization/organization.entity.js';
import { CareStatus, Patient } from '../../domain/patient/patient.entity.js';
import { Practitioner } from '../../domain/practitioner/practitioner.entity.js';
import type { Context } from '../context.js';
import { CLIENT_ID, createOnce } from '../client-id.js';
import { LocalDate } from '../scalars.js';

@InputType()
export class RecordContactAttemptInput implements RecordContactAttempt {
  @Field(() => ID, CLIENT_ID)
  id?: string;

  @Field(() => ID)
  patientId!: string;

  @Field(() => ID, { nullable: true, description: "The overdue planned visit the attempt is about; the patient's earliest open planned visit when not given." })
  followUpId?: string;

  @Field({ nullable: true, description: 'Now when not given.' })
  attemptedAt?: Date;

  @Field(() => ContactMethod)
  method!: ContactMethod;

  @Field(() => ContactOutcome, { description: 'MOVED and DIED set the patient’s care status (MOVED_AWAY, DIED).' })
  outcome!: ContactOutcome;

  @Field(() => LocalDate, { nullable: true, description: 'REACHED only: the day the patient said they will come.' })
  willComeOn?: string;

  @Field({ nullable: true })
  note?: string;

  @Field(() => ID, { nullable: true, description: 'Who called: you when not given, else a practitioner of your organisation or one below it.' })
  practitionerId?: string;

  @Field(() => ID, { nullable: true })
  organizationId?: string;
}

@Resolver(() => ContactAttempt)
export class ContactAttemptResolver {
  @Mutation(() => ContactAttempt, { description: 'Records an attempt to reach an overdue patient; its outcome decides the next overdue lists (docs/care-model.md).' })
  recordContactAttempt(@Arg('input', () => RecordContactAttemptInput) input: RecordContactAttemptInput, @Ctx() ctx: Context): Promise<ContactAttempt> {
    return createOnce(ctx, 'recordContactAttempt', { id: input.id, patientId: input.patientId, args: { input } }, (services, id) => services.contactAttempts.record({ ...input, id }));
  }

  @Mutation(() => Patient, { description: 'Sets whether the programme still looks after the patient; leaving needs a reason. CONFLICT on a stale version.' })
  setPatientCareStatus(
    @Arg('patientId', () => ID) patientId: string,
    @Arg('status', () => CareStatus) status: CareStatus,
    @Arg('version', () => Int, { description: 'The version you read; a stale one is a CONFLICT.' }) version: number,
    @Ctx() ctx: Context,
    @Arg('on', () => LocalDate, { nullable: true, description: 'The day it took effect; today when not given.' }) on?: string,
    @Arg('reason', () => String, { nullable: true, description: 'Why (required for every status but ACTIVE), e.g. where the patient moved to.' }) reason?: string,
  ): Promise<Patient> {
    return ctx.services.careStatus.set(patientId, version, { status, on, reason });
  }

  @FieldResolver(() => Patient)
  patient(@Root() a: ContactAttempt, @Ctx() ctx: Context) {
    return ctx.loaders.patient.load(a.patient.id);
  }

  @FieldResolver(() => FollowUp, { nullable: true, description: 'The overdue planned visit the attempt was about.' })
  followUp(@Root() a: ContactAttempt, @Ctx() ctx: Context) {
    return a.followUp ? ctx.loaders.followUp.load(a.followUp.id) : null;
  }

  @FieldResolver(() => Practitioner, { nullable: true })
  practitioner(@Root() a: ContactAttempt, @Ctx() ctx: Context) {
    return a.practitioner ? ctx.loaders.practitioner.load(a.practitioner.id) : null;
  }

  @FieldResolver(() => Organization, { nullable: true })
  organization(@Root() a: ContactAttempt, @Ctx() ctx: Context) {
    return a.organization ? ctx.loaders.organization.load(a.organization.id) : null;
  }
}

@Resolver(() => Patient)
export class PatientContactAttemptResolver {
  @FieldResolver(() => [ContactAttempt], { description: 'Attempts to reach the patient about missed visits, newest first.' })
  contactAttempts(@Root() p: Patient, @Ctx() ctx: Context) {
    return ctx.loaders.contactAttemptsByPatient.load(p.id);
  }
}
