/**
 * The floor: each question answered by one hand-written SQL statement that builds the whole GraphQL-shaped
 * answer (json_build_object / json_agg), sent as PostgreSQL wrote it, over node:http + pg (DATABASE_URL, PORT).
 * What the answer means is ours (src/graphql/loaders.ts, src/care-rules/latest.ts): the latest reading is the
 * newest plausible one of its kinds, ties to the larger id; care plans ACTIVE. A child process of the bench.
 *   GET /card?id=<patient id>
 *   GET /list            the first 50 patients by id
 *   GET /list?org=<path> the first 50 managed in that organisation's subtree (to check a township GP's list)
 *   GET /overdue, /uncontrolled   the worklist scenarios (floor-worklists.ts)
 *   GET /indicators               every indicator over a subtree and a period (floor-indicators.ts)
 */
import { createServer } from 'node:http';
import pg from 'pg';
import { indicatorsPage } from './floor-indicators.js';
import { worklistPage } from './floor-worklists.js';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.FLOOR_POOL ?? 10) });

const list = (select: string, from: string, order: string) => `coalesce((select json_agg(${select} order by ${order}) from ${from}), '[]'::json)`;

function latest(kinds: string[], fields: Record<string, string>): string {
  const obj = Object.entries(fields).map(([k, col]) => `'${k}', o.${col}`).join(', ');
  return `(select json_build_object(${obj}) from observation o
    where o.patient_id = p.id and o.kind in (${kinds.map((k) => `'${k}'`).join(', ')}) and o.plausibility = 'PLAUSIBLE'
    order by o.effective_at desc, o.id desc limit 1)`;
}

const BP = latest(['BLOOD_PRESSURE'], { systolic: 'systolic', diastolic: 'diastolic', effectiveAt: 'effective_at' });
const glucose = (kinds: string[]) => latest(kinds, { value: 'value', unit: 'unit', effectiveAt: 'effective_at' });
const carePlans = (activity: string) =>
  list(
    `json_build_object('id', cp.id, 'title', cp.title, 'activities', ${list(`json_build_object(${activity})`, 'care_plan_activity a where a.care_plan_id = cp.id', 'a.id')})`,
    `care_plan cp where cp.patient_id = p.id and cp.status = 'ACTIVE'`,
    'cp.period_start desc, cp.id desc',
  );

const CARD = `select json_build_object('data', json_build_object('patient', json_build_object(
    'id', p.id, 'name', p.name, 'gender', p.gender, 'birthDate', p.birth_date,
    'conditions', ${list(`json_build_object('kind', c.kind, 'code', c.code, 'clinicalStatus', c.clinical_status)`, 'condition c where c.patient_id = p.id', 'c.id')},
    'latestBloodPressure', ${BP},
    'latestGlucose', ${glucose(['FASTING_GLUCOSE'])},
    'carePlans', ${carePlans(`'category', a.category, 'description', a.description`)},
    'followUps', ${list(
      `json_build_object('id', f.id, 'type', f.type, 'plannedDate', f.planned_date, 'doneDate', f.done_date)`,
      'follow_up f where f.patient_id = p.id',
      'f.done_date desc nulls last, f.planned_date desc nulls last, f.id desc',
    )}
  )))::text as body
  from patient p where p.id = $1`;

const LIST = `select json_build_object('data', json_build_object('patients', json_build_object('edges', ${list(
  `json_build_object('node', json_build_object(
    'id', p.id, 'name', p.name,
    'conditions', ${list(`json_build_object('kind', c.kind, 'code', c.code)`, 'condition c where c.patient_id = p.id', 'c.id')},
    'latestBloodPressure', ${BP},
    'latestGlucose', ${glucose(['FASTING_GLUCOSE', 'GLUCOSE'])},
    'carePlans', ${carePlans(`'category', a.category`)}))`,
  `(select * from patient p
      where $1::text is null or p.managing_organization_id in (select o.id from organization o where o.path like $1 || '%')
      order by p.id limit 50) p`,
  'p.id',
)})))::text as body`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://floor');
  try {
    let rows: Array<{ body: string }> = [];
    const worklist = (await worklistPage(pool, url)) ?? (await indicatorsPage(pool, url));
    if (worklist !== undefined) return void res.writeHead(200, { 'content-type': 'application/json' }).end(worklist);
    if (url.pathname === '/card' && UUID.test(url.searchParams.get('id') ?? '')) rows = (await pool.query(CARD, [url.searchParams.get('id')])).rows;
    else if (url.pathname === '/list') rows = (await pool.query(LIST, [url.searchParams.get('org')])).rows;
    else if (url.pathname !== '/ready') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(rows[0]?.body ?? '{"data":null}');
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
  }
});
server.listen(Number(process.env.PORT), '127.0.0.1');
const stop = async () => {
  server.close();
  await pool.end();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
