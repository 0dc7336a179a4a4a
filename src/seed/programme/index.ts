/**
 * The care programme's own facts in the demo county, on top of what the generator wrote (src/seed/generate.ts):
 * health assessments, self-management groups, who left the programme, and the calls to overdue patients — so that
 * pathways move past CONFIRMED, worklists and indicators have their shares to show. In two steps around the care
 * rules (`reassess`): `beforeRules` writes what the rules read (assessments move the pathway, the tier and the
 * yearly check; groups are what plans prescribe; patients who left have their planned visits cancelled and no
 * alerts); `afterRules` works the overdue lists the rules made — who is overdue depends on the visits they planned —
 * with calls whose outcomes change no derived state.
 *
 * Deterministic like the generator: each patient's choices come from a stream named by the patient's (seeded) id,
 * ids from a seeded factory, and facts are read in id order. Rows go through the generator's writer
 * (src/seed/writer.ts), so the domain events are appended with everyone else's at the end (appendMissingEvents).
 */
import { countyToday } from '../../care-rules/calendar.js';
import type { EntityManager } from '../../db/orm.js';
import { Assessment } from '../../domain/assessment/assessment.entity.js';
import { ContactAttempt } from '../../domain/contact-attempt/contact-attempt.entity.js';
import {
  SelfManagementGroup,
  SelfManagementGroupAttendance,
  SelfManagementGroupMember,
  SelfManagementGroupSession,
} from '../../domain/self-management-group/self-management-group.entity.js';
import { ConditionKind } from '../../../vocabulary/index.js';
import { IdFactory, mix32, Random } from '../random.js';
import { ageOn, dayOf } from '../time.js';
import { StatementQueue, TableWriter } from '../writer.js';
import { assessmentsOf } from './assessments.js';
import { patientsWithDiagnoses, overdueVisits, readCounty } from './facts.js';
import { type GroupCandidate, groupsOf } from './groups.js';
import { callsOf, type CareStatusRow, type ContactAttemptRow, leavingOf } from './leaving.js';

export interface ProgrammeOptions {
  seed: number;
  /** The seed's present (the generator's `now`). */
  now: Date;
  rowsPerInsert: number;
}

export class ProgrammeSeeder {
  private readonly root: Random;
  private readonly ids: IdFactory;
  private readonly nowMs: number;
  private readonly today: string;
  private readonly queue: StatementQueue;
  private readonly w;

  constructor(
    private readonly em: EntityManager,
    options: ProgrammeOptions,
  ) {
    this.root = new Random(options.seed).derive('programme');
    this.ids = new IdFactory(mix32(options.seed ^ 0x50524f47));
    this.nowMs = options.now.getTime();
    this.today = countyToday(options.now);
    this.queue = new StatementQueue(em);
    const mk = <T>(e: new () => T) => new TableWriter<T>(em, e, this.queue, options.rowsPerInsert);
    // Parents before children: flushed in this order.
    this.w = {
      assessment: mk(Assessment),
      group: mk(SelfManagementGroup),
      member: mk(SelfManagementGroupMember),
      session: mk(SelfManagementGroupSession),
      attendance: mk(SelfManagementGroupAttendance),
      contactAttempt: mk(ContactAttempt),
    };
  }

  /** Rows inserted, per table. */
  counts(): Record<string, number> {
    return Object.fromEntries(Object.values(this.w).map((w) => [w.table, w.count]));
  }

