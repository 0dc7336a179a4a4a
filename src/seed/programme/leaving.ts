/**
 * Who of the demo county's overdue patients left the programme, and the calls to the others (docs/care-model.md,
 * "Patients leave and come back"). Before the care rules run (`leavingOf`): of the patients overdue and of whom
 * nothing has been recorded for six weeks, a share has left — died, moved away, transferred to another county, or
 * refused further management — and a person recorded it, dated after the last thing recorded of them and with a
 * reason (the rule `applyCareStatus` keeps); of some others a call brought the news that they moved away or died,
 * which sets the care status as `recordContactAttempt` does. The rules then cancel their planned visits. After the
 * rules (`callsOf`), about half of the patients still overdue were called, as Simple.org's overdue lists are worked:
 * a few days to six weeks after the missed day (in the last two months, for one missed long ago), by telephone
 * mostly, some by text message or a village doctor at the door; about half are reached (most saying when they will
 * come), a quarter not reachable (called again a week or two later, up to three times), the rest a wrong number or a
 * refusal. With the news calls, moving and dying are about a tenth of the outcomes.
 */
import { CareStatus, ContactMethod, ContactOutcome } from '../../../vocabulary/index.js';
import { type Random, weighted, type WeightedTable } from '../random.js';
import { ageOn, dayOf, iso, localMs } from '../time.js';
import type { OverdueFacts } from './facts.js';

export interface CareStatusRow {
  patientId: string;
  status: CareStatus;
  on: string;
  reason: string;
  /** When it was recorded. */
  at: number;
}

export interface ContactAttemptRow {
  at: number;
  patient: string;
  followUp: string;
  attemptedAt: Date;
  practitioner?: string;
  organization: string;
  method: ContactMethod;
  outcome: ContactOutcome;
  willComeOn?: string;
  phone?: string;
  note: string;
}

/** Nothing recorded of the patient for this many days: they may have left. */
const LAPSED_DAYS = 45;
/** Of the lapsed, the share whose leaving a person recorded, and the share of the others a call found gone. */
const P_LEFT = 0.28;
const P_NEWS = 0.3;
/** Of the overdue still in the programme, the share called; a call that reached nobody is made again (at most three calls) with this chance. */
const P_CALLED = 0.55;
const P_CALL_AGAIN = 0.55;
/** How far back the first call about a visit missed long ago goes. */
const CALLS_WITHIN_DAYS = 60;

const LEFT_BY_AGE: Array<[maxAge: number, table: WeightedTable<CareStatus>]> = [
  [59, weighted([[CareStatus.DIED, 6], [CareStatus.MOVED_AWAY, 44], [CareStatus.TRANSFERRED_OUT, 20], [CareStatus.WITHDREW, 30]])],
  [74, weighted([[CareStatus.DIED, 25], [CareStatus.MOVED_AWAY, 20], [CareStatus.TRANSFERRED_OUT, 20], [CareStatus.WITHDREW, 35]])],
  [Infinity, weighted([[CareStatus.DIED, 50], [CareStatus.MOVED_AWAY, 10], [CareStatus.TRANSFERRED_OUT, 12], [CareStatus.WITHDREW, 28]])],
];

const REASONS: Record<Exclude<CareStatus, 'ACTIVE'>, string[]> = {
  DIED: ['家属告知因病去世', '因脑卒中去世', '因急性心肌梗死去世', '高龄，在家中去世'],
  MOVED_AWAY: ['随子女迁居外省', '外出务工，长期不在本地', '举家搬迁至外地居住'],
  TRANSFERRED_OUT: ['户籍迁出，健康档案转至外县', '转至外县（市）社区卫生服务中心继续管理'],
  WITHDREW: ['本人拒绝继续签约管理', '自行到上级医院就诊，拒绝基层随访管理', '不愿继续参加慢病管理'],
};

/** Outcomes of a call to a patient still there, by Simple.org's shares. */
const OUTCOMES = weighted([
  [ContactOutcome.REACHED, 48],
  [ContactOutcome.NOT_REACHABLE, 26],
  [ContactOutcome.WRONG_NUMBER, 7],
  [ContactOutcome.REFUSED, 8],
]);

const NOTES: Record<ContactOutcome, string[]> = {
  REACHED: ['患者答应近期来随访', '已电话提醒按时复诊', '家属代接，答应转告患者'],
  NOT_REACHABLE: ['电话无人接听', '电话关机', '入户未见到患者，家中无人'],
  WRONG_NUMBER: ['号码为空号', '号码已易主，非患者本人'],
  REFUSED: ['患者自觉无不适，不愿随访', '患者表示已在县医院复查，拒绝基层随访'],
  MOVED: ['家属告知已随子女到外地居住', '邻居告知已到外地务工，长期不在本地'],
  DIED: ['家属告知患者已因病去世', '村委会告知患者已去世'],
};

