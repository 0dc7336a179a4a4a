/**
 * What each domain record says in FHIR, as the store's rows: the one mapping from the domain to the store, used on
 * flush (materialise.ts) and by the backfill of records written past the ORM (backfill.ts).
 */
import type { Resource } from '@medplum/fhirtypes';
import type { EntityManager } from '../db/orm.js';
import { EncounterKind, mappings, requestStatusOf } from '../../fhir-mappings/index.js';
import { ObservationKind } from '../../fhir-mappings/codes.js';
import { CarePlan, CarePlanActivity, CarePlanGoal } from '../domain/care-plan/care-plan.entity.js';
import { Condition } from '../domain/condition/condition.entity.js';
import { Consent } from '../domain/consent/consent.entity.js';
import { Coverage } from '../domain/coverage/coverage.entity.js';
import { FollowUp } from '../domain/follow-up/follow-up.entity.js';
import { Observation } from '../domain/observation/observation.entity.js';
import { Organization } from '../domain/organization/organization.entity.js';
import { CareStatus, Patient, PatientIdentifier } from '../domain/patient/patient.entity.js';
import { Practitioner } from '../domain/practitioner/practitioner.entity.js';
import { Referral } from '../domain/referral/referral.entity.js';
import { ReferralResult } from '../domain/referral/referral-result.entity.js';
import type { FhirResource } from './fhir-resource.entity.js';
import { newId } from '../domain/base.entity.js';
import { indexResource } from './indexing.js';
import { unscopedRowsForMaterialising, unscopedTasksFocusing } from './store-sql.js';
import { ENCRYPTED, parseArray, sameResource, stripVersion } from './store.js';

const ref = (type: string, entity: { id: string } | undefined | null) => (entity ? `${type}/${entity.id}` : undefined);
const instant = (d: Date | string | undefined) => (d ? new Date(d) : undefined);

interface IdentifierRow {
  system: string;
  value: string;
  lookup: string;
  cipher?: string | null;
}

/** What one record becomes: its FHIR type and the mapping's input. */
export type Materialised = { type: keyof typeof mappings; shape: unknown; keys?: string[] };

export interface Materialisation {
  id: string;
  /** The current store row, when there is one. */
  stored?: Record<string, unknown>;
  /** The new current row, search columns included. */
  columns: Omit<FhirResource, 'id'>;
}

/**
 * Referrals moved by a Task a hospital sent (src/fhir/projection/referral.ts): their ServiceRequest is written to
 * follow them (its status), their Task stays as the hospital sent it.
 */
export const taskAsSent = new WeakSet<object>();

/** A domain entity class whose records have a FHIR resource. */
export type RecordType = new (...args: never[]) => object;

export const isRecordType = (type: unknown): type is RecordType => SHAPERS.has(type as never);

/**
 * The FHIR resources of these records, as the store's rows: merged into what is stored (a record a hospital
 * sent), versioned; a record whose resource would not change is left out. `flushed` are entities of a flush
 * under way, whose rows are not in the database yet (a new patient's identifiers, a new plan's activities).
 * A record is an entity, or (the backfill) a plain object shaped like one — references as `{ id }` — whose
 * type `typeOf` tells; `unstored` says the caller has just seen that none of the records has a resource.
 */
