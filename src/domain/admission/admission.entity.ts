import { Entity, Enum, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { AdmissionKind, AdmissionStatus } from '../../../vocabulary/index.js';
import { BaseEntity } from '../base.entity.js';
import { Organization } from '../organization/organization.entity.js';
import { Patient } from '../patient/patient.entity.js';

export { AdmissionKind, AdmissionStatus };

/**
 * A hospital admission or emergency visit a hospital reported (a FHIR Encounter of an inpatient or emergency
 * class): where, from when to when, why. The hospitalisation-rate indicator counts the INPATIENT ones.
 */
@ObjectType()
@Entity()
@Index({ properties: ['patient', 'periodStart'] })
export class Admission extends BaseEntity {
  @ManyToOne(() => Patient)
  patient!: Patient;

  @Field(() => AdmissionKind)
  @Enum(() => AdmissionKind)
  kind!: AdmissionKind;

  @Field(() => AdmissionStatus)
  @Enum(() => AdmissionStatus)
  status!: AdmissionStatus;

  @Field({ nullable: true, description: 'v3 ActCode encounter class as sent (IMP, ACUTE, NONAC, EMER).' })
  @Property({ nullable: true })
  classCode?: string;

  @ManyToOne(() => Organization, { nullable: true, index: true })
  organization?: Organization;

  @Field({ description: 'When the stay began.' })
  @Property({ type: 'datetime', columnType: 'timestamptz' })
  periodStart!: Date;

  @Field({ nullable: true, description: 'When the patient was discharged; absent while in hospital.' })
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  periodEnd?: Date;

  @Field({ nullable: true, description: 'Reason for the stay: code (SNOMED CT or ICD-10, as sent).' })
  @Property({ nullable: true })
  reasonCode?: string;

  @Field({ nullable: true })
  @Property({ nullable: true })
  reasonSystem?: string;

  @Field({ nullable: true })
  @Property({ columnType: 'text', nullable: true })
  reasonDisplay?: string;
}
