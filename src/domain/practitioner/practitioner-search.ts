import type { Predicate } from '../../access/policy.js';
import type { EntityManager } from '../../db/orm.js';
import { columnsOf, type ListQuery, recordOf } from '../../worklists/page.js';
import { badInput, isUuid } from '../errors.js';
import { Practitioner, type PractitionerRoleCode } from './practitioner.entity.js';

/** The root `practitioners` query's filter: whom to address a referral to, put on a team, or find a list of. */
export interface PractitionerFilter {
  /** Holding a role at this organisation or one below it. */
  organizationId?: string | null;
  /** Holding this role (at the organisation, when one is given). */
  role?: PractitionerRoleCode | null;
  /** Members of this family-doctor team. */
  careTeamId?: string | null;
  /** A name prefix, or a practitioner code exactly. */
  search?: string | null;
}

export const PRACTITIONER_SORTS = {
  NAME: [{ sql: 'pr.name', type: 'text' }, { sql: 'pr.id', type: 'uuid' }],
} as const;

/**
 * The county directory's practitioners (every caller reads the directory: src/access/policy.ts, FHIR_READ_RULES), by
 * organisation subtree, role, team and name, in one statement per page (src/worklists/page.ts).
 */
export function practitioners(em: EntityManager, filter: PractitionerFilter): ListQuery<Practitioner> {
  for (const key of ['organizationId', 'careTeamId'] as const) {
    if (filter[key] != null && !isUuid(filter[key]!)) throw badInput(`filter.${key} is not an id`, `filter.${key}`);
  }
  const where: Predicate[] = [];
  if (filter.organizationId || filter.role) {
    const parts: Predicate[] = [];
    if (filter.organizationId) {
      parts.push({ sql: `rr.organization_id in (select ro.id from organization ro where ro.path like (select s.path from organization s where s.id = ?) || '%')`, params: [filter.organizationId] });
    }
    if (filter.role) parts.push({ sql: 'rr.role = ?', params: [filter.role] });
    where.push({ sql: `exists (select 1 from practitioner_role rr where rr.practitioner_id = pr.id and ${parts.map((p) => p.sql).join(' and ')})`, params: parts.flatMap((p) => p.params) });
  }
  if (filter.careTeamId) where.push({ sql: 'exists (select 1 from care_team_member tm where tm.practitioner_id = pr.id and tm.care_team_id = ?)', params: [filter.careTeamId] });
  const search = filter.search?.trim();
  if (search) where.push({ sql: `(pr.name like ? or pr.code = ?)`, params: [`${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`, search] });
  return {
    list: 'practitioners',
    from: 'practitioner pr',
    where,
    select: [columnsOf(em, Practitioner, 'pr')],
    sorts: PRACTITIONER_SORTS,
    entry: (row) => recordOf(em, Practitioner, row, 'pr')!,
  };
}
