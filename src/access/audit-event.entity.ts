import { Entity, Enum, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { Field, ID, ObjectType } from 'type-graphql';
import { v7 as uuidv7 } from 'uuid';

export enum AuditAction {
  READ = 'READ',
  SEARCH = 'SEARCH',
  CREATE = 'CREATE',
  UPDATE = 'UPDATE',
  DELETE = 'DELETE',
  EXPORT = 'EXPORT',
}

export enum AuditOutcome {
  SUCCESS = 'SUCCESS',
  FAILURE = 'FAILURE',
  DENIED = 'DENIED',
}

/**
 * One look at or change to patient data. Append-only: a database trigger refuses UPDATE and DELETE on this
 * table for every role, the service's included (see the migration).
 */
@ObjectType()
@Entity()
@Index({ properties: ['recordedAt'] })
@Index({ name: 'audit_event_patient_ids_idx', expression: 'create index "audit_event_patient_ids_idx" on "audit_event" using gin ("patient_ids")' })
export class AuditEvent {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  @Field()
  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' })
  recordedAt: Date = new Date();

  @Field({ description: 'user (token subject) or system (client id)' })
  @Property()
  actorType!: string;

  @Field()
  @Property()
  actor!: string;

  @Field({ nullable: true })
  @Property({ type: 'uuid', nullable: true })
  practitionerId?: string;

  @Field({ nullable: true })
  @Property({ type: 'uuid', nullable: true, index: true })
  organizationId?: string;

  @Field({ nullable: true })
  @Property({ nullable: true })
  onBehalfOf?: string;

  @Field(() => AuditAction)
  @Enum(() => AuditAction)
  action!: AuditAction;

  @Field({ description: 'What was asked: a GraphQL operation and fields, or a FHIR interaction.' })
  @Property({ columnType: 'text' })
  what!: string;

  @Field(() => [ID])
  @Property({ type: 'uuid[]', columnType: 'uuid[]' })
  patientIds: string[] = [];

  @Field(() => AuditOutcome)
  @Enum(() => AuditOutcome)
  outcome!: AuditOutcome;

  @Field()
  @Property()
  requestId!: string;

  @Field({ nullable: true })
  @Property({ nullable: true })
  sourceIp?: string;
}
