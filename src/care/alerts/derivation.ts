import { v7 as uuidv7 } from 'uuid';
import { alertsHoldingSql, resolutionSql } from '../../care-rules/alerts.js';
import { countyTimeZone } from '../../care-rules/calendar.js';
import type { EntityManager } from '../../db/orm.js';
import { appendEventsFor } from '../../events/recorder.js';
import { scopeSql } from '../state/sql.js';
import { AlertState } from './alert.entity.js';
import type { CareDerivation, CareScope } from '../index.js';

const uuids = (ids: string[]) => `{${ids.join(',')}}`;

/**
 * Alerts (ADR 16; rules in src/care-rules/alerts.ts): raises each alert that holds and was never raised for its
 * cause, and resolves each unresolved one whose cause is gone — set-based, for the patients in scope, writing nothing
 * when nothing differs. An alert is never raised twice for one cause (unique per patient, kind and cause), so one a
 * person resolved stays resolved. Its rows are written in SQL, so it appends their events itself: AlertRaised for
 * the new ones (what the urgent-alert subscription watches), AlertChanged for the resolved.
 */
export const alertDerivation: CareDerivation = {
  name: 'alerts',
  async derive(em: EntityManager, scope: CareScope, rules, today): Promise<void> {
    const patients = scopeSql(scope, 'p.id');
    const holding = alertsHoldingSql(rules, { today, timeZone: countyTimeZone(), patientScope: patients.sql });

    const due = (await em.execute(
      `with holding as (${holding})
       select h.patient_id, h.organization_id, h.kind, h.severity, h.condition_kind, h.cause_type, h.cause_id from holding h
       where h.raise and not exists (select 1 from alert a where a.patient_id = h.patient_id and a.kind = h.kind and a.cause_id = h.cause_id)`,
      patients.params,
    )) as Array<Record<string, string | null>>;
    if (due.length) {
      // Ids made here (uuid v7, as every record's): keyset pages by id follow the order alerts were raised.
      const rows = due.map((d) => ({ ...d, id: uuidv7() }));
      const raised = (await em.execute(
        `insert into alert (id, patient_id, organization_id, kind, severity, state, condition_kind, cause_type, cause_id, raised_at)
         select x.id, x.patient_id, x.organization_id, x.kind, x.severity, ?, x.condition_kind, x.cause_type, x.cause_id, now()
         from jsonb_to_recordset(?::jsonb) as x(id uuid, patient_id uuid, organization_id uuid, kind text, severity text, condition_kind text, cause_type text, cause_id uuid)
         on conflict (patient_id, kind, cause_id) do nothing returning id`,
        [AlertState.OPEN, JSON.stringify(rows)],
      )) as Array<{ id: string }>;
      if (raised.length) await appendEventsFor(em, 'Alert', 'r.id = any(?::uuid[])', [uuids(raised.map((r) => r.id))]);
    }

    const alerts = scopeSql(scope, 'g.patient_id');
    const resolved = (await em.execute(
      `with holding as (${holding})
       update alert a set state = ?, resolved_at = x.resolved_at, resolved_by_id = x.resolved_by_id, resolution = x.resolution,
         version = a.version + 1, updated_at = now()
       from (select g.id, res.* from alert g join patient p on p.id = g.patient_id, lateral (${resolutionSql()}) res
             where g.state <> ? and ${alerts.sql}
               and not exists (select 1 from holding h where h.patient_id = g.patient_id and h.kind = g.kind and h.cause_id = g.cause_id)) x
       where a.id = x.id returning a.id`,
      [...patients.params, AlertState.RESOLVED, AlertState.RESOLVED, ...alerts.params],
    )) as Array<{ id: string }>;
    if (resolved.length) {
      await appendEventsFor(em, 'Alert', 'r.id = any(?::uuid[])', [uuids(resolved.map((r) => r.id))], {
        type: 'AlertChanged',
        changed: ['resolution', 'resolvedAt', 'resolvedBy', 'state'],
      });
    }
  },
};
