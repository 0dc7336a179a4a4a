import { Entity, Enum, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from '../base.entity.js';
import { Grid, Organization } from '../organization/organization.entity.js';
import { Practitioner, PractitionerRoleCode } from '../practitioner/practitioner.entity.js';

/** A family-doctor team: GP, nurse, public-health officer, village doctor and a county specialist. */
@ObjectType()
@Entity()
export class CareTeam extends BaseEntity {
  @Field()
  @Property()
  name!: string;

  @ManyToOne(() => Organization, { index: true })
  organization!: Organization;

  @ManyToOne(() => Grid, { nullable: true, index: true })
  grid?: Grid;
}

@ObjectType()
@Entity()
@Unique({ properties: ['careTeam', 'practitioner', 'role'] })
export class CareTeamMember extends BaseEntity {
  @ManyToOne(() => CareTeam, { index: true })
  careTeam!: CareTeam;

  @ManyToOne(() => Practitioner, { index: true })
  practitioner!: Practitioner;

  @Field(() => PractitionerRoleCode)
  @Enum(() => PractitionerRoleCode)
  role!: PractitionerRoleCode;
}
