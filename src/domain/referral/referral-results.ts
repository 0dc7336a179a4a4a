import type { EntityManager } from '../../db/orm.js';
import { Condition } from '../condition/condition.entity.js';
import { badInput, isUuid } from '../errors.js';
import { Observation } from '../observation/observation.entity.js';
import { Referral } from './referral.entity.js';
import { ReferralResult } from './referral-result.entity.js';

/** The readings and diagnoses answering a referral, by id (Observation and Condition ids). */
export interface ReferralResultIds {
  observationIds: readonly string[];
  conditionIds: readonly string[];
}

/**
 * The patient's records under these ids, as the caller sees them (the ORM's access filter), or — `unfiltered`, for
 * a hospital's Task whose record the FHIR store has already authorised writing — past it. A record of another
 * patient, or one not found, is `missing`: the caller decides whether that is a refusal (GraphQL) or a warning (FHIR).
 */
export async function findResultRecords(
  em: EntityManager,
  patientId: string,
  ids: ReferralResultIds,
  unfiltered = false,
): Promise<{ observations: Observation[]; conditions: Condition[]; missing: string[] }> {
  const options = unfiltered ? { filters: false } : {};
  const lookup = async <T extends { id: string; patient: { id: string } }>(entity: new () => T, wanted: readonly string[]) => {
    const valid = [...new Set(wanted.filter(isUuid).map((id) => id.toLowerCase()))];
    // A record created earlier in this unit of work (a Bundle's Observation, flushed at its end) is in the identity map.
    const inMap = valid.map((id) => em.getUnitOfWork().getById<T>(entity, id as never)).filter((e): e is T => !!e);
    const rest = valid.filter((id) => !inMap.some((e) => e.id === id));
    const found = [...inMap, ...(rest.length ? ((await em.find(entity, { id: { $in: rest } } as never, options as never)) as T[]) : [])];
    return found.filter((r) => r.patient.id === patientId);
  };
  const observations = await lookup(Observation, ids.observationIds);
  const conditions = await lookup(Condition, ids.conditionIds);
  const have = new Set([...observations, ...conditions].map((r) => r.id));
  const missing = [...ids.observationIds, ...ids.conditionIds].filter((id) => !have.has(id.toLowerCase()));
  return { observations, conditions, missing };
}

/** GraphQL's completeReferral: every record named must be the patient's and one the caller may see. */
export async function resultRecordsOrRefuse(em: EntityManager, patientId: string, ids: ReferralResultIds) {
  const found = await findResultRecords(em, patientId, ids);
  if (found.missing.length) {
    const field = ids.observationIds.includes(found.missing[0]!) ? 'outcomeObservationIds' : 'outcomeConditionIds';
    throw badInput(`${found.missing[0]} is not a reading or diagnosis of this referral's patient`, field);
  }
  return found;
}

/**
 * Makes these records the referral's results: those no longer named are taken off, new ones linked (in the
 * caller's unit of work). A hospital's Task lists all of its outputs each time it is sent, so its list replaces.
 */
export async function setReferralResults(em: EntityManager, referral: Referral, records: { observations: Observation[]; conditions: Condition[] }): Promise<void> {
  const current = await em.find(ReferralResult, { referral }, { filters: false });
  const wanted = new Set([...records.observations, ...records.conditions].map((r) => r.id));
  for (const row of current) {
    const target = row.observation?.id ?? row.condition?.id;
    if (!target || !wanted.has(target)) em.remove(row);
    else wanted.delete(target);
  }
  for (const observation of records.observations) if (wanted.has(observation.id)) em.create(ReferralResult, { referral, observation, version: 1 } as never);
  for (const condition of records.conditions) if (wanted.has(condition.id)) em.create(ReferralResult, { referral, condition, version: 1 } as never);
}
