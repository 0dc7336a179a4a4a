import { Entity, Enum, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from '../base.entity.js';
import { Organization } from '../organization/organization.entity.js';
import { Gender } from '../patient/gender.js';
import { PractitionerRoleCode } from '../../../vocabulary/index.js';

export { PractitionerRoleCode };

@ObjectType()
@Entity()
export class Practitioner extends BaseEntity {
  @Field()
  @Property()
  name!: string;

  @Field(() => Gender, { nullable: true })
  @Enum({ items: () => Gender, nullable: true })
  gender?: Gender;

  @Field({ description: 'Practitioner licence / staff number, unique in the county.' })
  @Property()
  @Unique()
  code!: string;

  @Field({ nullable: true })
  @Property({ nullable: true })
  phone?: string;
}

/** What a practitioner does at one organisation; a practitioner may hold roles at several. */
@ObjectType()
@Entity()
@Unique({ properties: ['practitioner', 'organization', 'role'] })
export class PractitionerRole extends BaseEntity {
  @ManyToOne(() => Practitioner, { index: true })
  practitioner!: Practitioner;

  @ManyToOne(() => Organization, { index: true })
  organization!: Organization;

  @Field(() => PractitionerRoleCode)
  @Enum(() => PractitionerRoleCode)
  role!: PractitionerRoleCode;

  @Field({ nullable: true, description: 'Specialty, e.g. cardiology, endocrinology.' })
  @Property({ nullable: true })
  specialty?: string;
}
