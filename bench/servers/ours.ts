/**
 * This service as it ships (dist/src/main.js) against the bench database, one process per caller so that each
 * has its own peak memory; and the callers' tokens. The rate limit is lifted (the bench is one caller asking
 * thousands of times a second); the event consumers are left off (EVENT_WORKER=off): the questions only read. The
 * log level is production's (info: a line per request, to data/bench-logs/), so the figure is the service as run.
 */
import path from 'node:path';
import type pg from 'pg';
import type { Security } from '../../src/access/index.js';
import { benchEnv } from '../seed.js';
import { startChild, type Child } from './child.js';

export const OUR_SERVER = path.resolve('dist/src/main.js');

export async function startOurs(name: string, databaseUrl: string): Promise<Child> {
  const env = { ...benchEnv(databaseUrl), SEED_ON_START: '0', EVENT_WORKER: 'off', LOG_LEVEL: 'info', RATE_LIMIT_PER_MINUTE: '1000000000' };
  return startChild(name, OUR_SERVER, env, async (base) => (await fetch(`${base}/ready`)).ok);
}

export interface Township {
  id: string;
  code: string;
  name: string;
  path: string;
  patients: number;
}

/** The township with the most managed patients: its GP's questions reach the most data. */
export async function busiestTownship(c: pg.Client): Promise<Township> {
  const { rows } = await c.query<Township>(
    `select o.id, o.code, o.name, o.path, count(p.id)::int as patients
       from organization o join organization v on v.path like o.path || '%' join patient p on p.managing_organization_id = v.id
      where o.level = 'TOWNSHIP' group by o.id order by count(p.id) desc, o.code limit 1`,
  );
  if (!rows[0]) throw new Error('the bench database has no township with patients: is it seeded?');
  return rows[0];
}

/** Patients of the township with at least one condition (the ones a GP opens), in a fixed pseudo-random order. */
export async function cardPatients(c: pg.Client, township: Township, n: number): Promise<string[]> {
  const { rows } = await c.query<{ id: string }>(
    `select p.id from patient p join organization v on v.id = p.managing_organization_id
      where v.path like $1 || '%' and exists (select 1 from condition c where c.patient_id = p.id)
      order by md5(p.id::text) limit $2`,
    [township.path, n],
  );
  return rows.map((r) => r.id);
}

export async function observationIds(c: pg.Client, patients: string[], n: number): Promise<string[]> {
  const { rows } = await c.query<{ id: string }>(
    `select id from fhir_resource where resource_type = 'Observation' and not deleted and patient_id = any($1::uuid[]) order by md5(id::text) limit $2`,
    [patients, n],
  );
  return rows.map((r) => r.id);
}

export async function tokens(security: Security, township: Township): Promise<{ gp: string; admin: string }> {
  const hours6 = 6 * 3600;
  return {
    gp: await security.tokens.sign({ ncd_kind: 'user', roles: ['GENERAL_PRACTITIONER'], org: township.code }, 'bench-township-gp', hours6),
    admin: await security.tokens.sign({ ncd_kind: 'user', roles: ['PLATFORM_ADMIN'] }, 'bench-platform-admin', hours6),
  };
}

export interface Village {
  id: string;
  code: string;
  name: string;
  path: string;
  patients: number;
}

/** The village of the township with the most patients with a condition not under control (ties: by code): its list is the longest. */
export async function busiestVillage(c: pg.Client, township: Township): Promise<Village> {
  const { rows } = await c.query<Village>(
    `select v.id, v.code, v.name, v.path, count(distinct cc.patient_id)::int as patients
       from organization v join patient p on p.managing_organization_id = v.id
       join condition_control cc on cc.patient_id = p.id and cc.control_status in ('UNCONTROLLED', 'URGENT')
      where v.level = 'VILLAGE' and v.path like $1 || '%' and p.care_status = 'ACTIVE'
      group by v.id order by count(distinct cc.patient_id) desc, v.code limit 1`,
    [township.path],
  );
  if (!rows[0]) throw new Error(`no village of ${township.code} has an uncontrolled patient: did the seed run the care rules (condition_control)?`);
  return rows[0];
}

