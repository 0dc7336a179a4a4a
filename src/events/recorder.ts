import { ChangeSetType, type EntityMetadata, type EventSubscriber, type FlushEventArgs, ReferenceKind } from '@mikro-orm/core';
import type { EntityManager } from '../db/orm.js';
import { DomainEvent } from './domain-event.entity.js';

/**
 * Which changes to the domain are events, and what they are called. A record's parts (a patient's identifiers,
 * a plan's goals and activities) are events of the record they belong to. Keyed by entity class name, so a new
 * domain concept becomes an event source by one line here.
 */
interface EventSource {
  created: string;
  changed: string;
  removed: string;
  /** For a part: the record it belongs to (its type and the reference to it). */
  partOf?: { type: string; via: string };
  /** Fields left out of the payload: what identifies a person (consumers read it from the record if they must). */
  omit?: string[];
  /** How the patient is found: the record itself, or a reference (default `patient`). */
  patient?: 'self' | string;
}

/** Free text may name people: left out of payloads (the record has it). */
const FREE_TEXT = ['note', 'findings', 'clinicalSummary', 'reasonText', 'statusReason', 'outcomeSummary'];

const ofRecord = (name: string, created = `${name}Recorded`): EventSource => ({ created, changed: `${name}Changed`, removed: `${name}Removed` });

export const EVENT_SOURCES: Record<string, EventSource> = {
  Patient: { ...ofRecord('Patient', 'PatientRegistered'), patient: 'self', omit: ['name', 'phone', 'address', 'birthDate', 'managementOverrideReason', 'careStatusReason'] },
  PatientIdentifier: { created: 'PatientChanged', changed: 'PatientChanged', removed: 'PatientChanged', partOf: { type: 'Patient', via: 'patient' }, omit: ['value', 'lookup', 'cipher'] },
  Condition: ofRecord('Condition'),
  Observation: ofRecord('Observation'),
  FollowUp: { ...ofRecord('FollowUp'), omit: FREE_TEXT },
  Admission: ofRecord('Admission'),
  Referral: { created: 'ReferralChanged', changed: 'ReferralChanged', removed: 'ReferralChanged', omit: FREE_TEXT },
  ReferralResult: { created: 'ReferralChanged', changed: 'ReferralChanged', removed: 'ReferralChanged', partOf: { type: 'Referral', via: 'referral' } },
  CarePlan: { created: 'CarePlanChanged', changed: 'CarePlanChanged', removed: 'CarePlanChanged', omit: FREE_TEXT },
  CarePlanGoal: { created: 'CarePlanChanged', changed: 'CarePlanChanged', removed: 'CarePlanChanged', partOf: { type: 'CarePlan', via: 'carePlan' } },
  CarePlanActivity: { created: 'CarePlanChanged', changed: 'CarePlanChanged', removed: 'CarePlanChanged', partOf: { type: 'CarePlan', via: 'carePlan' } },
  Coverage: { created: 'CoverageChanged', changed: 'CoverageChanged', removed: 'CoverageChanged', omit: ['memberNumber'] },
  Consent: { ...ofRecord('Consent'), omit: FREE_TEXT },
  MedicationUse: { created: 'MedicationChanged', changed: 'MedicationChanged', removed: 'MedicationChanged' },
  // A patient joining or leaving a self-management group, and coming to one of its sessions (the group itself is the organisation's).
  SelfManagementGroupMember: { created: 'SelfManagementGroupMembershipChanged', changed: 'SelfManagementGroupMembershipChanged', removed: 'SelfManagementGroupMembershipChanged' },
  SelfManagementGroupAttendance: { created: 'SelfManagementSessionAttended', changed: 'SelfManagementSessionAttended', removed: 'SelfManagementSessionAttended' },
  // The pathway's facts (src/care/pathway): a health assessment, a call to an overdue patient (the number dialled is personal).
  Assessment: { ...ofRecord('Assessment'), omit: FREE_TEXT },
  ContactAttempt: { ...ofRecord('ContactAttempt'), omit: [...FREE_TEXT, 'phone'] },
  // Derived state (ADR 16): raised and resolved by the rules; `resolution` is free text. The urgent-alert subscription watches AlertRaised.
  Alert: { created: 'AlertRaised', changed: 'AlertChanged', removed: 'AlertChanged', omit: ['resolution'] },
};

/** Bookkeeping fields: in every record, never news. */
const BOOKKEEPING = new Set(['id', 'createdAt', 'updatedAt', 'version']);

/** The fields of a record an event carries, by entity metadata: own values, and references as `<name>Id`. */
function payloadFields(meta: EntityMetadata, source: EventSource): Array<{ key: string; prop: string; column: string; kind: 'value' | 'ref' | 'datetime' }> {
  const omit = new Set(source.omit ?? []);
  const fields = [];
  for (const prop of Object.values(meta.properties)) {
    if (BOOKKEEPING.has(prop.name) || omit.has(prop.name) || prop.persist === false) continue;
    if (prop.kind === ReferenceKind.MANY_TO_ONE) fields.push({ key: `${prop.name}Id`, prop: prop.name, column: prop.fieldNames[0]!, kind: 'ref' as const });
    else if (prop.kind === ReferenceKind.SCALAR || prop.kind === ReferenceKind.EMBEDDED) {
      const datetime = prop.columnTypes?.[0]?.startsWith('timestamp') ?? false;
      fields.push({ key: prop.name, prop: prop.name, column: prop.fieldNames[0]!, kind: datetime ? ('datetime' as const) : ('value' as const) });
    }
  }
  return fields;
}