export async function materialise(
  em: EntityManager,
  records: Map<string, object>,
  flushed: object[],
  {
    typeOf = (r) => r.constructor as RecordType,
    unstored = false,
    removed = new Set<string>(),
  }: { typeOf?: (record: object) => RecordType; unstored?: boolean; /** Ids of parts this flush deletes (an activity removed from its plan): left out. */ removed?: ReadonlySet<string> } = {},
): Promise<Materialisation[]> {
  const out: Materialisation[] = [];
  if (records.size === 0) return out;
  const ids = [...records.keys()];
  const connection = em.getConnection();
  const ctx = em.getTransactionContext();
  const query = (sql: string, params: unknown[]) => connection.execute(sql, params, 'all', ctx) as Promise<Array<Record<string, unknown>>>;
  const storedRows = new Map(unstored ? [] : (await unscopedRowsForMaterialising(query, ids)).map((r) => [r.id as string, r]));
  const ownedBy = (type: RecordType) => [...records.values()].filter((r) => typeOf(r) === type).map((r) => (r as { id: string }).id);
  const parts: Parts = {
    identifiers: await partsOf(query, flushed, removed, 'patient_identifier', 'patient_id', ownedBy(Patient), PatientIdentifier, (e) => ({ owner: e.patient.id, system: e.system, value: e.value, lookup: e.lookup, cipher: e.cipher ?? null })),
    activities: await partsOf(query, flushed, removed, 'care_plan_activity', 'care_plan_id', ownedBy(CarePlan), CarePlanActivity, (e) => ({ owner: e.carePlan.id, ...activityOf(e) })),
    goals: await partsOf(query, flushed, removed, 'care_plan_goal', 'care_plan_id', ownedBy(CarePlan), CarePlanGoal, (e) => ({ owner: e.carePlan.id, id: e.id })),
    results: await partsOf(query, flushed, removed, 'referral_result', 'referral_id', ownedBy(Referral), ReferralResult, (e) => ({
      owner: e.referral.id,
      observationId: e.observation?.id,
      conditionId: e.condition?.id,
    })),
  };

  // A referral is two resources: its ServiceRequest, under its id, and the Task that carries its workflow.
  const referrals = [...records.values()].filter((r): r is Referral => typeOf(r) === Referral);
  const tasks = await storedTasksOf(query, referrals);
  for (const row of tasks.size ? await unscopedRowsForMaterialising(query, [...tasks.values()]) : []) storedRows.set(row.id as string, row);
  const resources: Array<[string, Materialised]> = [];
  for (const [id, entity] of records) {
    const shaper = SHAPERS.get(typeOf(entity) as never)!;
    const shaped = shaper(entity as never, (kind) => (parts[kind].get(id) ?? []) as never);
    if (!shaped) continue;
    resources.push([id, shaped]);
    // A Task a hospital has just sent is the referral's Task as sent: only its ServiceRequest follows the referral.
    if (typeOf(entity) === Referral && !taskAsSent.has(entity)) {
      const taskId = tasks.get(id) ?? newId();
      const sentStatus = (parseJson(storedRows.get(taskId)?.content) as { status?: string } | undefined)?.status;
      resources.push([taskId, taskOf(entity as Referral, sentStatus, parts.results.get(id) ?? [])]);
    }
  }

  for (const [id, shaped] of resources) {
    const row = storedRows.get(id);
    const original = row ? (parseJson(row.content) as Resource) : undefined;
    if (row && original?.resourceType !== shaped.type) continue; // a different resource under this id: not ours to change
    const mapping = mappings[shaped.type] as unknown as { toFhir(shape: unknown, options: { id: string; original?: Resource }): Resource };
    const resource = mapping.toFhir(withoutNulls(shaped.shape), { id, original });
    if (original && sameResource(original, resource)) continue;

    const versionId = row ? Number(row.version_id) + 1 : 1;
    const lastUpdated = new Date();
    const content = { ...resource, meta: { ...stripVersion(resource.meta as Record<string, unknown> | undefined), versionId: String(versionId), lastUpdated: lastUpdated.toISOString() } } as Resource;
    const index = indexResource(content);
    const columns = {
      resourceType: shaped.type,
      versionId,
      lastUpdated,
      deleted: false,
      patientId: index.patientId,
      content: content as unknown as Record<string, unknown>,
      // Sender keys of an imported original stay; identifiers are indexed as the store indexes them.
      sourceKeys: [...new Set([...(row ? parseArray(row.source_keys) : []), ...(shaped.keys ?? index.sourceKeys)])],
      codes: index.codes,
      dateAt: index.dateAt,
      status: index.status,
      names: index.names,
      gender: index.gender,
    };
    out.push({ id, stored: row, columns });
  }
  return out;
}

