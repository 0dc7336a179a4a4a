import { PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { v7 as uuidv7 } from 'uuid';

/**
 * Every table carries a time-ordered UUID (so keyset pagination by id follows creation order),
 * created/updated timestamps, and an optimistic-lock version that mutations check.
 */

@ObjectType('Record', { description: 'Fields every stored record has.' })
export abstract class BaseEntity {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @Field()
  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Field()
  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();

  @Field(() => Int, { description: 'Optimistic-lock version: pass it back to update mutations.' })
  @Property({ version: true, default: 1 })
  version!: number;
}

export const newId = (): string => uuidv7();
