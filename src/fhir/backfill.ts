import { PgliteDriver } from '@mikro-orm/pglite';
import type { EntityManager } from '../db/orm.js';
import { readOnly } from '../db/read-only.js';
import { CarePlan, CarePlanGoal } from '../domain/care-plan/care-plan.entity.js';
import { Condition } from '../domain/condition/condition.entity.js';
import { Consent } from '../domain/consent/consent.entity.js';
import { Coverage } from '../domain/coverage/coverage.entity.js';
import { FollowUp } from '../domain/follow-up/follow-up.entity.js';
import { Observation } from '../domain/observation/observation.entity.js';
import { Organization } from '../domain/organization/organization.entity.js';
import { Patient } from '../domain/patient/patient.entity.js';
import { Practitioner } from '../domain/practitioner/practitioner.entity.js';
import { Referral } from '../domain/referral/referral.entity.js';
import { materialise, type RecordType } from './domain-resources.js';
import { unscopedRecordsAfter } from './store-sql.js';
import { insertResources, storeRow } from './store.js';

/** Domain tables whose records have a FHIR resource, in the order those resources refer to each other. */
const BACKFILL_ORDER: RecordType[] = [Organization, Practitioner, Patient, Condition, Observation, Referral, FollowUp, CarePlanGoal, CarePlan, Coverage, Consent];

export interface BackfillOptions {
  pageSize?: number;
  /** Pages being written at once (default: 3 on PostgreSQL, 1 on the embedded database, which has one connection). */
  concurrency?: number;
  onProgress?: (type: string, written: number) => void;
}

/**
 * Writes the FHIR resource of every domain record that has none: records written before the FHIR store
 * existed, or in bulk by the seed generator (plain SQL, no ORM flush). Idempotent. Set-based: per page of
 * `pageSize` records, one statement reads them, a few read their parts, and one writes all their resources
 * (current and history rows, search columns) — no entities, no unit of work, which cost more than the mapping
 * itself; the mapping is the one the flush uses (domain-resources.ts). On PostgreSQL the next page is read and
 * mapped while earlier ones are being written. `em` must see everything (an internal caller).
 */
export async function backfillFhir(em: EntityManager, options: BackfillOptions = {}): Promise<number> {
  const pageSize = options.pageSize ?? 2000;
  const concurrency = Math.max(1, options.concurrency ?? (em.getDriver() instanceof PgliteDriver ? 1 : 3));
  let total = 0;
  for (const type of BACKFILL_ORDER) {
    // A row as the mapping reads a loaded entity: the read path's records (src/db/read-only.ts).
    const read = readOnly(em, type);
    const meta = read.meta;
    const writing = new Set<Promise<void>>();
    const failures: unknown[] = [];
    let done = 0;
    let after = '00000000-0000-0000-0000-000000000000';
    while (failures.length === 0) {
      const page = await unscopedRecordsAfter(em, meta.tableName, after, pageSize);
      if (page.length === 0) break;
      after = page.at(-1)!.id;
      const records = new Map(page.filter((row) => !row.has_resource).map((row) => [row.id, read.record(row) as object]));
      if (records.size === 0) continue;
      if (type === CarePlanGoal) await withPlans(em, records);
      const write: Promise<void> = writePage(em, type, records).then(
        (n) => void (done += n),
        (err: unknown) => void failures.push(err),
      );
      writing.add(write);
      void write.finally(() => writing.delete(write));
      if (writing.size >= concurrency) await Promise.race(writing);
    }
    await Promise.all(writing);
    if (failures.length) throw failures[0];
    options.onProgress?.(type.name, done);
    total += done;
  }
  return total;
}

/** One page's new resources, in one statement. */
async function writePage(em: EntityManager, type: RecordType, records: Map<string, object>): Promise<number> {
  const rows = (await materialise(em, records, [], { typeOf: () => type, unstored: true })).filter((m) => !m.stored).map(({ id, columns }) => storeRow(id, columns));
  await insertResources(em, rows);
  return rows.length;
}

/** A goal names its patient through its plan: the plans' patients, one statement per page. */
async function withPlans(em: EntityManager, goals: Map<string, object>): Promise<void> {
  const planIds = [...new Set([...goals.values()].map((g) => (g as { carePlan: { id: string } }).carePlan.id))];
  const plans = (await em.execute(`select id, patient_id from ${em.getMetadata().get(CarePlan).tableName} where id = any(?::uuid[])`, [`{${planIds.join(',')}}`])) as Array<{
    id: string;
    patient_id: string;
  }>;
  const patientOf = new Map(plans.map((p) => [p.id, p.patient_id]));
  for (const goal of goals.values()) {
    const plan = (goal as { carePlan: { id: string; patient?: { id: string } } }).carePlan;
    const patient = patientOf.get(plan.id);
    if (patient) plan.patient = { id: patient };
  }
}
