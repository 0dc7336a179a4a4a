import { Entity, Enum, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/decorators/legacy';
import { BaseEntity } from '../domain/base.entity.js';
import { Organization } from '../domain/organization/organization.entity.js';
import { ClientKind } from './caller.js';

/** A hospital system or insurer registered for SMART Backend Services (`npm run client -- register`). */
@Entity()
export class SystemClient extends BaseEntity {
  @Property()
  @Unique()
  clientId!: string;

  @Property()
  name!: string;

  @Enum(() => ClientKind)
  kind!: ClientKind;

  /** The hospital, or the insurer, the client acts for. */
  @ManyToOne(() => Organization)
  organization!: Organization;

  /** The client's public keys (a JWKS), against which its assertions are verified. */
  @Property({ type: 'json', nullable: true })
  jwks?: { keys: Record<string, unknown>[] };

  @Property({ nullable: true })
  jwksUrl?: string;

  /** Scopes the client may be granted, e.g. `system/Observation.rs`. */
  @Property({ type: 'json' })
  scopes: string[] = [];

  @Property({ default: true })
  active: boolean = true;
}

/** Client-assertion ids already used: an assertion is good once (replay protection). */
@Entity()
export class UsedAssertion {
  @PrimaryKey({ type: 'text' })
  key!: string;

  @Property({ type: 'datetime', columnType: 'timestamptz', index: true })
  expiresAt!: Date;
}
