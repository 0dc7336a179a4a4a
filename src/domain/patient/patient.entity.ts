import { Entity, Enum, Index, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from '../base.entity.js';
import { LocalDate } from '../../graphql/scalars.js';
import { CareTeam } from '../care-team/care-team.entity.js';
import { Grid, Organization } from '../organization/organization.entity.js';
import { Practitioner } from '../practitioner/practitioner.entity.js';
import { Gender } from './gender.js';
import { CareStatus, IdentifierKind, ManagementColour, ManagementTier } from '../../../vocabulary/index.js';

export { CareStatus, ManagementTier, ManagementColour, IdentifierKind };

@ObjectType()
@Entity()
@Index({ properties: ['managingOrganization', 'id'] })
export class Patient extends BaseEntity {
  @Field({ description: 'Full name; Chinese names are family name first, without spaces.' })
  @Property()
  @Index({ name: 'patient_name_idx', expression: 'create index "patient_name_idx" on "patient" ("name" text_pattern_ops)' })
  name!: string;

  @Field(() => Gender)
  @Enum(() => Gender)
  gender!: Gender;

  @Field(() => LocalDate, { nullable: true, description: 'ISO date (YYYY-MM-DD).' })
  @Property({ type: 'date', nullable: true })
  birthDate?: string;

  @Field({ nullable: true })
  @Property({ nullable: true })
  phone?: string;

  @Field({ nullable: true })
  @Property({ nullable: true })
  address?: string;

  @ManyToOne(() => Grid, { nullable: true, index: true })
  grid?: Grid;

  @ManyToOne(() => Organization)
  managingOrganization!: Organization;

  @ManyToOne(() => CareTeam, { nullable: true, index: true })
  familyDoctorTeam?: CareTeam;

  @Field(() => LocalDate, { nullable: true, description: 'Family-doctor contract signed on (ISO date).' })
  @Property({ type: 'date', nullable: true })
  contractSignedOn?: string;

  @Field(() => LocalDate, { nullable: true, description: 'Family-doctor contract expires on (ISO date).' })
  @Property({ type: 'date', nullable: true })
  contractExpiresOn?: string;

  @Field(() => ManagementTier, { nullable: true })
  @Enum({ items: () => ManagementTier, nullable: true, index: true })
  managementTier?: ManagementTier;

  @Field(() => ManagementColour, { nullable: true })
  @Enum({ items: () => ManagementColour, nullable: true, index: true })
  managementColour?: ManagementColour;

  @Field({ nullable: true, description: 'Why a person overrode the derived tier/colour; null when derived.' })
  @Property({ nullable: true, columnType: 'text' })
  managementOverrideReason?: string;

  /** Who overrode the tier and colour (from their token), when, and until when the override stands (ADR 16). */
  @ManyToOne(() => Practitioner, { nullable: true })
  managementOverriddenBy?: Practitioner;

  @Field({ nullable: true, description: 'When a person overrode the derived tier/colour; null when derived.' })
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  managementOverriddenAt?: Date;

  @Field(() => LocalDate, { nullable: true, description: 'The override stands until this date (or a newer health assessment); then the rule’s tier and colour apply again.' })
  @Property({ type: 'date', nullable: true })
  managementOverrideReviewOn?: string;

  /**
   * Whether the programme still looks after the patient (ADR 16): worklists and indicators leave out anyone not
   * ACTIVE. Set by setPatientCareStatus, a FHIR Patient's deceased[x], or a contact attempt's outcome (src/care/pathway).
   */
  @Field(() => CareStatus)
  @Enum({ items: () => CareStatus, default: CareStatus.ACTIVE, index: true })
  careStatus: CareStatus = CareStatus.ACTIVE;

  @Field(() => LocalDate, { nullable: true, description: 'Since when the care status holds (ISO date); null for ACTIVE never changed.' })
  @Property({ type: 'date', nullable: true })
  careStatusOn?: string;

  @Field({ nullable: true, description: 'Why the care status was set (free text), e.g. where the patient moved to.' })
  @Property({ nullable: true, columnType: 'text' })
  careStatusReason?: string;

  /** The organisation whose staff or system registered the patient here (a hospital sees the patients it sent). */
  @ManyToOne(() => Organization, { nullable: true, index: true })
  registeredBy?: Organization;
}

/**
 * An identifier of a patient in one system; unique per system across the county. Sensitive kinds (the
 * resident ID) keep only a mask in `value`, the keyed hash in `lookup` and the encrypted value in `cipher`.
 */
@ObjectType()
@Entity()
@Unique({ properties: ['system', 'lookup'] })
export class PatientIdentifier extends BaseEntity {
  @ManyToOne(() => Patient, { index: true, deleteRule: 'cascade' })
  patient!: Patient;

  @Field()
  @Property()
  system!: string;

  /** Shown value: the identifier, or its mask for a sensitive kind (GraphQL reveals it by role). */
  @Property()
  value!: string;

  @Property({ columnType: 'text' })
  lookup!: string;

  @Property({ columnType: 'text', nullable: true })
  cipher?: string;

  @Field(() => IdentifierKind)
  @Enum(() => IdentifierKind)
  kind!: IdentifierKind;
}
