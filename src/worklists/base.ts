import type { AccessPolicy, Predicate } from '../access/policy.js';
import { countyToday } from '../care-rules/calendar.js';
import { daysBetween } from '../care-rules/follow-up-interval.js';
import type { CareRules } from '../care-rules/rules.js';
import type { EntityManager } from '../db/orm.js';
import { Patient } from '../domain/patient/patient.entity.js';
import type { SortKey } from './keyset.js';
import { columnsOf, recordOf } from './page.js';
import { callerAllows } from '../access/scopes.js';
import { activePatientSql, filterSql, type ResolvedScope, scopeSql, type WorklistFilter } from './scope.js';

/** What every list is built from: the request's database and policy, whose patients, the filter, the county's today and rules. */
export interface ListContext {
  em: EntityManager;
  policy: AccessPolicy;
  scope: ResolvedScope;
  filter: WorklistFilter;
  /** The county's date (src/care-rules/calendar.ts): days overdue, days left, days waiting count from it. */
  today: string;
  /** The configured care rules (config.careRules): stuck days, overdue contact windows. */
  rules: CareRules;
}

/** Every entry names its patient, read in the page's own statement through the full access policy. */
export interface Entry {
  patient: Patient;
}

/**
 * The patient side of every list (alias `p`): the caller may see the patient (the policy's predicate, ADR 4, with its
 * read scopes), the programme still looks after them (care status ACTIVE), the scope and the filter. `extra`: the
 * read scopes of the other records an entry shows (`rowsOfShown`: their patient is checked here already, ADR 15).
 */
export function patientSide(ctx: ListContext, options: { conditionKindColumn?: string; extra?: Array<Predicate | undefined> } = {}): { select: string; where: Predicate[] } {
  const visible = patientsVisible(ctx);
  return {
    select: columnsOf(ctx.em, Patient, 'p'),
    where: [
      ...(visible ? [visible] : []),
      ...(options.extra ?? []).filter((p): p is Predicate => !!p),
      activePatientSql('p'),
      ...scopeSql(ctx.scope, 'p'),
      ...filterSql(ctx.filter, { p: 'p', conditionKindColumn: options.conditionKindColumn }),
    ],
  };
}

/**
 * The policy's patient predicate, unless the scope's subtree is one whose every managed patient the caller sees
 * (`seesAllManagedUnder`): there it adds nothing but its read scope, and repeated it misleads the planner.
 */
function patientsVisible(ctx: ListContext): Predicate | undefined {
  const path = ctx.scope.organizationPath;
  if (!path || !ctx.policy.seesAllManagedUnder(path)) return ctx.policy.rowsVisible('Patient', 'p');
  return callerAllows(ctx.policy.caller, 'Patient', 'r') ? undefined : { sql: '1 = 0', params: [] };
}

export const patientOf = (ctx: ListContext, row: Record<string, unknown>): Patient => recordOf(ctx.em, Patient, row, 'p')!;

/** The sort by the patient's name, then `tieBreak` (unique per entry). */
export const byName = (...tieBreak: SortKey[]): SortKey[] => [{ sql: 'p.name', type: 'text' }, ...tieBreak];


/** Whole days from an instant to the county's today, counted on the county's calendar (how long something has waited). */
export const daysSince = (ctx: ListContext, at: Date): number => daysBetween(countyToday(at), ctx.today);
