import type { EntityManager } from '../../db/orm.js';
import type { AccessPolicy } from '../../access/policy.js';
import { attribute } from '../../access/attribution.js';
import {
  acceptedUnits,
  CANONICAL_UNIT,
  classifyObservation,
  DEFAULT_LOINC_FOR_KIND,
  ObservationKind,
  SYSTEMS,
  toCanonical,
} from '../../../fhir-mappings/codes.js';
import { controlStatusOf } from '../../care-rules/control.js';
import { type Implausibility, implausibilityOf, Plausibility } from '../../care-rules/plausibility.js';
import { type CareRules, DEFAULT_CARE_RULES } from '../../care-rules/rules.js';
import { badInput, DomainError, isUuid } from '../errors.js';
import { decodeCursor, encodeCursor, type Page, pageSize } from '../pagination.js';
import { Patient } from '../patient/patient.entity.js';
import { Practitioner } from '../practitioner/practitioner.entity.js';
import { Observation, ObservationSource } from './observation.entity.js';
import { FollowUp } from '../follow-up/follow-up.entity.js';
import { countyToday } from '../../care-rules/calendar.js';

export interface RecordObservationInput {
  patientId: string;
  /** Either a kind (the default LOINC code is used) or a LOINC code. */
  kind?: ObservationKind | null;
  code?: string | null;
  value?: number | null;
  unit?: string | null;
  systolic?: number | null;
  diastolic?: number | null;
  effectiveAt: Date;
  source?: ObservationSource | null;
  /** Who took the reading: the caller when not given (for a clinic reading); else the caller or a colleague (attribution.ts). */
  performerId?: string | null;
  /** Where: the caller's organisation when not given; else it or one below it. */
  organizationId?: string | null;
  deviceId?: string | null;
  sourceSystem?: string | null;
  sourceId?: string | null;
  /**
   * The reading is right though implausible (outside its plausible range, systolic not above diastolic, in the
   * future, before birth): store it, flagged IMPLAUSIBLE and left out of control status. Without it such a reading
   * is refused.
   */
  confirmImplausible?: boolean | null;
  /** The visit the reading was taken at (a done visit of the same patient): the visit is judged by its readings. */
  followUpId?: string | null;
}

export interface ObservationFilter {
  patientId?: string;
  /** Patients managed by this organisation or its sub-organisations. */
  organizationId?: string;
  kinds?: ObservationKind[];
  from?: Date;
  to?: Date;
  source?: ObservationSource;
}

export const MAX_OBSERVATION_BATCH = 1000;

/** A reading's fields as stored: canonical values, plausibility and the control status that follows from them. */
export type ReadingFields = ReturnType<typeof readingFields>;

/**
 * What the rules make of one reading, the same for every path (GraphQL, FHIR): the fields it is stored with and,
 * if it is implausible, why (care-rules/plausibility.ts). The path decides what an implausibility means — GraphQL
 * refuses it unless confirmed, FHIR stores it flagged (`recordBatch`, `writeFromFhir`).
 *
 * What is *malformed* — no kind or an unknown code, not a time, no value (or a value where systolic/diastolic
 * belong), a unit that cannot be converted — throws a DomainError (BAD_USER_INPUT) naming the field: GraphQL
 * refuses it; over FHIR the resource is stored as sent and left out of the domain with a warning. Implausible is
 * what is well-formed but not believable: a value outside its plausible range, a systolic not above its diastolic,
 * a time in the future or before the patient was born.
 */
