import { Arg, Ctx, Field, FieldResolver, ID, InputType, Mutation, Resolver, Root } from 'type-graphql';
import { ClinicalStatus, Condition, VerificationStatus } from '../../domain/condition/condition.entity.js';
import type { AddConditionInput as AddCondition } from '../../domain/condition/condition.service.js';
import { Organization } from '../../domain/organization/organization.entity.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import type { Context } from '../context.js';
import { LocalDate } from '../scalars.js';

@InputType()
export class AddConditionInput implements AddCondition {
  @Field(() => ID)
  patientId!: string;

  @Field({ description: 'SNOMED CT or ICD-10 code, e.g. I10, E11.9, 38341003.' })
  code!: string;

  @Field({ description: 'http://snomed.info/sct or an ICD-10 system URI.' })
  system!: string;

  @Field({ nullable: true })
  display?: string;

  @Field(() => LocalDate, { nullable: true })
  onsetDate?: string;

  @Field(() => ClinicalStatus, { nullable: true, defaultValue: ClinicalStatus.ACTIVE })
  clinicalStatus?: ClinicalStatus;

  @Field(() => VerificationStatus, { nullable: true, defaultValue: VerificationStatus.CONFIRMED })
  verificationStatus?: VerificationStatus;

  @Field(() => ID, { nullable: true, description: 'The organisation that confirmed the diagnosis.' })
  confirmedByOrganizationId?: string;
}

@Resolver(() => Condition)
export class ConditionResolver {
  @Mutation(() => Condition)
  addCondition(@Arg('input', () => AddConditionInput) input: AddConditionInput, @Ctx() ctx: Context) {
    return ctx.services.conditions.add(input);
  }

  @FieldResolver(() => Patient)
  patient(@Root() c: Condition, @Ctx() ctx: Context) {
    return ctx.loaders.patient.load(c.patient.id);
  }

  @FieldResolver(() => Organization, { nullable: true })
  confirmedBy(@Root() c: Condition, @Ctx() ctx: Context) {
    return c.confirmedBy ? ctx.loaders.organization.load(c.confirmedBy.id) : null;
  }
}
