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
import { type CareRules, DEFAULT_CARE_RULES } from '../../care-rules/rules.js';
import { badInput, isUuid } from '../errors.js';
import { decodeCursor, encodeCursor, type Page, pageSize } from '../pagination.js';
import { Patient } from '../patient/patient.entity.js';
import { Observation, ObservationSource } from './observation.entity.js';

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
/** Device clocks drift: a reading a few minutes "in the future" is still accepted. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

type Range = [number, number];

function plausibleRange(kind: ObservationKind, rules: CareRules): Range | undefined {
  const p = rules.plausible;
  switch (kind) {
    case ObservationKind.FASTING_GLUCOSE:
    case ObservationKind.GLUCOSE:
      return p.glucoseMmolL;
    case ObservationKind.HBA1C:
      return p.hba1cPercent;
    case ObservationKind.WEIGHT:
      return p.weightKg;
    case ObservationKind.HEIGHT:
      return p.heightCm;
    case ObservationKind.BMI:
      return p.bmi;
    case ObservationKind.HEART_RATE:
      return p.heartRate;
    case ObservationKind.WAIST_CIRCUMFERENCE:
      return p.waistCm;
    default:
      return undefined;
  }
}

const inRange = (v: number, [lo, hi]: Range) => Number.isFinite(v) && v >= lo && v <= hi;

/**
 * Validates and normalises one reading into the fields of an Observation. Pure: the FHIR importer and
 * the GraphQL mutations share it, so a reading refused by one is refused by the other.
 */
export function normaliseReading(input: RecordObservationInput, rules: CareRules = DEFAULT_CARE_RULES, field = 'input') {
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
  if (effectiveAt.getTime() > Date.now() + CLOCK_SKEW_MS) throw badInput('effectiveAt is in the future', `${field}.effectiveAt`);
  if (input.source === ObservationSource.DEVICE && !input.deviceId?.trim()) throw badInput('a DEVICE reading needs a deviceId', `${field}.deviceId`);
  if (!!input.sourceSystem !== !!input.sourceId) throw badInput('sourceSystem and sourceId go together', `${field}.sourceId`);

  const base = { kind, code, system: SYSTEMS.loinc, effectiveAt };
  if (kind === ObservationKind.BLOOD_PRESSURE) {
    const { systolic, diastolic } = input;
    if (systolic == null || diastolic == null) throw badInput('a blood pressure needs systolic and diastolic', `${field}.systolic`);
    if (input.value != null) throw badInput('a blood pressure has systolic and diastolic, not value', `${field}.value`);
    const sys = toCanonical(kind, systolic, input.unit ?? undefined);
    const dia = toCanonical(kind, diastolic, input.unit ?? undefined);
    if (!sys || !dia) throw badInput(`unit ${input.unit} is not a pressure unit (${acceptedUnits(kind).join(', ')})`, `${field}.unit`);
    if (!inRange(sys.value, rules.plausible.systolic)) throw badInput(`systolic ${sys.value} mmHg is outside ${rules.plausible.systolic.join('–')}`, `${field}.systolic`);
    if (!inRange(dia.value, rules.plausible.diastolic)) throw badInput(`diastolic ${dia.value} mmHg is outside ${rules.plausible.diastolic.join('–')}`, `${field}.diastolic`);
    if (sys.value <= dia.value) throw badInput('systolic must be greater than diastolic', `${field}.systolic`);
    return { ...base, systolic: sys.value, diastolic: dia.value, unit: CANONICAL_UNIT[kind], receivedUnit: input.unit ?? undefined };
  }
  if (input.systolic != null || input.diastolic != null) throw badInput(`a ${kind} has a value, not systolic/diastolic`, `${field}.systolic`);
  if (input.value == null) throw badInput(`a ${kind} needs a value`, `${field}.value`);
  const converted = toCanonical(kind, input.value, input.unit ?? undefined);
  if (!converted) throw badInput(`unit ${input.unit} is not accepted for ${kind} (${acceptedUnits(kind).join(', ')})`, `${field}.unit`);
  const range = plausibleRange(kind, rules);
  if (range && !inRange(converted.value, range)) {
    throw badInput(`${kind} ${converted.value} ${converted.unit} is outside the plausible range ${range.join('–')}`, `${field}.value`);
  }
  return { ...base, value: converted.value, unit: converted.unit, receivedValue: input.value, receivedUnit: input.unit ?? converted.unit };
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

  async record(input: RecordObservationInput): Promise<Observation> {
    const [observation] = await this.recordBatch([input], 'input');
    return observation!;
  }

  /** All-or-nothing: one bad reading refuses the batch. A reading re-sent with the same source id is not duplicated. */
  async recordBatch(inputs: RecordObservationInput[], field = 'inputs'): Promise<Observation[]> {
    if (inputs.length === 0) return [];
    this.policy.assertCan('Observation', 'c');
    if (inputs.length > MAX_OBSERVATION_BATCH) throw badInput(`at most ${MAX_OBSERVATION_BATCH} readings per batch`, field);
    const prefix = (i: number) => (field === 'input' ? field : `${field}.${i}`);
    const readings = inputs.map((input, i) => normaliseReading(input, this.rules, prefix(i)));
    return this.em.transactional(async (em) => {
      const patients = await loadAll(em, Patient, inputs.map((i) => i.patientId), (i) => `${prefix(i)}.patientId`);
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
        if (patient.birthDate && readings[i]!.effectiveAt.toISOString().slice(0, 10) < patient.birthDate) {
          throw badInput('effectiveAt is before the patient was born', `${prefix(i)}.effectiveAt`);
        }
        const key = input.sourceSystem ? `${input.sourceSystem}|${input.sourceId}` : undefined;
        const already = key ? existingByKey.get(key) : undefined;
        if (already) {
          if (already.patient.id !== patient.id) throw badInput(`reading ${key} was already recorded for another patient`, `${prefix(i)}.sourceId`);
          out.push(already);
          return;
        }
        const observation = em.create(Observation, {
          ...readings[i],
          patient,
          source: input.source ?? ObservationSource.CLINIC,
          performer: attributed[i]!.practitioner,
          organization: attributed[i]!.organization,
          deviceId: input.deviceId ?? undefined,
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