/** The Task stored for each referral (its focus), in the referral's patient's record: referral id → Task id. */
async function storedTasksOf(query: (sql: string, params: unknown[]) => Promise<Array<Record<string, unknown>>>, referrals: Referral[]): Promise<Map<string, string>> {
  const rows = await unscopedTasksFocusing(query, [...new Set(referrals.map((r) => r.patient.id))], referrals.map((r) => `ServiceRequest/${r.id}`));
  return new Map(rows.map((r) => [r.focus.slice('ServiceRequest/'.length), r.id]));
}

/** A referral's workflow as its Task says it: status and the time of each step; who asked, who carries it out. */
function taskOf(r: Referral, sentStatus: string | undefined, results: Array<Record<string, unknown>>): Materialised {
  return {
    type: 'Task',
    shape: {
      referralRef: `ServiceRequest/${r.id}`,
      patientRef: ref('Patient', r.patient),
      status: r.status,
      // A finer state the sender's Task is in (in-progress, on-hold, …) stays while it still reads as ours.
      taskStatus: sentStatus,
      intent: 'order',
      statusReason: r.statusReason,
      outcomeSummary: r.outcomeSummary,
      resultRefs: results.map((x) => (x.observationId ? `Observation/${x.observationId as string}` : `Condition/${x.conditionId as string}`)),
      requesterRef: ref('Practitioner', r.fromPractitioner) ?? ref('Organization', r.fromOrganization),
      // The organisation that has to act: what a hospital's worklist searches (Task?owner=Organization/…). The
      // practitioner it is addressed to, if any, is the ServiceRequest's second performer.
      ownerRef: ref('Organization', r.toOrganization),
      requestedAt: instant(r.requestedAt),
      acceptedAt: instant(r.acceptedAt),
      rejectedAt: instant(r.rejectedAt),
      completedAt: instant(r.completedAt),
      cancelledAt: instant(r.cancelledAt),
    },
  };
}

/**
 * The rows that are part of a record's resource (a patient's identifiers, a plan's activities), as stored,
 * with those this flush adds or changes in their place; keyed by the owning record's id.
 */
async function partsOf<E extends { id: string }>(
  query: (sql: string, params: unknown[]) => Promise<Array<Record<string, unknown>>>,
  flushed: object[],
  removed: ReadonlySet<string>,
  table: string,
  ownerColumn: string,
  owners: string[],
  type: new () => E,
  toRow: (entity: E) => Record<string, unknown> & { owner: string },
): Promise<Map<string, Array<Record<string, unknown>>>> {
  const byOwner = new Map<string, Map<string, Record<string, unknown>>>();
  if (owners.length === 0) return new Map();
  const put = (owner: string, id: string, row: Record<string, unknown>) => {
    if (!byOwner.has(owner)) byOwner.set(owner, new Map());
    byOwner.get(owner)!.set(id, row);
  };
  const stored = await query(`select * from ${table} where ${ownerColumn} in (${owners.map(() => '?').join(',')}) order by created_at, id`, owners);
  for (const row of stored) if (!removed.has(row.id as string)) put(row[ownerColumn] as string, row.id as string, camelCase(row));
  for (const e of flushed) {
    if (!(e instanceof type)) continue;
    const row = toRow(e);
    if (owners.includes(row.owner)) put(row.owner, e.id, row);
  }
  return new Map([...byOwner].map(([owner, rows]) => [owner, [...rows.values()]]));
}

const camelCase = (row: Record<string, unknown>) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v ?? undefined]));

const activityOf = (a: Pick<CarePlanActivity, 'category' | 'status' | 'description' | 'frequency' | 'medicationCode' | 'medicationName' | 'dosage'>) => ({
  category: a.category,
  status: a.status,
  description: a.description,
  frequency: a.frequency,
  medicationCode: a.medicationCode,
  medicationName: a.medicationName,
  dosage: a.dosage,
});

interface Parts {
  identifiers: Map<string, Array<Record<string, unknown>>>;
  activities: Map<string, Array<Record<string, unknown>>>;
  goals: Map<string, Array<Record<string, unknown>>>;
  /** A referral's results (referral_result): its Task's outputs. */
  results: Map<string, Array<Record<string, unknown>>>;
}

type Shaper<T> = (entity: T, parts: <R>(kind: keyof Parts) => R[]) => Materialised | undefined;

