import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuditEvent } from '../src/access/audit-event.entity.js';
import { addDays } from '../src/care-rules/follow-up-interval.js';
import { ClientKind } from '../src/access/caller.js';
import { smartToken } from './helpers/access-fixtures.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { MISSING_ID } from './helpers/fixtures.js';
import { expectRefusal } from './helpers/refusals.js';
import { buildWorklistCounty, type WorklistCounty } from './helpers/worklist-fixtures.js';
import {
  RootFollowUpsDocument,
  RootPractitionersDocument,
  WorklistContractsExpiringDocument,
  WorklistFollowUpsDueDocument,
  type WorklistFollowUpsDueQueryVariables,
  WorklistNoNonMedicalDocument,
  WorklistOpenAlertsDocument,
  WorklistPathwayDocument,
  WorklistReferralsWaitingDocument,
  WorklistUncontrolledDocument,
} from './generated/graphql.js';

let t: TestApp;
let c: WorklistCounty;
let gp: string;
let villageDoctor: string;
let outsider: string;
beforeAll(async () => {
  // The event worker off: the derived rows (planned visits, alerts) stay as the fixture wrote them. Contracts count
  // as expiring 60 days ahead (CareRules alerts.contractExpiringDays; 30 by default), so the list is seen to follow the rules.
  const rules = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'worklist-rules-')), 'rules.json');
  fs.writeFileSync(rules, JSON.stringify({ alerts: { contractExpiringDays: 60 } }));
  t = await startTestApp({ EVENT_WORKER: 'off', CARE_RULES_FILE: rules });
  c = await buildWorklistCounty(t.em());
  gp = await t.tokenFor({ roles: ['GENERAL_PRACTITIONER'], org: c.township.code, practitioner: c.gp.code, sub: 'wl-gp' });
  villageDoctor = await t.tokenFor({ roles: ['VILLAGE_DOCTOR'], org: c.village.code, practitioner: c.villageDoctor.code, sub: 'wl-vd' });
  outsider = await t.tokenFor({ roles: ['GENERAL_PRACTITIONER'], org: c.township2.code, sub: 'wl-outsider' });
});
afterAll(() => t?.close());

/** Patient names (without the fixture's tag) of a page, in order. */
const names = (edges: Array<{ node: { patient: { id: string } } }>) => edges.map((e) => nameOf(e.node.patient.id));
const nameOf = (id: string) => {
  const all = { ...c.patients, ...Object.fromEntries(c.ties.map((p, i) => [`H${i + 1}`, p])) };
  return Object.entries(all).find(([, p]) => p.id === id)?.[0] ?? id;
};
/** The ties (same due date) in the order the sort puts them: by the planned visit's id. */
const tiesInOrder = () => c.ties.map((p, i) => ({ name: `H${i + 1}`, visit: c.visits.ties[i]!.id })).sort((a, b) => (a.visit < b.visit ? -1 : 1)).map((x) => x.name);

async function due(vars: WorklistFollowUpsDueQueryVariables, as: string = gp) {
  return (await t.ok(WorklistFollowUpsDueDocument, vars, as)).worklists.followUpsDue;
}

