import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { v7 as uuidv7 } from 'uuid';
import type { Caller } from '../../access/caller.js';

/** Where a Bulk Data job is (the IG's kick-off → status → manifest; DELETE cancels; expiry removes it). */
export type BulkExportStatus = 'accepted' | 'in-progress' | 'completed' | 'failed' | 'cancelled';

/** What was asked for, parsed and checked at kick-off (src/fhir/operations/export-request.ts). */
export interface BulkExportRequest {
  /** `system`: /fhir/$export (administrators); `patient`: /fhir/Patient/$export; `group`: /fhir/Group/{id}/$export. */
  level: 'system' | 'patient' | 'group';
  /** For a Group: the insurer whose covered members the Group is (Group id = the insurer Organization's id). */
  insurerId?: string;
  /** Resource types, one file each, in this order; none: every type the caller may read among the rows. */
  types?: string[];
  /** Instants (ISO): resources last updated in (since, until]. */
  since?: string;
  until?: string;
  /** County days an insurer's membership is judged over (src/access/membership.ts): [since's day or the earliest coverage, until's day or today]. */
  period?: { start: string; end: string };
  /** `_typeFilter`, as the codes an Observation must carry one of (`code:system|code`, the store's `codes` index). */
  observationCodes?: string[];
}

/** One NDJSON file of the job: a type, its lines so far, and whether it is complete. */
export interface BulkExportFile {
  type: string;
  file: string;
  count: number;
  done: boolean;
}

/**
 * Where a job stopped: the type being written, the last id written to its file and the file's length then; the patients'
 * list (for the audit) and its length. On resume both files are cut back to these lengths and the type's rows read
 * after that id: a line is never written twice.
 */
export interface BulkExportCheckpoint {
  type: string;
  lastId: string;
  offset: number;
  patientsOffset: number;
}

/**
 * A Bulk Data export job (FHIR Bulk Data Access IG): persisted so that a job outlives the process that started it
 * (pg-boss on PostgreSQL, the in-process runner on the embedded database: src/jobs/bulk-export/queue.ts) and the
 * worker acts as the client that asked (`caller`: enough to re-create its Caller and policy).
 */
@Entity({ tableName: 'bulk_export' })
@Index({ properties: ['status'] })
export class BulkExportJob {
  @PrimaryKey({ type: 'uuid' })
  id: string = uuidv7();

  /** Who asked: the Caller as it was at kick-off; a system client's is re-read from its registration when the job runs. */
  @Property({ type: 'json' })
  caller!: Caller;

  /** The kick-off URL, as the manifest's `request` says it. */
  @Property({ type: 'text' })
  requestUrl!: string;

  @Property({ type: 'json' })
  params!: BulkExportRequest;

  @Property({ type: 'text' })
  status: BulkExportStatus = 'accepted';

  /** Lines written so far, for X-Progress. */
  @Property({ type: 'integer', default: 0 })
  written: number = 0;

  /** The types still to write, then each written: one file per type. */
  @Property({ type: 'json' })
  output: BulkExportFile[] = [];

  @Property({ type: 'json', nullable: true })
  checkpoint?: BulkExportCheckpoint | null;

  @Property({ type: 'text', nullable: true })
  error?: string | null;

  /** The manifest's transactionTime: nothing last updated after it is exported. */
  @Property({ type: 'datetime', columnType: 'timestamptz' })
  transactionTime!: Date;

  /** When its files go (set on completion; BULK_EXPORT_EXPIRY_HOURS). */
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  expiresAt?: Date | null;

  /** Runs begun (a resumed job counts again). */
  @Property({ type: 'integer', default: 0 })
  attempts: number = 0;

  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
