import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/**
 * The FHIR store: every resource as exchanged, current version. Resources of types the domain models are
 * also projected into the domain tables (same id), so GraphQL and the care workflows see them; this copy
 * keeps everything the sender sent (extensions, narrative, other systems' identifiers, …) so that it
 * comes back out without loss. Search columns are extracted once on write.
 */
@Entity({ tableName: 'fhir_resource' })
@Index({ properties: ['resourceType', 'lastUpdated'] })
@Index({ properties: ['patientId', 'resourceType'] })
// A type's rows in id order: a Bulk export's file, read by a cursor or in keyset pages (src/jobs/bulk-export/).
@Index({ properties: ['resourceType', 'id'] })
@Index({ name: 'fhir_resource_source_keys_idx', expression: 'create index "fhir_resource_source_keys_idx" on "fhir_resource" using gin ("source_keys") with (fastupdate = off)' })
@Index({ name: 'fhir_resource_codes_idx', expression: 'create index "fhir_resource_codes_idx" on "fhir_resource" using gin ("codes") with (fastupdate = off)' })
export class FhirResource {
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property()
  resourceType!: string;

  @Property()
  versionId!: number;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  lastUpdated!: Date;

  @Property({ default: false })
  deleted: boolean = false;

  /** The patient whose compartment the resource is in (access and $everything go by it). */
  @Property({ type: 'uuid', nullable: true })
  patientId?: string;

  /** The organisation that sent it (none: a platform administrator or the internal caller), set on create (policy.ts, FHIR_WRITE_RULES). */
  @Property({ type: 'uuid', nullable: true })
  ownerOrganizationId?: string;

  @Property({ type: 'json' })
  content!: Record<string, unknown>;

  /** `system|value` of every identifier, and the sender's own keys (fullUrl, Type/id): conditional and idempotent matching. */
  @Property({ type: 'text[]', columnType: 'text[]' })
  sourceKeys: string[] = [];

  /** `param:system|code` and `param:code` (param: code, category, type, class, …) of the codings, for token search. */
  @Property({ type: 'text[]', columnType: 'text[]' })
  codes: string[] = [];

  /** The resource's clinically relevant time (effective, onset, period start, authored, birth date). */
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  dateAt?: Date;

  @Property({ columnType: 'text', nullable: true })
  status?: string;

  /** Lower-cased names (family, given, text) for name search. */
  @Property({ columnType: 'text', nullable: true })
  names?: string;

  @Property({ nullable: true })
  gender?: string;
}

/** Every version ever stored, for vread and history; deletions are versions too. */
@Entity({ tableName: 'fhir_resource_history' })
export class FhirResourceHistory {
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @PrimaryKey()
  versionId!: number;

  @Property()
  resourceType!: string;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  lastUpdated!: Date;

  @Property({ default: false })
  deleted: boolean = false;

  /** The patient whose record this version was in (a deletion: the resource's last), read by it as the current row is (store-sql.ts, selectVersions). */
  @Property({ type: 'uuid', nullable: true })
  patientId?: string;

  /** The resource's owner (fhir_resource.owner_organization_id), for versions outside any record. */
  @Property({ type: 'uuid', nullable: true })
  ownerOrganizationId?: string;

  @Property({ type: 'json', nullable: true })
  content?: Record<string, unknown>;
}