describe('follow-ups due and overdue', () => {
  it('lists the open planned visits due by today, most overdue first, with the days overdue: not the done, cancelled or died, not another township’s, not one reached who will come', async () => {
    const list = await due({});
    expect(names(list.edges)).toEqual(['A', 'K', ...tiesInOrder(), 'F', 'B']);
    expect(list.totalCount).toBe(10);
    const a = list.edges[0]!.node;
    expect({ due: a.dueDate, days: a.daysOverdue, visit: a.followUp.id }).toEqual({ due: addDays(c.today, -10), days: 10, visit: c.visits.A.id });
    expect(list.edges.at(-1)!.node.daysOverdue).toBe(0);
  });

  it('overdueOnly leaves out what is due today; dueWithinDays adds what comes soon (negative days overdue)', async () => {
    expect(names((await due({ overdueOnly: true })).edges)).toEqual(['A', 'K', ...tiesInOrder(), 'F']);
    const soon = await due({ dueWithinDays: 5, sort: 'LEAST_OVERDUE' });
    expect(names(soon.edges)[0]).toBe('C');
    expect(soon.edges[0]!.node.daysOverdue).toBe(-5);
  });

  it('the administrator sees every organisation’s patients; another township’s GP sees only theirs', async () => {
    expect(names((await due({}, t.adminToken)).edges)[0]).toBe('G');
    expect(names((await due({}, outsider)).edges)).toEqual(['G']);
  });

  it('scopes: a clinic, a team (its grid and contracts), a practitioner (their teams), a grid', async () => {
    expect(names((await due({ scope: { organizationId: c.village.id } })).edges)).toEqual(['A', 'K', 'B']);
    expect(names((await due({ scope: { careTeamId: c.team.id } })).edges)).toEqual(['A', 'F', 'B']);
    expect(names((await due({ scope: { practitionerId: c.villageDoctor.id } })).edges)).toEqual(['A', 'F', 'B']);
    expect(names((await due({ scope: { gridId: c.grid.id } })).edges)).toEqual(['A']);
    // A scope outside what the caller manages is still held to what they may see.
    expect((await due({ scope: { organizationId: c.township2.id } })).edges).toEqual([]);
    expect((await due({ scope: { organizationId: c.township.id } }, outsider)).edges).toEqual([]);
    expect(names((await due({ scope: { organizationId: c.township2.id } }, t.adminToken)).edges)).toEqual(['G']);
    // The village doctor's own sight: the village, the team's grid and contracts; never the township's other patients.
    expect(names((await due({}, villageDoctor)).edges)).toEqual(['A', 'K', 'F', 'B']);
  });

  it('filters take several condition kinds at once, and tiers and grids', async () => {
    expect(names((await due({ filter: { conditionKinds: ['TYPE_2_DIABETES'] } })).edges)).toEqual(['A']);
    expect(names((await due({ filter: { conditionKinds: ['HYPERTENSION', 'TYPE_2_DIABETES'] } })).edges)).toEqual(['A', 'F', 'B']);
    expect((await due({ filter: { conditionKinds: ['COPD'] } })).edges).toEqual([]);
    expect(names((await due({ filter: { gridIds: [c.grid.id] } })).edges)).toEqual(['A']);
    expect((await due({ filter: { tiers: ['INTENSIVE'] } })).totalCount).toBe(0);
  });

  it('pages by cursor through ties: every entry once, in the order of the whole list, in each sort', async () => {
    for (const sort of ['MOST_OVERDUE', 'LEAST_OVERDUE', 'NAME'] as const) {
      const whole = names((await due({ sort, dueWithinDays: 5 })).edges);
      const paged: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await due({ sort, dueWithinDays: 5, first: 2, after });
        paged.push(...names(page.edges));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor!;
      }
      expect(paged).toEqual(whole);
      expect(new Set(paged).size).toBe(11);
    }
    expect(names((await due({ sort: 'NAME' })).edges)).toEqual(['A', 'B', 'F', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'K']);
  });

  it('refuses a cursor of another sort or list, a made-up cursor, and a bad id or window, as BAD_USER_INPUT', async () => {
    const first = await due({ first: 1 });
    expectRefusal(await t.gql(WorklistFollowUpsDueDocument, { first: 1, sort: 'NAME', after: first.pageInfo.endCursor }, gp), 'BAD_USER_INPUT', 'after');
    const alerts = (await t.ok(WorklistOpenAlertsDocument, { first: 1 }, gp)).worklists.openAlerts;
    expectRefusal(await t.gql(WorklistFollowUpsDueDocument, { after: alerts.pageInfo.endCursor }, gp), 'BAD_USER_INPUT', 'after');
    expectRefusal(await t.gql(WorklistFollowUpsDueDocument, { after: 'bm90IGEgY3Vyc29y' }, gp), 'BAD_USER_INPUT', 'after');
    expectRefusal(await t.gql(WorklistFollowUpsDueDocument, { scope: { organizationId: 'x' } }, gp), 'BAD_USER_INPUT', 'scope.organizationId');
    expectRefusal(await t.gql(WorklistFollowUpsDueDocument, { scope: { organizationId: MISSING_ID } }, gp), 'BAD_USER_INPUT', 'scope.organizationId');
    expectRefusal(await t.gql(WorklistFollowUpsDueDocument, { dueWithinDays: -1 }, gp), 'BAD_USER_INPUT', 'dueWithinDays');
  });

  it('is refused outright to a caller who may not search patients (a hospital system with directory scopes only)', async () => {
    const { token } = await smartToken(t, t.em(), { kind: ClientKind.HOSPITAL, organizationCode: c.county.code, scopes: ['system/Practitioner.rs'] });
    expectRefusal(await t.gql(WorklistFollowUpsDueDocument, {}, token), 'FORBIDDEN');
    // The directory is read by every caller.
    expect((await t.ok(RootPractitionersDocument, {}, token)).practitioners.totalCount).toBeGreaterThan(0);
  });

  it('audits the request as a search naming every patient listed', async () => {
    const list = await due({}, villageDoctor);
    const events = await t.em().find(AuditEvent, { actor: 'wl-vd' }, { orderBy: { recordedAt: 'desc' }, limit: 1 });
    expect(events[0]!.action).toBe('SEARCH');
    expect([...events[0]!.patientIds].sort()).toEqual(list.edges.map((e) => e.node.patient.id).sort());
  });
});