export function assessReading(
  input: RecordObservationInput,
  rules: CareRules = DEFAULT_CARE_RULES,
  field = 'input',
  birthDate?: string | null,
): { fields: ReadingFields; implausible?: Implausibility } {
  let kind: ObservationKind;
  let code: string;
  if (input.code) {
    code = input.code.trim();
    kind = classifyObservation(SYSTEMS.loinc, code);
    if (kind === ObservationKind.OTHER) throw badInput(`LOINC code ${code} is not a measurement this service knows`, `${field}.code`);
    if (input.kind && input.kind !== kind) throw badInput(`code ${code} is a ${kind}, not a ${input.kind}`, `${field}.kind`);
  } else if (input.kind && input.kind !== ObservationKind.OTHER) {
    kind = input.kind;
    code = DEFAULT_LOINC_FOR_KIND[kind]!;
  } else {
    throw badInput('give a measurement kind or a LOINC code', `${field}.kind`);
  }
  const effectiveAt = input.effectiveAt;
  if (!(effectiveAt instanceof Date) || Number.isNaN(effectiveAt.getTime())) throw badInput('effectiveAt is not a time', `${field}.effectiveAt`);

  const base = { kind, code, system: SYSTEMS.loinc, effectiveAt };
  let canonical: CanonicalFields;
  if (kind === ObservationKind.BLOOD_PRESSURE) {
    const { systolic, diastolic } = input;
    if (systolic == null || diastolic == null) throw badInput('a blood pressure needs systolic and diastolic', `${field}.systolic`);
    if (input.value != null) throw badInput('a blood pressure has systolic and diastolic, not value', `${field}.value`);
    const sys = toCanonical(kind, systolic, input.unit ?? undefined);
    const dia = toCanonical(kind, diastolic, input.unit ?? undefined);
    if (!sys || !dia) throw badInput(`unit ${input.unit} is not a pressure unit (${acceptedUnits(kind).join(', ')})`, `${field}.unit`);
    canonical = { ...base, systolic: sys.value, diastolic: dia.value, unit: CANONICAL_UNIT[kind], receivedUnit: input.unit ?? undefined };
  } else {
    if (input.systolic != null || input.diastolic != null) throw badInput(`a ${kind} has a value, not systolic/diastolic`, `${field}.systolic`);
    if (input.value == null) throw badInput(`a ${kind} needs a value`, `${field}.value`);
    const converted = toCanonical(kind, input.value, input.unit ?? undefined);
    if (!converted) throw badInput(`unit ${input.unit} is not accepted for ${kind} (${acceptedUnits(kind).join(', ')})`, `${field}.unit`);
    canonical = { ...base, value: converted.value, unit: converted.unit, receivedValue: input.value, receivedUnit: input.unit ?? converted.unit };
  }
  const implausible = implausibilityOf(canonical, rules, { birthDate });
  return { fields: readingFields(canonical, implausible, rules), implausible };
}

interface CanonicalFields {
  kind: ObservationKind;
  code: string;
  system: string;
  effectiveAt: Date;
  value?: number;
  systolic?: number;
  diastolic?: number;
  unit?: string;
  receivedValue?: number;
  receivedUnit?: string;
}

/** The stored fields of a reading: its values, plausibility, and control status (null when implausible) by the configured rules. */
function readingFields(canonical: CanonicalFields, implausible: Implausibility | undefined, rules: CareRules) {
  const plausibility = implausible ? Plausibility.IMPLAUSIBLE : Plausibility.PLAUSIBLE;
  return {
    ...canonical,
    plausibility,
    plausibilityReason: implausible?.reason,
    controlStatus: controlStatusOf({ ...canonical, plausibility }, rules),
  };
}

/**
 * Validates and normalises one reading into the fields of an Observation, refusing an implausible one unless
 * `confirmImplausible` (then stored flagged). The GraphQL mutations go through it.
 */
export function normaliseReading(input: RecordObservationInput, rules: CareRules = DEFAULT_CARE_RULES, field = 'input', birthDate?: string | null): ReadingFields {
  const { fields, implausible } = assessReading(input, rules, field, birthDate);
  if (implausible && !input.confirmImplausible) {
    throw badInput(
      `${implausible.reason}: if the reading is right, record it with confirmImplausible: true (it is stored flagged IMPLAUSIBLE and left out of control status)`,
      `${field}.${implausible.field}`,
    );
  }
  return fields;
}

/** A reading as a FHIR Observation carries it (fhir-mappings' ObservationShape): values already in the canonical unit. */
export interface FhirReading {
  kind: ObservationKind;
  code: string;
  system: string;
  value?: number;
  unit?: string;
  systolic?: number;
  diastolic?: number;
  receivedValue?: number;
  receivedUnit?: string;
  effectiveAt: Date;
  source: ObservationSource;
  deviceId?: string;
}

/** How the FHIR projection writes a reading (src/fhir/projection/observation.ts). */
export interface FhirReadingWrite {
  /** The resource's id: the observation is stored under it. */
  id: string;
  patientId: string;
  performerId?: string;
  /** The follow-up visit its `encounter` names, when that is a visit of ours of the same patient (else not linked). */
  followUpId?: string;
  /** The resource is new to the store: no lookup needed. */
  created: boolean;
  /** In a transaction Bundle: no flush here, one at the end. */
  deferFlush: boolean;
  /** Marks the record as written from FHIR (not to be written back as FHIR): called before any flush. */
  mark: (o: Observation) => void;
}