/** What an event says about a record: its current values as the JSON column will hold them. */
export function payloadOf(meta: EntityMetadata, entity: Record<string, unknown>, changed?: string[]): Record<string, unknown> {
  const source = EVENT_SOURCES[meta.className]!;
  const out: Record<string, unknown> = {};
  for (const f of payloadFields(meta, source)) {
    const value = entity[f.prop];
    if (value == null) continue;
    out[f.key] = f.kind === 'ref' ? (value as { id: string }).id : value instanceof Date ? value.toISOString() : value;
  }
  if (changed) out.changed = changed.filter((c) => !BOOKKEEPING.has(c)).sort();
  return out;
}

/**
 * The same payload in SQL, from the same field list: for writers that insert rows in bulk (the seed) and must
 * leave the same events as the services do. `where` picks the rows of `table` (alias `r`) that are new; or, with
 * `change`, rows updated in SQL (the derived state of src/care/), whose event is that type with `changed`.
 */
export async function appendEventsFor(em: EntityManager, className: string, where: string, params: unknown[] = [], change?: { type: string; changed: string[] }): Promise<void> {
  const meta = em.getMetadata().getByClassName(className, false);
  const source = EVENT_SOURCES[className];
  if (!meta || !source || source.partOf) throw new Error(`no events for ${className}`);
  const fields = payloadFields(meta, source);
  const value = (f: (typeof fields)[number]) =>
    f.kind === 'datetime' ? `to_char(r."${f.column}" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')` : `r."${f.column}"`;
  // jsonb_strip_nulls: a null field is left out, as payloadOf leaves it out.
  const changed = change ? ` || jsonb_build_object('changed', array[${change.changed.map((c) => `'${c.replace(/[^A-Za-z]/g, '')}'`).join(', ')}]::text[])` : '';
  const payload = `jsonb_strip_nulls(jsonb_build_object(${fields.map((f) => `'${f.key}', ${value(f)}`).join(', ')}))${changed}`;
  const patient = source.patient === 'self' ? 'r.id' : `r."${meta.properties[source.patient ?? 'patient']?.fieldNames[0] ?? 'patient_id'}"`;
  await em.execute(
    `insert into domain_event (type, aggregate_type, aggregate_id, patient_id, payload)
     select ?, ?, r.id, ${patient}, ${payload} from "${meta.tableName}" r where ${where} order by r.id`,
    [change?.type ?? source.created, className, ...params],
  );
}

/**
 * The creation events of every record of every event source not yet in the outbox: what the services would have
 * written, for rows inserted in bulk (the seed).
 */
export async function appendMissingEvents(em: EntityManager): Promise<void> {
  for (const [className, source] of Object.entries(EVENT_SOURCES)) {
    if (source.partOf || !em.getMetadata().getByClassName(className, false)) continue;
    await appendEventsFor(em, className, `not exists (select 1 from domain_event d where d.aggregate_id = r.id)`);
  }
}

/**
 * Appends the events of a flush to the outbox, in the flush's own transaction: whatever writes the domain —
 * a GraphQL mutation, a FHIR Bundle, an import, a workflow — leaves the same events for the same change, and
 * a change is never committed without its event. One event per record per flush (a plan and three of its
 * activities changed together are one CarePlanChanged).
 */
export class DomainEventRecorder implements EventSubscriber {
  async onFlush({ em, uow }: FlushEventArgs): Promise<void> {
    const events = new Map<string, DomainEvent>();
    const changedParts = new Map<string, Set<string>>();
    for (const cs of uow.getChangeSets()) {
      const source = EVENT_SOURCES[cs.meta.className];
      if (!source) continue;
      const entity = cs.entity as Record<string, unknown> & { id: string };
      const type = cs.type === ChangeSetType.CREATE ? source.created : cs.type === ChangeSetType.DELETE ? source.removed : source.changed;
      if (source.partOf) {
        const owner = entity[source.partOf.via] as { id: string } | undefined;
        if (!owner) continue;
        const key = `${source.partOf.type}:${owner.id}`;
        (changedParts.get(key) ?? changedParts.set(key, new Set()).get(key)!).add(cs.meta.className);
        if (!events.has(key)) events.set(key, this.event(em, source.partOf.type, owner.id, type, this.patientOf(owner, 'self' === EVENT_SOURCES[source.partOf.type]?.patient), {}));
        continue;
      }
      const key = `${cs.meta.className}:${entity.id}`;
      const changed = cs.type === ChangeSetType.UPDATE ? Object.keys(cs.payload ?? {}) : undefined;
      if (changed && changed.every((c) => BOOKKEEPING.has(c))) continue;
      const payload = cs.type === ChangeSetType.DELETE ? {} : payloadOf(cs.meta, entity, changed);
      const earlier = events.get(key); // a part came first: the record's own event takes its place, its name kept if the record is new
      events.set(key, this.event(em, cs.meta.className, entity.id, cs.type === ChangeSetType.CREATE || !earlier ? type : earlier.type, this.patientOf(entity, source.patient === 'self'), payload));
    }
    for (const [key, parts] of changedParts) {
      const event = events.get(key)!;
      event.payload = { ...event.payload, parts: [...parts].sort() };
    }
    for (const event of events.values()) uow.computeChangeSet(event);
  }

  private patientOf(entity: Record<string, unknown>, self: boolean): string | undefined {
    if (self) return entity.id as string;
    const patient = entity.patient as { id: string } | undefined;
    return patient?.id;
  }

  private event(em: FlushEventArgs['em'], aggregateType: string, aggregateId: string, type: string, patientId: string | undefined, payload: Record<string, unknown>): DomainEvent {
    return em.create(DomainEvent, { type, aggregateType, aggregateId, patientId, payload }) as DomainEvent;
  }
}