describe('the other lists', () => {
  it('uncontrolled: one entry per condition not under control, urgent first, with the deciding reading; several kinds at once', async () => {
    const list = (await t.ok(WorklistUncontrolledDocument, {}, gp)).worklists.uncontrolled;
    expect(list.edges.map((e) => [nameOf(e.node.patient.id), e.node.conditionKind, e.node.controlStatus])).toEqual([
      ['A', 'TYPE_2_DIABETES', 'URGENT'],
      ['A', 'HYPERTENSION', 'UNCONTROLLED'],
      ['C', 'TYPE_2_DIABETES', 'UNCONTROLLED'],
    ]);
    expect(list.edges[1]!.node.reading).toMatchObject({ id: c.readings.bpA.id, systolic: 152, diastolic: 96 });
    const htn = (await t.ok(WorklistUncontrolledDocument, { filter: { conditionKinds: ['HYPERTENSION'] } }, gp)).worklists.uncontrolled;
    expect(htn.edges.map((e) => nameOf(e.node.patient.id))).toEqual(['A']);
    const both = (await t.ok(WorklistUncontrolledDocument, { filter: { conditionKinds: ['HYPERTENSION', 'TYPE_2_DIABETES'] }, scope: { organizationId: c.village.id } }, gp)).worklists.uncontrolled;
    expect(both.totalCount).toBe(2);
    const controlled = (await t.ok(WorklistUncontrolledDocument, { statuses: ['CONTROLLED'] }, gp)).worklists.uncontrolled;
    expect(controlled.edges.map((e) => [nameOf(e.node.patient.id), e.node.reading])).toEqual([['B', null]]);
    const longest = (await t.ok(WorklistUncontrolledDocument, { sort: 'LONGEST', first: 1 }, gp)).worklists.uncontrolled;
    const next = (await t.ok(WorklistUncontrolledDocument, { sort: 'LONGEST', first: 5, after: longest.pageInfo.endCursor }, gp)).worklists.uncontrolled;
    expect([...longest.edges, ...next.edges].map((e) => `${nameOf(e.node.patient.id)} ${e.node.conditionKind}`)).toEqual(['C TYPE_2_DIABETES', 'A HYPERTENSION', 'A TYPE_2_DIABETES']);
    expect(names((await t.ok(WorklistUncontrolledDocument, {}, t.adminToken)).worklists.uncontrolled.edges)).toContain('G');
  });

  it('suspected, not confirmed, and stuck in the pathway: by the current step of each pathway, not of a died patient', async () => {
    const lists = (await t.ok(WorklistPathwayDocument, {}, gp)).worklists;
    expect(lists.suspectedNotConfirmed.edges.map((e) => [nameOf(e.node.patient.id), e.node.conditionKind, e.node.daysAtStep])).toEqual([
      ['F', 'HYPERTENSION', 40],
      ['H1', 'HYPERTENSION', 3],
    ]);
    expect(lists.stuckInPathway.edges.map((e) => [nameOf(e.node.patient.id), e.node.conditionKind, e.node.step, e.node.daysAtStep, e.node.stuckAfterDays])).toEqual([
      ['F', 'HYPERTENSION', 'SUSPECTED', 40, 30],
      ['A', 'HYPERTENSION', 'PLAN_MADE', 20, 14],
    ]);
    const planMade = (await t.ok(WorklistPathwayDocument, { steps: ['PLAN_MADE'] }, gp)).worklists.stuckInPathway;
    expect(names(planMade.edges)).toEqual(['A']);
    const diabetes = (await t.ok(WorklistPathwayDocument, { filter: { conditionKinds: ['TYPE_2_DIABETES'] } }, gp)).worklists;
    expect([diabetes.suspectedNotConfirmed.totalCount, diabetes.stuckInPathway.totalCount]).toEqual([0, 0]);
    const byName = (await t.ok(WorklistPathwayDocument, { sort: 'NAME' }, gp)).worklists.stuckInPathway;
    expect(names(byName.edges)).toEqual(['A', 'F']);
  });

  it('contracts expiring: today to the care rules’ days ahead (60 here) by default; a window can reach back to lapsed ones', async () => {
    const list = (await t.ok(WorklistContractsExpiringDocument, {}, gp)).worklists.contractsExpiring;
    expect(names(list.edges)).toEqual(['A', 'B']);
    expect(list.edges[0]!.node).toMatchObject({ expiresOn: addDays(c.today, 10), daysLeft: 10 });
    const wide = (await t.ok(WorklistContractsExpiringDocument, { from: addDays(c.today, -10), to: addDays(c.today, 60) }, gp)).worklists.contractsExpiring;
    expect(names(wide.edges)).toEqual(['C', 'A', 'B']);
    expect(wide.edges[0]!.node.daysLeft).toBe(-5);
    expectRefusal(await t.gql(WorklistContractsExpiringDocument, { from: c.today, to: addDays(c.today, -1) }, gp), 'BAD_USER_INPUT', 'to');
  });

  it('no non-medical prescription: confirmed hypertension or diabetes with none in force (a stopped one does not count)', async () => {
    const list = (await t.ok(WorklistNoNonMedicalDocument, {}, gp)).worklists.noNonMedicalPrescription;
    expect(list.edges.map((e) => [nameOf(e.node.patient.id), e.node.hasActiveCarePlan])).toEqual([
      ['B', true],
      ['C', false],
    ]);
    const copd = (await t.ok(WorklistNoNonMedicalDocument, { filter: { conditionKinds: ['COPD'] } }, gp)).worklists.noNonMedicalPrescription;
    expect(names(copd.edges)).toEqual(['D']);
  });

  it('open alerts by severity: open and acknowledged, not resolved, not of a died patient, filterable by state and severity', async () => {
    const list = (await t.ok(WorklistOpenAlertsDocument, {}, gp)).worklists.openAlerts;
    expect(list.edges.map((e) => e.node.alert.id)).toEqual([c.alerts.urgentA.id, c.alerts.routineA.id]);
    expect(list.edges[1]!.node.daysOpen).toBe(4);
    const routine = (await t.ok(WorklistOpenAlertsDocument, { severities: ['ROUTINE'] }, gp)).worklists.openAlerts;
    expect(routine.edges.map((e) => e.node.alert.id)).toEqual([c.alerts.routineA.id]);
    const resolved = (await t.ok(WorklistOpenAlertsDocument, { states: ['RESOLVED'] }, gp)).worklists.openAlerts;
    expect(resolved.edges.map((e) => e.node.alert.id)).toEqual([c.alerts.resolvedB.id]);
    const admin = (await t.ok(WorklistOpenAlertsDocument, {}, t.adminToken)).worklists.openAlerts;
    expect(admin.edges.map((e) => e.node.alert.id)).toEqual([c.alerts.urgentA.id, c.alerts.routineA.id, c.alerts.otherG.id]);
    // Paged one by one through a sort of mixed directions (severity up, time down): the same order.
    for (const sort of ['SEVERITY', 'OLDEST', 'NAME'] as const) {
      const whole = (await t.ok(WorklistOpenAlertsDocument, { sort }, t.adminToken)).worklists.openAlerts.edges.map((e) => e.node.alert.id);
      const paged: string[] = [];
      let after: string | undefined;
      do {
        const page = (await t.ok(WorklistOpenAlertsDocument, { sort, first: 1, after }, t.adminToken)).worklists.openAlerts;
        paged.push(...page.edges.map((e) => e.node.alert.id));
        after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor! : undefined;
      } while (after);
      expect(paged).toEqual(whole);
    }
  });

  it('referrals waiting for me: open ones to my organisation (and below) or to me, urgent first; not of patients I may not see', async () => {
    const list = (await t.ok(WorklistReferralsWaitingDocument, {}, gp)).worklists.referralsWaiting;
    expect(list.edges.map((e) => e.node.referral.id)).toEqual([c.referrals.A.id, c.referrals.B.id]);
    expect(list.edges[0]!.node.daysWaiting).toBeGreaterThanOrEqual(0);
    const requested = (await t.ok(WorklistReferralsWaitingDocument, { statuses: ['REQUESTED'] }, gp)).worklists.referralsWaiting;
    expect(requested.edges.map((e) => e.node.referral.id)).toEqual([c.referrals.A.id]);
    const toGp = (await t.ok(WorklistReferralsWaitingDocument, { to: { practitionerId: c.gp.id } }, t.adminToken)).worklists.referralsWaiting;
    expect(toGp.edges.map((e) => e.node.referral.id)).toEqual([c.referrals.G.id]);
    const county = (await t.ok(WorklistReferralsWaitingDocument, { to: { organizationId: c.county.id } }, t.adminToken)).worklists.referralsWaiting;
    expect(county.totalCount).toBe(4);
  });
});

