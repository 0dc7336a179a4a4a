import { Entity, Enum, Index, ManyToOne, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from '../base.entity.js';
import { GridKind, OrganizationLevel, OrganizationType } from '../../../vocabulary/index.js';

export { OrganizationLevel, OrganizationType, GridKind };

/** The rank of each level: referral "up" goes to a lower rank number. */
export const LEVEL_RANK: Record<OrganizationLevel, number> = {
  COUNTY: 1,
  TOWNSHIP: 2,
  VILLAGE: 3,
  EXTERNAL: 0,
};

@ObjectType()
@Entity()
export class Organization extends BaseEntity {
  @Field()
  @Property()
  name!: string;

  @Field({ description: 'Unique organisation code (e.g. the unified social credit code or a county code).' })
  @Property()
  @Unique()
  code!: string;

  @Field(() => OrganizationLevel)
  @Enum(() => OrganizationLevel)
  level!: OrganizationLevel;

  @Field(() => OrganizationType)
  @Enum(() => OrganizationType)
  type!: OrganizationType;

  @ManyToOne(() => Organization, { nullable: true })
  parent?: Organization;

  /**
   * Materialised path of ids from the root, `/root/child/self/`: a subtree is one indexed prefix match,
   * which is how "patients of this organisation and its sub-organisations" stays a single query.
   */
  @Property({ columnType: 'text' })
  @Index({ name: 'organization_path_idx', expression: 'create index "organization_path_idx" on "organization" ("path" text_pattern_ops)' })
  path!: string;

  @Field({ nullable: true })
  @Property({ nullable: true })
  address?: string;

  @Field({ nullable: true })
  @Property({ nullable: true })
  phone?: string;
}

/** A management grid (网格): a residential block, a village, or a special group, run by one organisation. */
@ObjectType()
@Entity()
export class Grid extends BaseEntity {
  @Field()
  @Property()
  name!: string;

  @Field()
  @Property()
  @Unique()
  code!: string;

  @Field(() => GridKind)
  @Enum(() => GridKind)
  kind!: GridKind;

  @ManyToOne(() => Organization, { index: true })
  organization!: Organization;
}
