import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/**
 * A create a client sent under an id of its own (ADR 17): what it asked and what it made, so that the same request
 * sent again (its first answer lost on a village network) is answered with what is stored instead of writing twice,
 * and the same id asking for something else is refused. Written in the transaction of the write it records.
 */
@Entity({ tableName: 'client_write' })
export class ClientWrite {
  /** The client's id (a UUID, v7 preferred): the new record's id too, unless the write filled in an existing row. */
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  /** The mutation, e.g. `recordObservation`. */
  @Property({ type: 'text' })
  operation!: string;

  /** sha256 of the mutation's arguments in canonical JSON (write-once.ts): "the same request". */
  @Property({ type: 'text' })
  digest!: string;

  @Property({ type: 'uuid', nullable: true })
  patientId?: string;

  /** The record the write made or filled in (entity class name and id). */
  @Property({ type: 'text' })
  recordType!: string;

  @Property({ type: 'uuid' })
  recordId!: string;

  /** The answer's other fields (recordFollowUp's advice), answered again as they were. */
  @Property({ type: 'json', columnType: 'jsonb', nullable: true })
  answer?: Record<string, unknown>;

  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