describe('root followUps and practitioners', () => {
  it('followUps: planned and done visits of the patients I may see, by date range and state, in date order', async () => {
    const all = (await t.ok(RootFollowUpsDocument, { first: 50 }, gp)).followUps;
    expect(all.totalCount).toBe(15);
    const window = (await t.ok(RootFollowUpsDocument, { filter: { plannedFrom: addDays(c.today, -10), plannedTo: c.today } }, gp)).followUps;
    expect(window.edges.map((e) => e.node.plannedDate)).toEqual([addDays(c.today, -10), addDays(c.today, -9), addDays(c.today, -8), ...Array(6).fill(addDays(c.today, -7)), addDays(c.today, -3), c.today]);
    const planned = (await t.ok(RootFollowUpsDocument, { filter: { state: 'PLANNED', plannedTo: addDays(c.today, -11) } }, gp)).followUps;
    // Planned: not done (D), not cancelled (I); the record, so the died patient's visit too (E).
    expect(planned.edges.map((e) => e.node.id)).toEqual([c.visits.E.id]);
    const done = (await t.ok(RootFollowUpsDocument, { filter: { state: 'DONE' } }, gp)).followUps;
    expect(done.edges.map((e) => e.node.id)).toEqual([c.visits.D.id]);
    const other = (await t.ok(RootFollowUpsDocument, { filter: { patientId: c.patients.G.id } }, gp)).followUps;
    expect(other.totalCount).toBe(0);
    expectRefusal(await t.gql(RootFollowUpsDocument, { filter: { doneFrom: c.today, doneTo: addDays(c.today, -1) } }, gp), 'BAD_USER_INPUT', 'filter.doneTo');
  });

  it('practitioners: the directory by team and name, paged', async () => {
    const team = (await t.ok(RootPractitionersDocument, { filter: { careTeamId: c.team.id } }, gp)).practitioners;
    expect(team.edges.map((e) => e.node.id).sort()).toEqual([c.gp.id, c.villageDoctor.id].sort());
    const named = (await t.ok(RootPractitionersDocument, { filter: { search: '李' } }, gp)).practitioners;
    expect(named.edges.map((e) => e.node.id)).toContain(c.gp.id);
    expect(named.edges.map((e) => e.node.id)).not.toContain(c.villageDoctor.id);
    const first = (await t.ok(RootPractitionersDocument, { filter: { careTeamId: c.team.id }, first: 1 }, gp)).practitioners;
    const second = (await t.ok(RootPractitionersDocument, { filter: { careTeamId: c.team.id }, first: 1, after: first.pageInfo.endCursor }, gp)).practitioners;
    expect([...first.edges, ...second.edges].map((e) => e.node.id)).toEqual(team.edges.map((e) => e.node.id));
    expect(second.pageInfo.hasNextPage).toBe(false);
  });
});
