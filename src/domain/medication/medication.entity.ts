import { Entity, Enum, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from '../base.entity.js';
import { LocalDate } from '../../graphql/scalars.js';
import { Organization } from '../organization/organization.entity.js';
import { Patient } from '../patient/patient.entity.js';
import { DrugClass, MedicationStatus } from '../../../vocabulary/index.js';

export { DrugClass, MedicationStatus };

/** The FHIR resource types a use of a medicine comes from: a prescription, or the patient's own account. */
export type MedicationSource = 'MedicationRequest' | 'MedicationStatement';

/**
 * A patient's use of one medicine: what a prescription (MedicationRequest) or the patient's own account
 * (MedicationStatement) says, one record per resource, under its id. "Current medicines" are the active ones not
 * yet ended (MedicationService.isCurrent).
 */
@ObjectType('Medication', { description: 'A medicine the patient takes or took, as one prescription or statement says it.' })
@Entity({ tableName: 'medication_use' })
@Index({ properties: ['patient', 'status'] })
export class MedicationUse extends BaseEntity {
  @ManyToOne(() => Patient)
  patient!: Patient;

  @Field({ description: 'The medicine as the sender names it.' })
  @Property()
  name!: string;

  @Field({ nullable: true, description: 'RxNorm or ATC code (see `system`).' })
  @Property({ nullable: true })
  code?: string;

  @Field({ nullable: true })
  @Property({ nullable: true })
  system?: string;

  @Field(() => DrugClass)
  @Enum(() => DrugClass)
  drugClass!: DrugClass;

  @Field(() => MedicationStatus)
  @Enum(() => MedicationStatus)
  status!: MedicationStatus;

  @Field({ nullable: true, description: 'Dosage instructions as written.' })
  @Property({ columnType: 'text', nullable: true })
  dosage?: string;

  @Field(() => LocalDate, { nullable: true, description: 'ISO date the use began (or was prescribed).' })
  @Property({ type: 'date', nullable: true })
  since?: string;

  @Field(() => LocalDate, { nullable: true, description: 'ISO date the use ended or ends.' })
  @Property({ type: 'date', nullable: true })
  until?: string;

  /** Which resource type says it (MedicationRequest, MedicationStatement). */
  @Property()
  sourceType!: MedicationSource;

  /** The organisation that sent it. */
  @ManyToOne(() => Organization, { nullable: true })
  organization?: Organization;
}
