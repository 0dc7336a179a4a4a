import { Arg, Ctx, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import { AlertKind, AlertSeverity, AlertState, ConditionControlStatus, PathwayStep, ReferralStatus } from '../../../vocabulary/index.js';
import { countyToday } from '../../care-rules/calendar.js';
import { badInput } from '../../domain/errors.js';
import type { Page } from '../../domain/pagination.js';
import type { ListContext } from '../../worklists/base.js';
import { contractsExpiring } from '../../worklists/contracts-expiring.js';
import { followUpsDue } from '../../worklists/follow-ups-due.js';
import { noNonMedicalPrescription } from '../../worklists/no-non-medical.js';
import { openAlerts } from '../../worklists/open-alerts.js';
import { type ListQuery, pageOf } from '../../worklists/page.js';
import { followUps } from '../../worklists/follow-ups.js';
import { practitioners } from '../../domain/practitioner/practitioner-search.js';
import { stuckInPathway, suspectedNotConfirmed } from '../../worklists/pathway.js';
import { referralsWaiting } from '../../worklists/referrals-waiting.js';
import { uncontrolled } from '../../worklists/uncontrolled.js';
import { checkFilter, resolveScope } from '../../worklists/scope.js';
import type { Context } from '../context.js';
import { LocalDate } from '../scalars.js';
import {
  ContractExpiringConnection,
  FollowUpConnection,
  FollowUpFilterInput,
  FollowUpSort,
  PractitionerConnection,
  PractitionerFilterInput,
  PractitionerSort,
  ContractExpiringSort,
  FollowUpDueConnection,
  FollowUpDueSort,
  NoNonMedicalConnection,
  NoNonMedicalSort,
  OpenAlertConnection,
  OpenAlertSort,
  PathwayStepConnection,
  PathwayWorklistSort,
  UncontrolledConnection,
  UncontrolledSort,
  ReferralReceiverInput,
  ReferralWaitingConnection,
  ReferralWaitingSort,
  WorklistFilterInput,
  Worklists,
  WorklistScopeInput,
} from './worklist.types.js';

const filterArg = { nullable: true, description: 'Narrow the list: condition kinds, tiers, colours, grids (each several at once).' } as const;
const firstArg = { nullable: true } as const;
const afterArg = { nullable: true, description: 'The endCursor of the page before, in the same sort.' } as const;

/** The fields of a GraphQL input object the client sent (absent ones are undefined already; nulls are kept out). */
const given = <T extends object>(input: T | undefined | null): T => Object.fromEntries(Object.entries(input ?? {}).filter(([, v]) => v != null)) as T;

function listContext(ctx: Context, w: Worklists, filter: WorklistFilterInput | undefined): ListContext {
  const f = given(filter);
  checkFilter(f);
  return { em: ctx.em, policy: ctx.policy, scope: w.scope, filter: f, today: countyToday(), rules: ctx.rules };
}

interface Paging {
  sort: string;
  first?: number;
  after?: string;
  /** The FHIR type whose search the list is (default Patient: every worklist is a search of patients); none for the directory. */
  searches?: string | null;
}

/** One page of a list, as its connection; refused outright (FORBIDDEN) for a caller whose role or scopes may not search what it lists. */
async function page<E extends object, R>(ctx: Context, Conn: { from(page: Page<E>): R }, query: () => ListQuery<E> | Promise<ListQuery<E>>, { sort, first, after, searches = 'Patient' }: Paging): Promise<R> {
  if (searches) ctx.policy.assertCan(searches, 's');
  return Conn.from(await pageOf(ctx.em, await query(), sort, first, after));
}

@Resolver(() => Worklists)
export class WorklistResolver {
  @Query(() => Worklists, {
    description: 'Worklists (docs/api.md, "Worklists"): every list under it holds the patients of this scope you may see and the programme still looks after.',
  })
  async worklists(@Ctx() ctx: Context, @Arg('scope', () => WorklistScopeInput, { nullable: true }) scope?: WorklistScopeInput): Promise<Worklists> {
    return Object.assign(new Worklists(), { scope: await resolveScope(ctx.em, given(scope), ctx.policy) });
  }

  @FieldResolver(() => FollowUpDueConnection, { description: 'Planned visits due today or before (or within dueWithinDays), with the days overdue.' })
  followUpsDue(
    @Root() w: Worklists,
    @Ctx() ctx: Context,
    @Arg('filter', () => WorklistFilterInput, filterArg) filter?: WorklistFilterInput,
    @Arg('overdueOnly', { defaultValue: false, description: 'Only visits whose date has passed.' }) overdueOnly: boolean = false,
    @Arg('dueWithinDays', () => Int, { defaultValue: 0, description: 'Also visits due in the next this many days (0–366).' }) dueWithinDays: number = 0,
    @Arg('sort', () => FollowUpDueSort, { defaultValue: 'MOST_OVERDUE' }) sort: string = 'MOST_OVERDUE',
    @Arg('first', () => Int, firstArg) first?: number,
    @Arg('after', () => String, afterArg) after?: string,
  ) {
    if (!Number.isInteger(dueWithinDays) || dueWithinDays < 0 || dueWithinDays > 366) throw badInput('dueWithinDays must be between 0 and 366', 'dueWithinDays');
    return page(ctx, FollowUpDueConnection, () => followUpsDue(listContext(ctx, w, filter), { overdueOnly, dueWithinDays }), { sort, first, after });
  }

  @FieldResolver(() => UncontrolledConnection, { description: 'Conditions not under control by the care rules (uncontrolled or urgent unless statuses says otherwise), one entry per patient and condition.' })
  uncontrolled(
    @Root() w: Worklists,
    @Ctx() ctx: Context,
    @Arg('filter', () => WorklistFilterInput, filterArg) filter?: WorklistFilterInput,
    @Arg('statuses', () => [ConditionControlStatus], { nullable: true }) statuses?: ConditionControlStatus[],
    @Arg('sort', () => UncontrolledSort, { defaultValue: 'URGENCY' }) sort: string = 'URGENCY',
    @Arg('first', () => Int, firstArg) first?: number,
    @Arg('after', () => String, afterArg) after?: string,
  ) {
    return page(ctx, UncontrolledConnection, () => uncontrolled(listContext(ctx, w, filter), { statuses }), { sort, first, after });
  }

  @FieldResolver(() => PathwayStepConnection, { description: 'Pathways at SUSPECTED (a screening reading or an unconfirmed diagnosis) with no confirmation yet.' })
  suspectedNotConfirmed(
    @Root() w: Worklists,
    @Ctx() ctx: Context,
    @Arg('filter', () => WorklistFilterInput, filterArg) filter?: WorklistFilterInput,
    @Arg('sort', () => PathwayWorklistSort, { defaultValue: 'LONGEST_WAITING' }) sort: string = 'LONGEST_WAITING',
    @Arg('first', () => Int, firstArg) first?: number,
    @Arg('after', () => String, afterArg) after?: string,
  ) {
    return page(ctx, PathwayStepConnection, () => suspectedNotConfirmed(listContext(ctx, w, filter)), { sort, first, after });
  }

  @FieldResolver(() => PathwayStepConnection, { description: 'Pathways waiting at their step longer than the care rules allow (pathway.stuckDays).' })
  stuckInPathway(
    @Root() w: Worklists,
    @Ctx() ctx: Context,
    @Arg('filter', () => WorklistFilterInput, filterArg) filter?: WorklistFilterInput,
    @Arg('steps', () => [PathwayStep], { nullable: true }) steps?: PathwayStep[],
    @Arg('sort', () => PathwayWorklistSort, { defaultValue: 'LONGEST_WAITING' }) sort: string = 'LONGEST_WAITING',
    @Arg('first', () => Int, firstArg) first?: number,
    @Arg('after', () => String, afterArg) after?: string,
  ) {
    return page(ctx, PathwayStepConnection, () => stuckInPathway(listContext(ctx, w, filter), steps), { sort, first, after });
  }

  @FieldResolver(() => ContractExpiringConnection, { description: 'Family-doctor contracts expiring between from (default today) and to (default today + the care rules’ alerts.contractExpiringDays, 30 by default).' })
  contractsExpiring(
    @Root() w: Worklists,
    @Ctx() ctx: Context,
    @Arg('filter', () => WorklistFilterInput, filterArg) filter?: WorklistFilterInput,
    @Arg('from', () => LocalDate, { nullable: true }) from?: string,
    @Arg('to', () => LocalDate, { nullable: true }) to?: string,
    @Arg('sort', () => ContractExpiringSort, { defaultValue: 'EXPIRES_ON' }) sort: string = 'EXPIRES_ON',
    @Arg('first', () => Int, firstArg) first?: number,
    @Arg('after', () => String, afterArg) after?: string,
  ) {
    return page(ctx, ContractExpiringConnection, () => contractsExpiring(listContext(ctx, w, filter), { from, to }), { sort, first, after });
  }

  @FieldResolver(() => NoNonMedicalConnection, { description: 'Patients managed for hypertension or type 2 diabetes (or the kinds filtered) with no non-medical prescription in force.' })
  noNonMedicalPrescription(
    @Root() w: Worklists,
    @Ctx() ctx: Context,
    @Arg('filter', () => WorklistFilterInput, filterArg) filter?: WorklistFilterInput,
    @Arg('sort', () => NoNonMedicalSort, { defaultValue: 'NAME' }) sort: string = 'NAME',
    @Arg('first', () => Int, firstArg) first?: number,
    @Arg('after', () => String, afterArg) after?: string,
  ) {
    return page(ctx, NoNonMedicalConnection, () => noNonMedicalPrescription(listContext(ctx, w, filter)), { sort, first, after });
  }

  @FieldResolver(() => OpenAlertConnection, { description: 'Alerts not yet resolved (OPEN and ACKNOWLEDGED unless states says otherwise), most severe first.' })
  openAlerts(
    @Root() w: Worklists,
    @Ctx() ctx: Context,
    @Arg('filter', () => WorklistFilterInput, filterArg) filter?: WorklistFilterInput,
    @Arg('states', () => [AlertState], { nullable: true }) states?: AlertState[],
    @Arg('severities', () => [AlertSeverity], { nullable: true }) severities?: AlertSeverity[],
    @Arg('kinds', () => [AlertKind], { nullable: true }) kinds?: AlertKind[],
    @Arg('sort', () => OpenAlertSort, { defaultValue: 'SEVERITY' }) sort: string = 'SEVERITY',
    @Arg('first', () => Int, firstArg) first?: number,
    @Arg('after', () => String, afterArg) after?: string,
  ) {
    return page(ctx, OpenAlertConnection, () => openAlerts(listContext(ctx, w, filter), { states, severities, kinds }), { sort, first, after });
  }

  @FieldResolver(() => ReferralWaitingConnection, { description: 'Open referrals (requested, or accepted and not completed) addressed to an organisation or a practitioner.' })
  referralsWaiting(
    @Root() w: Worklists,
    @Ctx() ctx: Context,
    @Arg('to', () => ReferralReceiverInput, { nullable: true }) to?: ReferralReceiverInput,
    @Arg('statuses', () => [ReferralStatus], { nullable: true, description: 'REQUESTED (to decide) and/or ACCEPTED (to complete); both by default.' }) statuses?: ReferralStatus[],
    @Arg('filter', () => WorklistFilterInput, filterArg) filter?: WorklistFilterInput,
    @Arg('sort', () => ReferralWaitingSort, { defaultValue: 'URGENCY' }) sort: string = 'URGENCY',
    @Arg('first', () => Int, firstArg) first?: number,
    @Arg('after', () => String, afterArg) after?: string,
  ) {
    return page(ctx, ReferralWaitingConnection, () => referralsWaiting(listContext(ctx, w, filter), given(to), statuses), { sort, first, after });
  }
}

/** The root lists beside the worklists: visits by date ranges, and the directory's practitioners. */
@Resolver()
export class ListResolver {
  @Query(() => FollowUpConnection, { description: 'Visits, planned and done, of the patients you may see, by date ranges and whose they are.' })
  followUps(
    @Ctx() ctx: Context,
    @Arg('filter', () => FollowUpFilterInput, { nullable: true }) filter?: FollowUpFilterInput,
    @Arg('sort', () => FollowUpSort, { defaultValue: 'DATE' }) sort: string = 'DATE',
    @Arg('first', () => Int, firstArg) first?: number,
    @Arg('after', () => String, afterArg) after?: string,
  ) {
    return page(ctx, FollowUpConnection, () => followUps(ctx.em, ctx.policy, given(filter)), { sort, first, after, searches: 'Encounter' });
  }

  @Query(() => PractitionerConnection, { description: 'Practitioners of the county directory, by organisation (and below), role, team or name.' })
  practitioners(
    @Ctx() ctx: Context,
    @Arg('filter', () => PractitionerFilterInput, { nullable: true }) filter?: PractitionerFilterInput,
    @Arg('sort', () => PractitionerSort, { defaultValue: 'NAME' }) sort: string = 'NAME',
    @Arg('first', () => Int, firstArg) first?: number,
    @Arg('after', () => String, afterArg) after?: string,
  ) {
    return page(ctx, PractitionerConnection, () => practitioners(ctx.em, given(filter)), { sort, first, after, searches: null });
  }
}