export class ObservationService {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
    private readonly rules: CareRules = DEFAULT_CARE_RULES,
  ) {}

  /** Newest first, keyset-paginated on (effectiveAt, id). */
  async search(filter: ObservationFilter, first: number | undefined, after: string | undefined): Promise<Page<Observation>> {
    const limit = pageSize(first);
    const cursor = decodeCursor(after, 2) as [string, string] | undefined;
    if (cursor && (Number.isNaN(new Date(cursor[0]).getTime()) || typeof cursor[1] !== 'string' || !isUuid(cursor[1]))) {
      throw badInput('after is not a cursor this API issued', 'after');
    }
    for (const key of ['patientId', 'organizationId'] as const) {
      if (filter[key] && !isUuid(filter[key]!)) throw badInput(`${key} is not an id`, key);
    }
    if (filter.from && filter.to && filter.from > filter.to) throw badInput('from is after to', 'from');
    const build = () => {
      const qb = this.policy.restrict(this.em.createQueryBuilder(Observation, 'o'), 'Observation', 'o');
      if (filter.patientId) qb.andWhere({ patient: filter.patientId });
      if (filter.organizationId) {
        qb.andWhere(
          `o.patient_id in (select p.id from patient p join organization po on po.id = p.managing_organization_id
             where po.path like (select s.path from organization s where s.id = ?) || '%')`,
          [filter.organizationId],
        );
      }
      if (filter.kinds?.length) qb.andWhere({ kind: { $in: filter.kinds } });
      if (filter.source) qb.andWhere({ source: filter.source });
      if (filter.from) qb.andWhere({ effectiveAt: { $gte: filter.from } });
      if (filter.to) qb.andWhere({ effectiveAt: { $lte: filter.to } });
      return qb;
    };
    const qb = build();
    if (cursor) {
      const at = new Date(cursor[0]);
      qb.andWhere({ $or: [{ effectiveAt: { $lt: at } }, { effectiveAt: at, id: { $lt: cursor[1] } }] });
    }
    qb.orderBy([{ effectiveAt: 'desc' }, { id: 'desc' }]).limit(limit + 1);
    const rows = await qb.getResultList();
    return {
      items: rows.slice(0, limit),
      hasNextPage: rows.length > limit,
      cursorOf: (o) => encodeCursor([o.effectiveAt.toISOString(), o.id]),
      count: () => build().getCount(),
    };
  }

  /**
   * Writes a reading a FHIR Observation carries, under the resource's id, by the same rules as `recordBatch`
   * (`assessReading`): an implausible reading is stored flagged, never refused — the resource is already stored as
   * sent; a malformed one (or one whose patient the domain does not hold) is left out of the domain. Either is
   * returned for the projection to report as a warning. No flush while a transaction Bundle defers it.
   */
  async writeFromFhir(reading: FhirReading, w: FhirReadingWrite): Promise<{ observation?: Observation; implausible?: Implausibility; leftOut?: DomainError }> {
    const em = this.em;
    const patient = await em.findOne(Patient, { id: w.patientId }, { filters: false });
    if (!patient) return { leftOut: badInput(`Patient/${w.patientId} is not a patient this service holds`, 'subject') };
    let assessed: ReturnType<typeof assessReading>;
    try {
      const { kind, value, unit, systolic, diastolic, effectiveAt } = reading;
      assessed = assessReading({ patientId: patient.id, kind, value, unit, systolic, diastolic, effectiveAt }, this.rules, 'Observation', patient.birthDate);
    } catch (err) {
      if (err instanceof DomainError) return { leftOut: err };
      throw err;
    }
    const performer = w.performerId && (await em.findOne(Practitioner, { id: w.performerId })) ? em.getReference(Practitioner, w.performerId) : undefined;
    // Found in the unit of work too: a visit earlier in the same transaction Bundle is not flushed yet.
    const pending = w.followUpId ? em.getUnitOfWork().getById<FollowUp>(FollowUp, w.followUpId) : undefined;
    const found = pending ?? (w.followUpId ? await em.findOne(FollowUp, { id: w.followUpId }, { filters: false }) : null);
    const visit = found && found.patient.id === patient.id ? found : undefined;
    const data = {
      ...assessed.fields,
      // As sent: the code and system it came with, the unit and value as received.
      code: reading.code,
      system: reading.system,
      unit: reading.unit,
      receivedValue: reading.receivedValue,
      receivedUnit: reading.receivedUnit,
      patient,
      source: reading.source,
      deviceId: reading.deviceId,
      performer,
      followUp: visit,
    };
    const existing = w.created ? null : await em.findOne(Observation, { id: w.id }, { filters: false });
    let observation: Observation;
    if (existing) observation = em.assign(existing, data as never);
    else observation = em.create(Observation, { id: w.id, version: 1, ...data } as never) as Observation;
    w.mark(observation);
    if (!w.deferFlush) await em.flush();
    return { observation, implausible: assessed.implausible };
  }

  async record(input: RecordObservationInput): Promise<Observation> {
    const [observation] = await this.recordBatch([input], 'input');
    return observation!;
  }

  /**
   * All-or-nothing: one bad reading refuses the batch. A reading re-sent with the same source id is not duplicated.
   * `visitDay`: the readings are a visit's (recordFollowUp), each taken that county day.
   */
  async recordBatch(inputs: RecordObservationInput[], field = 'inputs', visitDay?: string): Promise<Observation[]> {
    if (inputs.length === 0) return [];
    this.policy.assertCan('Observation', 'c');
    if (inputs.length > MAX_OBSERVATION_BATCH) throw badInput(`at most ${MAX_OBSERVATION_BATCH} readings per batch`, field);
    const prefix = (i: number) => (field === 'input' ? field : `${field}.${i}`);
    // Input errors first, before any lookup; the birth-date check once the patients are loaded.
    for (const [i, input] of inputs.entries()) {
      normaliseReading(input, this.rules, prefix(i));
      // What the mutation's input must say, beyond the reading itself (a FHIR Observation says it otherwise).
      if (input.source === ObservationSource.DEVICE && !input.deviceId?.trim()) throw badInput('a DEVICE reading needs a deviceId', `${prefix(i)}.deviceId`);
      if (!!input.sourceSystem !== !!input.sourceId) throw badInput('sourceSystem and sourceId go together', `${prefix(i)}.sourceId`);
      if (visitDay && countyToday(input.effectiveAt) !== visitDay) throw badInput(`a reading taken at the visit is of its day, ${visitDay}`, `${prefix(i)}.effectiveAt`);
    }
    return this.em.transactional(async (em) => {
      const patients = await loadAll(em, Patient, inputs.map((i) => i.patientId), (i) => `${prefix(i)}.patientId`);
      const visits = await loadAll(em, FollowUp, inputs.map((i) => i.followUpId), (i) => `${prefix(i)}.followUpId`);
      inputs.forEach((input, i) => {
        const visit = input.followUpId ? visits.get(input.followUpId) : undefined;
        if (visit && visit.patient.id !== input.patientId) throw badInput('followUpId is a visit of another patient', `${prefix(i)}.followUpId`);
        if (visit && (!visit.doneDate || visit.cancelledAt)) throw badInput('followUpId is not a visit that took place (planned or cancelled)', `${prefix(i)}.followUpId`);
      });
      // A reading taken at home or by a device has no performer unless one is named.
      const attributed = await attribute(em, this.policy, inputs.map((i) => ({ practitionerId: i.performerId, organizationId: i.organizationId })), {
        fields: (i) => ({ practitioner: `${prefix(i)}.performerId`, organization: `${prefix(i)}.organizationId` }),
        defaultPractitioner: (i) => (inputs[i]!.source ?? ObservationSource.CLINIC) === ObservationSource.CLINIC,
      });
      const keyed = inputs.filter((i) => i.sourceSystem && i.sourceId);
      const existing = keyed.length
        ? await em.find(Observation, { $or: keyed.map((i) => ({ sourceSystem: i.sourceSystem!, sourceId: i.sourceId! })) })
        : [];
      const existingByKey = new Map(existing.map((o) => [`${o.sourceSystem}|${o.sourceId}`, o]));
      const out: Observation[] = [];
      inputs.forEach((input, i) => {
        const patient = patients.get(input.patientId)!;
        const reading = normaliseReading(input, this.rules, prefix(i), patient.birthDate);
        const key = input.sourceSystem ? `${input.sourceSystem}|${input.sourceId}` : undefined;
        const already = key ? existingByKey.get(key) : undefined;
        if (already) {
          if (already.patient.id !== patient.id) throw badInput(`reading ${key} was already recorded for another patient`, `${prefix(i)}.sourceId`);
          out.push(already);
          return;
        }
        const observation = em.create(Observation, {
          ...reading,
          patient,
          source: input.source ?? ObservationSource.CLINIC,
          performer: attributed[i]!.practitioner,
          organization: attributed[i]!.organization,
          deviceId: input.deviceId ?? undefined,
          followUp: input.followUpId ? visits.get(input.followUpId) : undefined,
          sourceSystem: input.sourceSystem ?? undefined,
          sourceId: input.sourceId ?? undefined,
          version: 1,
        } as never) as Observation;
        if (key) existingByKey.set(key, observation);
        out.push(observation);
      });
      await em.flush();
      return out;
    });
  }
}

/** Loads the distinct referenced ids in one query; an unknown id is a bad input naming its position. */
export async function loadAll<T extends { id: string }>(
  em: EntityManager,
  entity: new () => T,
  ids: Array<string | null | undefined>,
  fieldOf: (index: number) => string,
): Promise<Map<string, T>> {
  const wanted = [...new Set(ids.filter((id): id is string => !!id))];
  const bad = ids.findIndex((id) => id && !isUuid(id));
  if (bad >= 0) throw badInput(`no ${entity.name} with id ${ids[bad]}`, fieldOf(bad));
  const found = wanted.length ? await em.find(entity, { id: { $in: wanted } } as never) : [];
  const byId = new Map(found.map((e) => [(e as T).id, e as T]));
  const missing = ids.findIndex((id) => id && !byId.has(id));
  if (missing >= 0) throw badInput(`no ${entity.name} with id ${ids[missing]}`, fieldOf(missing));
  return byId;
}