/** The domain record → the mapping's shape, per entity: one place for what each record says in FHIR. */
const SHAPERS = new Map<RecordType, Shaper<never>>([
  [
    Patient,
    ((p: Patient, parts) => {
      const identifiers = parts<IdentifierRow>('identifiers');
      return {
      type: 'Patient',
      shape: {
        name: p.name,
        gender: p.gender,
        birthDate: p.birthDate,
        phone: p.phone,
        address: p.address,
        // Sensitive numbers stay encrypted in the stored JSON, as the store keeps them; revealed per caller on the way out.
        identifiers: identifiers.map((i) => ({ system: i.system, value: i.cipher ? ENCRYPTED + i.cipher : i.value })),
        managingOrganizationRef: ref('Organization', p.managingOrganization),
        gridRef: ref('Location', p.grid),
        managementTier: p.managementTier,
        managementColour: p.managementColour,
        managementOverrideReason: p.managementOverrideReason,
        managementOverriddenByRef: ref('Practitioner', p.managementOverriddenBy),
        familyDoctorTeamRef: ref('CareTeam', p.familyDoctorTeam),
        contractSignedOn: p.contractSignedOn,
        contractExpiresOn: p.contractExpiresOn,
        // A patient who died says so in FHIR too (deceasedDateTime: the day the care status took effect).
        deceased: p.careStatus === CareStatus.DIED || undefined,
        deceasedOn: p.careStatus === CareStatus.DIED ? p.careStatusOn : undefined,
      },
      keys: identifiers.map((i) => `${i.system}|${i.lookup}`),
      };
    }) as Shaper<Patient>,
  ],
  [
    Condition,
    ((c: Condition) => ({
      type: 'Condition',
      shape: {
        patientRef: ref('Patient', c.patient),
        code: c.code,
        system: c.system,
        display: c.display,
        kind: c.kind,
        onsetDate: c.onsetDate,
        clinicalStatus: c.clinicalStatus,
        verificationStatus: c.verificationStatus,
        confirmedByRef: ref('Organization', c.confirmedBy),
        confirmedAt: instant(c.confirmedAt),
      },
    })) as Shaper<Condition>,
  ],
  [
    Observation,
    ((o: Observation) => ({
      type: 'Observation',
      shape: {
        patientRef: ref('Patient', o.patient),
        // The follow-up visit it was taken at (ADR 16).
        encounterRef: ref('Encounter', o.followUp),
        status: 'final',
        kind: o.kind,
        code: o.code,
        system: o.system,
        value: o.kind === ObservationKind.BLOOD_PRESSURE ? undefined : o.value,
        unit: o.unit,
        systolic: o.systolic,
        diastolic: o.diastolic,
        receivedValue: o.receivedValue,
        receivedUnit: o.receivedUnit,
        effectiveAt: instant(o.effectiveAt),
        source: o.source,
        performerRef: ref('Practitioner', o.performer),
        organizationRef: ref('Organization', o.organization),
        deviceId: o.deviceId,
        sourceSystem: o.sourceSystem,
        sourceId: o.sourceId,
        // As the rules judged it when it was written (stored beside its control status); a key even when empty, so
        // that a reading no longer judged loses the interpretation it had.
        interpretation: o.controlInterpretation,
      },
    })) as Shaper<Observation>,
  ],
  [
    Organization,
    ((o: Organization) => ({
      type: 'Organization',
      shape: { name: o.name, code: o.code, level: o.level, type: o.type, parentRef: ref('Organization', o.parent), address: o.address, phone: o.phone, identifiers: [] },
    })) as Shaper<Organization>,
  ],
  [
    Practitioner,
    ((p: Practitioner) => ({ type: 'Practitioner', shape: { name: p.name, gender: p.gender, code: p.code, phone: p.phone, identifiers: [] } })) as Shaper<Practitioner>,
  ],
  [
    Referral,
    ((r: Referral) => ({
      type: 'ServiceRequest',
      shape: {
        patientRef: ref('Patient', r.patient),
        isReferral: true,
        requestStatus: requestStatusOf(r.status),
        intent: 'order',
        direction: r.direction,
        fromOrganizationRef: ref('Organization', r.fromOrganization),
        fromPractitionerRef: ref('Practitioner', r.fromPractitioner),
        toOrganizationRef: ref('Organization', r.toOrganization),
        toPractitionerRef: ref('Practitioner', r.toPractitioner),
        reason: r.reason,
        reasonText: r.reasonText,
        urgency: r.urgency,
        clinicalSummary: r.clinicalSummary,
        requestedAt: instant(r.requestedAt),
        closesRef: ref('ServiceRequest', r.closes),
      },
    })) as Shaper<Referral>,
  ],
  [
    FollowUp,
    ((f: FollowUp) => ({
      type: 'Encounter',
      shape: {
        kind: EncounterKind.FOLLOW_UP,
        status: f.doneDate ? 'finished' : f.cancelledAt ? 'cancelled' : 'planned',
        patientRef: ref('Patient', f.patient),
        practitionerRef: ref('Practitioner', f.practitioner),
        organizationRef: ref('Organization', f.organization),
        followUp: {
          type: f.type,
          plannedDate: f.plannedDate,
          doneDate: f.doneDate,
          findings: f.findings,
          controlStatus: f.controlStatus,
          adverseReaction: f.adverseReaction,
          newComplication: f.newComplication,
          nextDueDate: f.nextDueDate,
        },
      },
    })) as Shaper<FollowUp>,
  ],
  [
    CarePlan,
    ((c: CarePlan, parts) => {
      return {
        type: 'CarePlan',
        shape: {
          patientRef: ref('Patient', c.patient),
          title: c.title,
          status: c.status,
          intent: 'plan',
          addresses: c.addresses,
          addressesRefs: [],
          periodStart: c.periodStart,
          periodEnd: c.periodEnd,
          authorRef: ref('Practitioner', c.author),
          organizationRef: ref('Organization', c.organization),
          note: c.note,
          goalRefs: parts<{ id: string }>('goals').map((g) => `Goal/${g.id}`),
          activities: parts<ReturnType<typeof activityOf>>('activities').map(activityOf),
        },
      };
    }) as Shaper<CarePlan>,
  ],
  [
    CarePlanGoal,
    ((g: CarePlanGoal) => {
      // A goal names its patient through its plan: written when the plan is at hand (it is, when either is saved).
      const patient = g.carePlan?.patient;
      if (!patient) return undefined;
      return {
        type: 'Goal',
        shape: { patientRef: ref('Patient', patient), lifecycleStatus: 'active', description: g.description, measure: g.measure, targetBelow: g.targetBelow, diastolicBelow: g.diastolicBelow, dueDate: g.dueDate },
      };
    }) as Shaper<CarePlanGoal>,
  ],
  [
    Coverage,
    ((c: Coverage) => ({
      type: 'Coverage',
      shape: { patientRef: ref('Patient', c.patient), insurerRef: ref('Organization', c.insurer), memberNumber: c.memberNumber, plan: c.plan, status: c.status, periodStart: c.periodStart, periodEnd: c.periodEnd },
    })) as Shaper<Coverage>,
  ],
  [
    Consent,
    ((c: Consent) => ({
      type: 'Consent',
      shape: {
        patientRef: ref('Patient', c.patient),
        status: 'active',
        purpose: c.purpose,
        decision: c.decision,
        periodStart: c.periodStart,
        periodEnd: c.periodEnd,
        recordedAt: instant(c.createdAt),
        recordedByRef: ref('Practitioner', c.recordedBy),
        note: c.note,
      },
    })) as Shaper<Consent>,
  ],
]);

/** Empty columns read as null; the mappings know "absent" as undefined. */
function withoutNulls(value: unknown): unknown {
  if (value === null) return undefined;
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!value || typeof value !== 'object' || value instanceof Date) return value;
  // A loop, not entries → fromEntries: the backfill runs this for every record, and that made it a tenth of the mapping.
  const out: Record<string, unknown> = {};
  for (const key in value) out[key] = withoutNulls((value as Record<string, unknown>)[key]);
  return out;
}

export function parseJson(content: unknown): unknown {
  return typeof content === 'string' ? JSON.parse(content) : content;
}

