import { Arg, Ctx, Field, FieldResolver, ID, InputType, Mutation, Resolver, Root } from 'type-graphql';
import { Assessment, AssessmentKind, Complication, RiskFactor, TargetOrganDamage } from '../../domain/assessment/assessment.entity.js';
import type { RecordAssessmentInput as RecordAssessment } from '../../domain/assessment/assessment.service.js';
import { Organization } from '../../domain/organization/organization.entity.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import { Practitioner } from '../../domain/practitioner/practitioner.entity.js';
import { ConditionKind } from '../../../vocabulary/index.js';
import type { Context } from '../context.js';
import { LocalDate } from '../scalars.js';

@InputType()
export class RecordAssessmentInput implements RecordAssessment {
  @Field(() => ID)
  patientId!: string;

  @Field(() => ConditionKind)
  conditionKind!: ConditionKind;

  @Field(() => AssessmentKind, { description: 'INITIAL (pathway step 3) or ANNUAL (the yearly re-assessment, step 7).' })
  kind!: AssessmentKind;

  @Field(() => LocalDate, { nullable: true, description: 'Today when not given.' })
  assessedOn?: string;

  @Field(() => [RiskFactor], { nullable: true })
  riskFactors?: RiskFactor[];

  @Field(() => [Complication], { nullable: true })
  complications?: Complication[];

  @Field(() => [TargetOrganDamage], { nullable: true })
  targetOrganDamage?: TargetOrganDamage[];

  @Field({ nullable: true })
  note?: string;

  @Field(() => ID, { nullable: true, description: 'Who assessed: you when not given, else a practitioner of your organisation or one below it.' })
  assessedById?: string;

  @Field(() => ID, { nullable: true, description: 'Where: your organisation when not given, else one below it.' })
  organizationId?: string;
}

@Resolver(() => Assessment)
export class AssessmentResolver {
  @Mutation(() => Assessment, { description: "Records a health assessment; the patient's pathway moves in the same request (Patient.pathway)." })
  recordAssessment(@Arg('input', () => RecordAssessmentInput) input: RecordAssessmentInput, @Ctx() ctx: Context): Promise<Assessment> {
    return ctx.services.assessments.record(input);
  }

  @FieldResolver(() => Patient)
  patient(@Root() a: Assessment, @Ctx() ctx: Context) {
    return ctx.loaders.patient.load(a.patient.id);
  }

  @FieldResolver(() => Practitioner, { nullable: true })
  assessedBy(@Root() a: Assessment, @Ctx() ctx: Context) {
    return a.assessedBy ? ctx.loaders.practitioner.load(a.assessedBy.id) : null;
  }

  @FieldResolver(() => Organization, { nullable: true })
  organization(@Root() a: Assessment, @Ctx() ctx: Context) {
    return a.organization ? ctx.loaders.organization.load(a.organization.id) : null;
  }
}

@Resolver(() => Patient)
export class PatientAssessmentResolver {
  @FieldResolver(() => [Assessment], { description: 'Health assessments, newest first.' })
  async assessments(@Root() p: Patient, @Ctx() ctx: Context, @Arg('conditionKind', () => ConditionKind, { nullable: true }) conditionKind?: ConditionKind) {
    const all = await ctx.loaders.assessmentsByPatient.load(p.id);
    return conditionKind ? all.filter((a) => a.conditionKind === conditionKind) : all;
  }
}
