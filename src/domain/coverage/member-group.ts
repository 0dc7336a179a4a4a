import type { AccessPolicy } from '../../access/policy.js';
import type { EntityManager } from '../../db/orm.js';
import { CoverageStatus } from '../../../vocabulary/index.js';
import { isUuid } from '../errors.js';
import { Organization, OrganizationType } from '../organization/organization.entity.js';

/**
 * The FHIR Group of an insurer's covered members has the insurer Organization's own id (`Group/{insurer id}`), so
 * it needs no table of its own and cannot drift from Coverage: the id is the insurer, the members are read from the
 * coverage table when asked. Self-management groups have ids of their own records, so the two kinds never share an
 * id. This answers which insurer a Group id names, or undefined when the id is not an insurer's (a self-management
 * group, an unknown id, not a uuid). It says nothing about who may read the Group: the caller asks the policy.
 * Organisations are the directory (everyone may read them), so the lookup is not held to the access filter.
 */
export async function insurerOfGroup(em: EntityManager, groupId: string): Promise<Organization | undefined> {
  if (!isUuid(groupId)) return undefined;
  const org = await em.findOne(Organization, { id: groupId, type: OrganizationType.INSURER }, { filters: false });
  return org ?? undefined;
}

/** Every day there is: an insurer's Group lists its members whatever the period of their coverage. */
const ALL_TIME = { start: '0001-01-01', end: '9999-12-31' } as const;

/** One coverage behind a member of an insurer's Group. */
export interface CoveredMember {
  patientId: string;
  periodStart: string;
  periodEnd: string | null;
  /** Not in force on `today` (not begun, or ended). */
  inactive: boolean;
}

/**
 * The members of an insurer's Group, in one statement: every ACTIVE coverage with the insurer (a cancelled one
 * covered nobody), with its period and whether it is in force today, of the patients the policy lets the caller
 * see as this insurer's members over all time (AccessPolicy.patientVisibleDuring: for an insurer, src/access/
 * membership.ts — a member who withdrew consent to share with insurers is not listed; an administrator sees all).
 * Read from the coverage table when asked, so the Group is always in step with Coverage. The caller has already
 * decided that it may read this insurer's Group at all.
 */
export async function coveredMembers(em: EntityManager, insurerId: string, policy: Pick<AccessPolicy, 'patientVisibleDuring'>, today: string): Promise<CoveredMember[]> {
  const visible = policy.patientVisibleDuring('mc.patient_id', ALL_TIME);
  return (await em.execute(
    `select mc.patient_id as "patientId", to_char(mc.period_start, 'YYYY-MM-DD') as "periodStart", to_char(mc.period_end, 'YYYY-MM-DD') as "periodEnd",
            not (mc.period_start <= ?::date and (mc.period_end is null or mc.period_end >= ?::date)) as inactive
       from coverage mc
      where mc.insurer_id = ? and mc.status = ?${visible ? ` and (${visible.sql})` : ''}
      order by mc.patient_id, mc.period_start, mc.id`,
    [today, today, insurerId, CoverageStatus.ACTIVE, ...(visible?.params ?? [])],
  )) as CoveredMember[];
}
