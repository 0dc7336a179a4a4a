import { Arg, Ctx, Field, FieldResolver, Float, ID, InputType, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Observation, ObservationKind, ObservationSource } from '../../domain/observation/observation.entity.js';
import type { RecordObservationInput as RecordReading } from '../../domain/observation/observation.service.js';
import { Organization } from '../../domain/organization/organization.entity.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import { Practitioner } from '../../domain/practitioner/practitioner.entity.js';
import { Connection } from '../connection.js';
import type { Context } from '../context.js';
import { CLIENT_ID, createOnce } from '../client-id.js';
import { badInput } from '../../domain/errors.js';

export const ObservationConnection = Connection(Observation, 'Observation');

@InputType()
export class RecordObservationInput implements RecordReading {
  @Field(() => ID, CLIENT_ID)
  id?: string;

  @Field(() => ID)
  patientId!: string;

  @Field(() => ID, { nullable: true, description: 'The visit (a done follow-up of the same patient) the reading was taken at: the visit is judged by its readings.' })
  followUpId?: string;

  @Field(() => ObservationKind, { nullable: true, description: 'Give a kind or a LOINC code.' })
  kind?: ObservationKind;

  @Field({ nullable: true, description: 'LOINC code, e.g. 85354-9 (BP panel), 1558-6 (fasting glucose).' })
  code?: string;

  @Field(() => Float, { nullable: true })
  value?: number;

  @Field({ nullable: true, description: 'UCUM unit as measured; converted to the canonical unit (mg/dL glucose → mmol/L).' })
  unit?: string;

  @Field(() => Float, { nullable: true })
  systolic?: number;

  @Field(() => Float, { nullable: true })
  diastolic?: number;

  @Field()
  effectiveAt!: Date;

  @Field(() => ObservationSource, { nullable: true, defaultValue: ObservationSource.CLINIC })
  source?: ObservationSource;

  @Field(() => ID, { nullable: true })
  performerId?: string;

  @Field(() => ID, { nullable: true })
  organizationId?: string;

  @Field({ nullable: true })
  deviceId?: string;

  @Field({ nullable: true, description: 'Sending system; with sourceId makes re-sending the same reading harmless.' })
  sourceSystem?: string;

  @Field({ nullable: true })
  sourceId?: string;

  @Field({
    nullable: true,
    defaultValue: false,
    description:
      'The reading is right though implausible (outside its plausible range, systolic not above diastolic, in the future, before birth): store it flagged IMPLAUSIBLE, left out of control status. Without it such a reading is refused (BAD_USER_INPUT).',
  })
  confirmImplausible?: boolean;
}

@Resolver(() => Observation)
export class ObservationResolver {
  @Query(() => ObservationConnection, { description: 'Newest first. Give a patient or an organisation subtree.' })
  async observations(
    @Ctx() ctx: Context,
    @Arg('patientId', () => ID, { nullable: true }) patientId?: string,
    @Arg('organizationId', () => ID, { nullable: true }) organizationId?: string,
    @Arg('kinds', () => [ObservationKind], { nullable: true }) kinds?: ObservationKind[],
    @Arg('source', () => ObservationSource, { nullable: true }) source?: ObservationSource,
    @Arg('from', { nullable: true }) from?: Date,
    @Arg('to', { nullable: true }) to?: Date,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', { nullable: true }) after?: string,
  ) {
    const page = await ctx.services.observations.search({ patientId, organizationId, kinds, source, from, to }, first, after);
    return ObservationConnection.from(page);
  }

  @Mutation(() => Observation)
  recordObservation(@Arg('input', () => RecordObservationInput) input: RecordObservationInput, @Ctx() ctx: Context) {
    return createOnce(ctx, 'recordObservation', { id: input.id, patientId: input.patientId, args: { input } }, (services, id) => services.observations.record({ ...input, id }));
  }

  @Mutation(() => [Observation], { description: 'Device uploads: all readings or none; re-sent readings (same source id) are not duplicated.' })
  recordObservations(@Arg('inputs', () => [RecordObservationInput]) inputs: RecordObservationInput[], @Ctx() ctx: Context) {
    // A batch is keyed by its sender's source ids; client ids are for one create at a time (recordObservation).
    const withId = inputs.findIndex((i) => i.id);
    if (withId >= 0) throw badInput('a batch reading is keyed by sourceSystem and sourceId: send readings with client ids by recordObservation', `inputs.${withId}.id`);
    return ctx.services.observations.recordBatch(inputs);
  }

  @FieldResolver(() => Patient)
  patient(@Root() o: Observation, @Ctx() ctx: Context) {
    return ctx.loaders.patient.load(o.patient.id);
  }

  @FieldResolver(() => Practitioner, { nullable: true })
  performer(@Root() o: Observation, @Ctx() ctx: Context) {
    return o.performer ? ctx.loaders.practitioner.load(o.performer.id) : null;
  }

  @FieldResolver(() => Organization, { nullable: true })
  organization(@Root() o: Observation, @Ctx() ctx: Context) {
    return o.organization ? ctx.loaders.organization.load(o.organization.id) : null;
  }
}