  /** Assessments, self-management groups, and who left the programme: facts the care rules read. */
  async beforeRules(): Promise<void> {
    const county = await readCounty(this.em);
    const today = dayOf(this.today);
    const candidates: GroupCandidate[] = [];
    for await (const page of patientsWithDiagnoses(this.em)) {
      for (const patient of page) {
        for (const a of assessmentsOf(patient, county, today, this.root.derive('assessment', patient.id))) {
          const { at, ...row } = a;
          this.w.assessment.add({ ...this.base(at), ...row });
        }
        const prescribing = patient.plans.filter((p) => p.groupActivityId);
        if (prescribing.length > 0 && patient.gridId) {
          const kinds = patient.diagnoses.map((d) => d.kind);
          candidates.push({
            patientId: patient.id,
            gridId: patient.gridId,
            htn: kinds.includes(ConditionKind.HYPERTENSION),
            dm: kinds.includes(ConditionKind.TYPE_2_DIABETES),
            age: ageOn(patient.birthDate, this.today),
            from: dayOf(prescribing[0]!.start),
            activityIds: prescribing.map((p) => p.groupActivityId!),
          });
        }
      }
      await this.flush();
    }

    const groups = groupsOf(county, candidates, today, (ms) => this.ids.next(this.clampMs(ms)), this.root.derive('groups'));
    for (const g of groups.groups) this.w.group.add({ ...this.base(g.at, g.id), organization: g.organization, name: g.name, conditionKinds: g.conditionKinds, leaderPatient: g.leaderPatient, leaderPractitioner: g.leaderPractitioner, closedOn: g.closedOn });
    for (const m of groups.members) this.w.member.add({ ...this.base(m.at), updatedAt: new Date(this.clampMs(m.updatedAt)), group: m.group, patient: m.patient, joinedOn: m.joinedOn, leftOn: m.leftOn });
    for (const s of groups.sessions) {
      this.w.session.add({ ...this.base(s.at, s.id), group: s.group, heldOn: s.heldOn, topic: s.topic });
      s.attendees.forEach((patient, i) => this.w.attendance.add({ ...this.base(s.at + (i + 1) * 1000), session: s.id, patient }));
    }
    await this.flush();
    // The plans' group activities name the group their patient joined (generate.ts wrote them before groups existed).
    if (groups.activities.length > 0) {
      await this.em.execute(
        `update care_plan_activity a set self_management_group_id = u.group_id, description = u.description
           from jsonb_to_recordset(?::jsonb) as u(id uuid, group_id uuid, description text) where a.id = u.id`,
        [JSON.stringify(groups.activities.map((a) => ({ id: a.id, group_id: a.group, description: a.description })))],
      );
    }
    await this.leavers();
  }

  /**
   * Who left: patients overdue by the visits the generator planned and not seen for weeks (leaving.ts). Their care
   * status is set before the rules run, so that the rules cancel their planned visits and raise no alert for them —
   * every record's creation event then says what it is at the end (appendMissingEvents).
   */
  private async leavers(): Promise<void> {
    const today = dayOf(this.today);
    const left: CareStatusRow[] = [];
    for (const overdue of await overdueVisits(this.em, this.today, true)) {
      const { status, attempt } = leavingOf(overdue, today, this.root.derive('leaving', overdue.patientId));
      if (status) left.push(status);
      if (attempt) this.addAttempt(attempt);
    }
    await this.flush();
    if (left.length === 0) return;
    const rows = JSON.stringify(left.map((s) => ({ id: s.patientId, status: s.status, day: s.on, reason: s.reason, at: new Date(this.clampMs(s.at)).toISOString() })));
    await this.em.execute(
      `update patient p set care_status = u.status, care_status_on = u.day, care_status_reason = u.reason, updated_at = greatest(p.updated_at, u.at)
         from jsonb_to_recordset(?::jsonb) as u(id uuid, status text, day date, reason text, at timestamptz) where p.id = u.id`,
      [rows],
    );
    // A member who left the programme left their group that day (if still a member then).
    await this.em.execute(
      `update self_management_group_member m set left_on = u.day, updated_at = greatest(m.updated_at, u.at)
         from jsonb_to_recordset(?::jsonb) as u(id uuid, day date, at timestamptz)
        where m.patient_id = u.id and m.joined_on <= u.day and (m.left_on is null or m.left_on > u.day)`,
      [rows],
    );
  }

  /** Calls to the patients overdue by the visits the care rules planned: their outcomes change no derived state, so nothing is reassessed. */
  async afterRules(): Promise<void> {
    const today = dayOf(this.today);
    for (const overdue of await overdueVisits(this.em, this.today, false)) {
      for (const attempt of callsOf(overdue, today, this.root.derive('calls', overdue.patientId))) this.addAttempt(attempt);
    }
    await this.flush();
  }

  private addAttempt({ at, ...row }: ContactAttemptRow): void {
    this.w.contactAttempt.add({ ...this.base(at), ...row });
  }

  private async flush(): Promise<void> {
    for (const writer of Object.values(this.w)) await writer.flush();
    await this.queue.drain();
  }

  private clampMs(ms: number): number {
    return Math.min(ms, this.nowMs - 1000);
  }

  private base(ms: number, id?: string): { id: string; createdAt: Date; updatedAt: Date; version: number } {
    const at = new Date(this.clampMs(ms));
    return { id: id ?? this.ids.next(at), createdAt: at, updatedAt: at, version: 1 };
  }
}