const METHODS: Record<'call' | 'news' | 'number', WeightedTable<ContactMethod>> = {
  call: weighted([[ContactMethod.PHONE, 75], [ContactMethod.SMS, 10], [ContactMethod.HOME_VISIT, 15]]),
  news: weighted([[ContactMethod.PHONE, 70], [ContactMethod.HOME_VISIT, 30]]),
  number: weighted([[ContactMethod.PHONE, 85], [ContactMethod.SMS, 15]]),
};

/**
 * Whether an overdue patient (`o`, overdue by the visits the generator planned) had left by `today` (a day number):
 * their care status, and the call that found it out if one did. `rng` is the patient's own.
 */
export function leavingOf(o: OverdueFacts, today: number, rng: Random): { status?: CareStatusRow; attempt?: ContactAttemptRow } {
  const planned = dayOf(o.plannedDate);
  const last = dayOf(o.lastFactOn!);
  if (last >= today - LAPSED_DAYS) return {};
  const age = ageOn(o.birthDate, iso(today));
  if (rng.chance(P_LEFT)) {
    const status = rng.pickWeighted(LEFT_BY_AGE.find(([max]) => age <= max)![1]);
    const on = rng.int(last + 1, today - 1);
    const at = localMs(Math.min(today - 1, on + rng.int(0, 14)), rng.int(9, 17), rng.int(0, 59));
    return { status: { patientId: o.patientId, status, on: iso(on), reason: rng.pick(REASONS[status as keyof typeof REASONS]), at } };
  }
  const from = Math.max(planned + 3, last + 1);
  if (from > today - 1 || !rng.chance(P_NEWS)) return {};
  // The news is of a death more often the older the patient.
  const outcome = rng.chance(age >= 75 ? 0.6 : age >= 60 ? 0.35 : 0.1) ? ContactOutcome.DIED : ContactOutcome.MOVED;
  const day = rng.int(from, Math.min(from + 42, today - 1));
  const attempt = attemptRow(o, day, outcome, rng.pickWeighted(METHODS.news), rng);
  const status = outcome === ContactOutcome.MOVED ? CareStatus.MOVED_AWAY : CareStatus.DIED;
  return { attempt, status: { patientId: o.patientId, status, on: iso(day), reason: attempt.note, at: attempt.attemptedAt.getTime() } };
}

/** The calls to a patient overdue (by the visits the care rules planned) and still in the programme on `today`. */
export function callsOf(o: OverdueFacts, today: number, rng: Random): ContactAttemptRow[] {
  const planned = dayOf(o.plannedDate);
  if (today - planned < 4 || !rng.chance(P_CALLED)) return [];
  const attempts: ContactAttemptRow[] = [];
  // The list is worked as it stands: a visit missed long ago is called about in the last two months.
  const from = Math.max(planned + 3, today - CALLS_WITHIN_DAYS);
  let day = rng.int(from, Math.min(from + 42, today - 1));
  for (let call = 0; call < 3; call++) {
    const outcome = rng.pickWeighted(OUTCOMES);
    attempts.push(attemptRow(o, day, outcome, rng.pickWeighted(METHODS[outcome === ContactOutcome.WRONG_NUMBER ? 'number' : 'call']), rng));
    if (outcome !== ContactOutcome.NOT_REACHABLE) break;
    const next = day + rng.int(7, 21);
    if (next >= today || !rng.chance(P_CALL_AGAIN)) break;
    day = next;
  }
  return attempts;
}

function attemptRow(o: OverdueFacts, day: number, outcome: ContactOutcome, method: ContactMethod, rng: Random): ContactAttemptRow {
  const notes = NOTES[outcome];
  // Nobody at home is a home visit's; no answer or a phone switched off a call's.
  const note = outcome === ContactOutcome.NOT_REACHABLE ? (method === ContactMethod.HOME_VISIT ? notes[2]! : rng.pick(notes.slice(0, 2))) : rng.pick(notes);
  const attemptedMs = localMs(day, rng.int(9, 18), rng.int(0, 59));
  return {
    at: attemptedMs + rng.int(1, 10) * 60_000,
    patient: o.patientId,
    followUp: o.followUpId,
    attemptedAt: new Date(attemptedMs),
    practitioner: o.practitionerId,
    organization: o.organizationId,
    method,
    outcome,
    willComeOn: outcome === ContactOutcome.REACHED && rng.chance(0.8) ? iso(day + rng.int(1, 10)) : undefined,
    phone: o.phone,
    note,
  };
}
