/**
 * Deterministic demo data for a county medical community: organisations, grids, practitioners and
 * family-doctor teams, then residents with identifiers, insurance, chronic conditions at realistic
 * prevalence, two years of measurements, follow-ups, care plans and referrals up and down; then (src/seed/programme/)
 * health assessments, self-management groups, patients who left the programme and calls to overdue patients.
 *
 * Same seed and size → the same rows, ids included (UUID v7s built from the seeded generator and each
 * row's own creation time; only ciphertexts of protected identifiers differ, their IVs being random).
 * Rows are written as `INSERT … SELECT … FROM json_populate_recordset(…)` statements of ~1000 rows
 * through the entity manager's connection, inside one transaction, a batch of patients at a time, so
 * memory stays flat however large the county; columns come from the entity metadata, so a renamed or
 * added column cannot drift out of step.
 */
import type { EntityManager as CoreEntityManager } from '@mikro-orm/core';
import { DEFAULT_IDENTIFIER_SYSTEMS, type IdentifierSystems } from '../config.js';
import { FhirResource, FhirResourceHistory } from '../fhir/fhir-resource.entity.js';
import { DomainEvent, EventConsumerPosition } from '../events/domain-event.entity.js';
import { appendMissingEvents } from '../events/recorder.js';
import type { EntityManager } from '../db/orm.js';
import { ControlStatus, controlInterpretationOf, controlStatusOf } from '../care-rules/control.js';
import { addDays, daysBetween, isFaceToFace, nextFollowUpOf, referralAdviceOf } from '../care-rules/follow-up-interval.js';
import { DEFAULT_CARE_RULES } from '../care-rules/rules.js';
import { reassess } from '../care/index.js';
import { markSwept } from '../care/state/sweep.js';
import { countyToday } from '../care-rules/calendar.js';
import {
  ActivityCategory,
  ActivityStatus,
  CarePlan,
  CarePlanActivity,
  CarePlanGoal,
  CarePlanStatus,
} from '../domain/care-plan/care-plan.entity.js';
import { CareTeam, CareTeamMember } from '../domain/care-team/care-team.entity.js';
import { ClinicalStatus, Condition, VerificationStatus } from '../domain/condition/condition.entity.js';
import { Coverage, CoverageStatus } from '../domain/coverage/coverage.entity.js';
import { FollowUp, FollowUpType } from '../domain/follow-up/follow-up.entity.js';
import { Observation, ObservationSource } from '../domain/observation/observation.entity.js';
import { Grid, GridKind, Organization, OrganizationLevel, OrganizationType } from '../domain/organization/organization.entity.js';
import { Gender } from '../domain/patient/gender.js';
import { IdentifierKind, ManagementColour, ManagementTier, Patient, PatientIdentifier } from '../domain/patient/patient.entity.js';
import { makeResidentId } from '../domain/patient/resident-id.js';
import { Practitioner, PractitionerRole, PractitionerRoleCode } from '../domain/practitioner/practitioner.entity.js';
import { Referral, ReferralDirection, ReferralReason, ReferralStatus, ReferralUrgency } from '../domain/referral/referral.entity.js';
import { CONDITION_DISPLAY, ConditionKind, LOINC, ObservationKind, SYSTEMS, classifyCondition, toCanonical } from '../../fhir-mappings/codes.js';
import {
  COUNTY,
  STREETS,
  TOWNSHIPS,
  URBAN_BLOCKS,
  orgPhone,
  personName,
  phoneNumber,
  townshipCentreName,
  villageLineages,
  villageName,
} from './names.js';
import { IdFactory, Random, type WeightedTable, weighted } from './random.js';
import { ProgrammeSeeder } from './programme/index.js';
import { DAY_MS, dayOf, HOUR_MS, iso, localMs, MIN_MS } from './time.js';
import { type Row, StatementQueue, TableWriter } from './writer.js';

export interface SeedOptions {
  /** Number of residents to generate. */
  patients: number;
  /** PRNG seed; default 20261101. */
  seed?: number;
  /**
   * The "present": measurements and events run up to it. Default: the start of today in the county's calendar,
   * so a demo county is never a month stale; a given date (and seed) always gives the same county.
   */
  now?: Date;
  /** Called after each batch of patients is written. */
  onProgress?: (done: number, total: number) => void;
  /** Identifier system URIs; default DEFAULT_IDENTIFIER_SYSTEMS. */
  identifierSystems?: IdentifierSystems;
  /**
   * How identifiers are stored (e.g. `IdentifierProtector` from src/access: resident IDs encrypted, looked
   * up by keyed hash, shown masked). Without it every identifier is stored as is, lookup = value.
   */
  protector?: IdentifierProtection;
  /** Rows per INSERT statement; default 1000. */
  rowsPerInsert?: number;
  /** Patients generated and written per batch; default 500. */
  patientsPerBatch?: number;
  /**
   * Years of history before `now`: follow-ups, readings, yearly health checks, new cases; default 2. More years, more
   * readings per patient (about 0.5 million per 50,000 residents and two years; the export bench asks for a million).
   */
  historyYears?: number;
  /**
   * Calendar years of insurance, back from `now`'s: an insured resident's coverage runs from the first of them (or
   * the year their record was created) to the end of the current one; default 1, the current year only. An insurer's
   * payment-period figures and its Bulk export reach only the covered days (src/access/membership.ts).
   */
  coverageYears?: number;
}

/** Turns an identifier into what `patient_identifier` stores: shown value, lookup key, optional ciphertext. */
export interface IdentifierProtection {
  protect(system: string, kind: IdentifierKind, value: string): { value: string; lookup: string; cipher?: string };
}

const PLAIN_IDENTIFIERS: IdentifierProtection = { protect: (_system, _kind, value) => ({ value, lookup: value }) };

export interface SeedSummary {
  seed: number;
  patients: number;
  townships: number;
  villages: number;
  /** Rows inserted, per table. */
  counts: Record<string, number>;
  /** All rows inserted. */
  rows: number;
  elapsedMs: number;
}

export const DEFAULT_SEED = 20261101;
/** The seed's "present" for a county date (YYYY-MM-DD): that day at 00:00 UTC. */
export function seedNowFor(date: string = countyToday()): Date {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) throw new Error(`not a date (YYYY-MM-DD): "${date}"`);
  return new Date(`${date}T00:00:00Z`);
}

/**
 * The SQL entity manager from `src/db/orm.ts`; `orm.em.fork()` on the untyped `MikroORM` is accepted too
 * (it is the same object at run time, typed by the core package).
 */
export type SeedEntityManager = EntityManager | CoreEntityManager;
const sql = (em: SeedEntityManager): EntityManager => em as EntityManager;

/** Whether the database already holds any patient. */
export async function hasPatients(anyEm: SeedEntityManager): Promise<boolean> {
  const em = sql(anyEm);
  const table = em.getMetadata().get(Patient).tableName;
  const rows = await em.execute<Array<{ found: boolean }>>(`select exists (select 1 from ${em.getPlatform().quoteIdentifier(table)}) as "found"`);
  return rows[0]?.found === true;
}

/** The tables the seed writes, parents first. */
const SEEDED_ENTITIES = [
  Organization,
  Grid,
  Practitioner,
  PractitionerRole,
  CareTeam,
  CareTeamMember,
  Patient,
  PatientIdentifier,
  Coverage,
  Condition,
  CarePlan,
  CarePlanGoal,
  CarePlanActivity,
  FollowUp,
  Referral,
  Observation,
] as const;

/**
 * Empties the county: every table the seed writes, and — through TRUNCATE … CASCADE — every table with a
 * foreign key into them (consents, system clients bound to an organisation, …). Tables outside that web
 * keep their rows; in particular the audit trail, which is append-only by design.
 */
export async function clearCountyData(anyEm: SeedEntityManager): Promise<void> {
  const em = sql(anyEm);
  const platform = em.getPlatform();
  // The FHIR store goes too: its resources are of the records deleted here.
  // The outbox goes too (its events are of those records), and with it where its consumers had got to.
  const tables = [...SEEDED_ENTITIES, FhirResource, FhirResourceHistory, DomainEvent, EventConsumerPosition].map((e) => platform.quoteIdentifier(em.getMetadata().get<object>(e).tableName));
  await em.execute(`truncate table ${tables.join(', ')} cascade`, [], 'run');
}

// ---------------------------------------------------------------------------------------------------
// Clinical catalogues
// ---------------------------------------------------------------------------------------------------

interface ConditionCode {
  icd10: [code: string, display: string];
  snomed: [code: string, display: string];
}

const CONDITION_CODES: Record<Exclude<ConditionKind, 'CANCER' | 'OTHER'>, ConditionCode> = {
  HYPERTENSION: { icd10: ['I10', '原发性高血压'], snomed: ['38341003', '高血压'] },
  TYPE_2_DIABETES: { icd10: ['E11.9', '2型糖尿病不伴有并发症'], snomed: ['44054006', '2型糖尿病'] },
  COPD: { icd10: ['J44.9', '慢性阻塞性肺疾病'], snomed: ['13645005', '慢性阻塞性肺疾病'] },
  CHD: { icd10: ['I25.1', '动脉粥样硬化性心脏病'], snomed: ['53741008', '冠状动脉粥样硬化'] },
  STROKE: { icd10: ['I69.3', '脑梗死后遗症'], snomed: ['230690007', '脑卒中'] },
  CKD: { icd10: ['N18.3', '慢性肾脏病3期'], snomed: ['433144002', '慢性肾脏病3期'] },
};

interface Drug {
  name: string;
  atc: string;
  dosage: string;
  description: string;
  frequency: string;
}

const HTN_DRUGS: Drug[] = [
  { name: '苯磺酸氨氯地平片', atc: 'C08CA01', dosage: '5mg qd', description: '氨氯地平 5mg 口服，每日一次', frequency: '每日一次' },
  { name: '硝苯地平控释片', atc: 'C08CA05', dosage: '30mg qd', description: '硝苯地平控释片 30mg 口服，每日一次', frequency: '每日一次' },
  { name: '厄贝沙坦片', atc: 'C09CA04', dosage: '150mg qd', description: '厄贝沙坦 150mg 口服，每日一次', frequency: '每日一次' },
  { name: '缬沙坦胶囊', atc: 'C09CA03', dosage: '80mg qd', description: '缬沙坦 80mg 口服，每日一次', frequency: '每日一次' },
  { name: '马来酸依那普利片', atc: 'C09AA02', dosage: '10mg qd', description: '依那普利 10mg 口服，每日一次', frequency: '每日一次' },
  { name: '氢氯噻嗪片', atc: 'C03AA03', dosage: '12.5mg qd', description: '氢氯噻嗪 12.5mg 口服，每日一次（晨服）', frequency: '每日一次' },
  { name: '琥珀酸美托洛尔缓释片', atc: 'C07AB02', dosage: '47.5mg qd', description: '美托洛尔缓释片 47.5mg 口服，每日一次', frequency: '每日一次' },
];
const HTN_DRUG_TABLE = weighted(HTN_DRUGS.map((d, i) => [d, [30, 15, 15, 12, 8, 10, 10][i]!] as const));

const DM_DRUGS: Drug[] = [
  { name: '盐酸二甲双胍片', atc: 'A10BA02', dosage: '0.5g tid', description: '二甲双胍 0.5g 口服，每日三次，随餐', frequency: '每日三次' },
  { name: '格列美脲片', atc: 'A10BB12', dosage: '2mg qd', description: '格列美脲 2mg 口服，每日一次，早餐前', frequency: '每日一次' },
  { name: '阿卡波糖片', atc: 'A10BF01', dosage: '50mg tid', description: '阿卡波糖 50mg 口服，每日三次，与第一口饭同嚼服', frequency: '每日三次' },
  { name: '磷酸西格列汀片', atc: 'A10BH01', dosage: '100mg qd', description: '西格列汀 100mg 口服，每日一次', frequency: '每日一次' },
  { name: '甘精胰岛素注射液', atc: 'A10AE04', dosage: '10U qn', description: '甘精胰岛素 10U 皮下注射，每晚一次', frequency: '每晚一次' },
];
const DM_DRUG_TABLE = weighted(DM_DRUGS.map((d, i) => [d, [45, 15, 18, 12, 10][i]!] as const));

const SPECIALTIES = {
  cardiology: '心血管内科',
  endocrinology: '内分泌科',
  neurology: '神经内科',
  respiratory: '呼吸与危重症医学科',
  nephrology: '肾内科',
} as const;
type Specialty = keyof typeof SPECIALTIES;

const FOLLOW_UP_TYPES_MONITOR: WeightedTable<FollowUpType> = weighted([
  [FollowUpType.CLINIC, 52],
  [FollowUpType.HOME, 20],
  [FollowUpType.PHONE, 16],
  [FollowUpType.REMOTE, 12],
]);
const FOLLOW_UP_TYPES_PLAIN: WeightedTable<FollowUpType> = weighted([
  [FollowUpType.CLINIC, 70],
  [FollowUpType.HOME, 30],
]);

/** Adult age bands and their share of residents: a rural county, young adults partly away working. */
const AGE_BANDS: WeightedTable<[number, number]> = weighted([
  [[18, 24], 6],
  [[25, 34], 9],
  [[35, 44], 12],
  [[45, 54], 16],
  [[55, 64], 20],
  [[65, 74], 18],
  [[75, 84], 10],
  [[85, 96], 3],
]);

function htnProbability(age: number): number {
  if (age < 35) return 0.012;
  if (age < 45) return 0.075;
  if (age < 55) return 0.17;
  if (age < 65) return 0.28;
  if (age < 75) return 0.37;
  return 0.42;
}
function dmProbability(age: number, htn: boolean): number {
  const base = age < 35 ? 0.004 : age < 45 ? 0.03 : age < 55 ? 0.07 : age < 65 ? 0.11 : age < 75 ? 0.14 : 0.13;
  return base * (htn ? 1.7 : 0.72);
}

const REJECT_REASONS = [
  '资料不全，请补充近三个月血压、血糖记录后重新申请',
  '经远程会诊评估暂无转诊必要，建议基层调整用药后继续观察',
  '专科门诊号源已满，建议改约下周或转县中医院',
];
const CANCEL_REASONS = ['患者拒绝转诊', '患者已自行前往上级医院就诊', '复测血压已恢复正常，暂不转诊', '患者外出务工，暂不转诊'];

// ---------------------------------------------------------------------------------------------------
// The county's structure
// ---------------------------------------------------------------------------------------------------

interface OrgRec {
  id: string;
  name: string;
  path: string;
  level: OrganizationLevel;
}

interface PracRec {
  id: string;
  name: string;
  org: OrgRec;
  role: PractitionerRoleCode;
  specialty?: Specialty;
}

interface VillageRec {
  no: number;
  name: string;
  org: OrgRec;
  doctors: PracRec[];
}

interface TeamRec {
  id: string;
  gp: PracRec;
  nurse: PracRec;
  pho: PracRec;
  villageDoctor?: PracRec;
  cardiologist: PracRec;
  endocrinologist: PracRec;
}

interface TownshipRec {
  no: number;
  name: string;
  org: OrgRec;
  villages: VillageRec[];
  gps: PracRec[];
  nurses: PracRec[];
  phos: PracRec[];
}

interface GridRec {
  id: string;
  name: string;
  kind: GridKind;
  township: TownshipRec;
  village?: VillageRec;
  /** Residents' committee (001–099) or village (101–199) part of the health-record number. */
  areaNo: number;
  managingOrg: OrgRec;
  team: TeamRec;
  lineages: string[];
  serial: number;
}

interface County {
  hospital: OrgRec;
  insurer: OrgRec;
  townships: TownshipRec[];
  grids: GridRec[];
  gridTable: WeightedTable<GridRec>;
  specialists: Record<Specialty, PracRec[]>;
}

/** Township count and villages per township, growing with the county's size (~4×5 at 2,000; ~15×15 at 50,000). */
export function countyShape(patients: number): { townships: number; villagesPerTownship: number } {
  const n = Math.max(patients, 1);
  const townships = Math.min(25, Math.max(1, Math.round(4 * (n / 2000) ** 0.41)));
  const villagesPerTownship = Math.min(40, Math.max(2, Math.round(5 * (n / 2000) ** 0.341)));
  return { townships, villagesPerTownship };
}

type ConditionRec = {
  kind: ConditionKind;
  onsetDay: number;
  /** Diagnosed inside the two-year window (new case): the screening reading is generated too. */
  newCase: boolean;
};

interface Latest {
  ms: number;
  status: ControlStatus;
  /** Systolic or glucose value. */
  a: number;
  /** Diastolic. */
  b: number;
}

interface PatientCtx {
  index: number;
  id: string;
  rng: Random;
  grid: GridRec;
  age: number;
  male: boolean;
  createdMs: number;
  /** First day events may happen on. */
  startDay: number;
  conditions: ConditionRec[];
  htn: boolean;
  dm: boolean;
  managed: boolean;
  complication: boolean;
  /** Who does this patient's routine follow-ups: the village doctor, or the team GP in town. */
  doctor: PracRec;
  homeOrg: OrgRec;
  pBp: number;
  pGlu: number;
  hasMonitor: boolean;
  deviceId?: string;
  weight: number;
  latestBp?: Latest;
  latestGlu?: Latest;
  lastReferralDay: number;
  lastActivityMs: number;
  countyContact: boolean;
}

// ---------------------------------------------------------------------------------------------------

class Generator {
  private readonly root: Random;
  private readonly ids: IdFactory;
  private readonly nowMs: number;
  private readonly nowDay: number;
  private readonly windowStart: number;
  private readonly baseDay: number;
  private readonly systems: IdentifierSystems;
  private readonly queue: StatementQueue;
  private readonly rowsPerInsert: number;
  private readonly usedResidentIds = new Map<number, Set<number>>();
  private practitionerSeq = 0;

  readonly w: {
    organization: TableWriter<Organization>;
    grid: TableWriter<Grid>;
    practitioner: TableWriter<Practitioner>;
    practitionerRole: TableWriter<PractitionerRole>;
    careTeam: TableWriter<CareTeam>;
    careTeamMember: TableWriter<CareTeamMember>;
    patient: TableWriter<Patient>;
    identifier: TableWriter<PatientIdentifier>;
    coverage: TableWriter<Coverage>;
    condition: TableWriter<Condition>;
    carePlan: TableWriter<CarePlan>;
    goal: TableWriter<CarePlanGoal>;
    activity: TableWriter<CarePlanActivity>;
    followUp: TableWriter<FollowUp>;
    referral: TableWriter<Referral>;
    observation: TableWriter<Observation>;
  };

  constructor(
    em: EntityManager,
    readonly seed: number,
    now: Date,
    systems: IdentifierSystems,
    private readonly protection: IdentifierProtection,
    rowsPerInsert: number,
    historyYears: number,
    private readonly coverageYears: number,
  ) {
    this.root = new Random(seed);
    this.ids = new IdFactory(seed);
    this.nowMs = now.getTime();
    this.nowDay = Math.floor(this.nowMs / DAY_MS);
    this.windowStart = this.nowDay - 365 * historyYears;
    // The county's organisations and the oldest health records: seven years before the window.
    this.baseDay = this.windowStart - 7 * 365 - 60;
    this.systems = systems;
    this.rowsPerInsert = rowsPerInsert;
    this.queue = new StatementQueue(em);
    const mk = <T>(e: new () => T) => new TableWriter<T>(em, e, this.queue, this.rowsPerInsert);
    this.w = {
      organization: mk(Organization),
      grid: mk(Grid),
      practitioner: mk(Practitioner),
      practitionerRole: mk(PractitionerRole),
      careTeam: mk(CareTeam),
      careTeamMember: mk(CareTeamMember),
      patient: mk(Patient),
      identifier: mk(PatientIdentifier),
      coverage: mk(Coverage),
      condition: mk(Condition),
      carePlan: mk(CarePlan),
      goal: mk(CarePlanGoal),
      activity: mk(CarePlanActivity),
      followUp: mk(FollowUp),
      referral: mk(Referral),
      observation: mk(Observation),
    };
  }

  /** Writes buffered rows, parents before children. */
  async flushAll(): Promise<void> {
    for (const writer of Object.values(this.w)) await writer.flush();
  }

  async drain(): Promise<void> {
    await this.flushAll();
    await this.queue.drain();
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const writer of Object.values(this.w)) out[writer.table] = writer.count;
    return out;
  }

  private clampMs(ms: number): number {
    return Math.min(ms, this.nowMs - 1000);
  }

  private base(ms: number): { id: string; createdAt: Date; updatedAt: Date; version: number } {
    const at = new Date(this.clampMs(ms));
    return { id: this.ids.next(at), createdAt: at, updatedAt: at, version: 1 };
  }

  // ------------------------------------------------------------------------------------------------
  // Structure
  // ------------------------------------------------------------------------------------------------

  private org(
    rng: Random,
    name: string,
    code: string,
    level: OrganizationLevel,
    type: OrganizationType,
    parent: OrgRec | undefined,
    address: string,
    createdMs: number,
  ): OrgRec {
    const b = this.base(createdMs);
    const path = `${parent ? parent.path : '/'}${b.id}/`;
    this.w.organization.add({ ...b, name, code, level, type, parent: parent?.id, path, address, phone: orgPhone(rng) });
    return { id: b.id, name, path, level };
  }

  private practitioner(rng: Random, org: OrgRec, role: PractitionerRoleCode, specialty?: Specialty): PracRec {
    const male = rng.chance(role === PractitionerRoleCode.NURSE ? 0.08 : role === PractitionerRoleCode.VILLAGE_DOCTOR ? 0.75 : 0.55);
    const birthYear = role === PractitionerRoleCode.VILLAGE_DOCTOR ? rng.int(1958, 1990) : rng.int(1968, 1998);
    const name = personName(rng, male, birthYear);
    const b = this.base(localMs(this.baseDay + rng.int(0, 60), 9, rng.int(0, 59)));
    const code = `YS${COUNTY.areaCode}${String(++this.practitionerSeq).padStart(5, '0')}`;
    this.w.practitioner.add({ ...b, name, gender: male ? Gender.MALE : Gender.FEMALE, code, phone: phoneNumber(rng, 40) });
    this.w.practitionerRole.add({ ...this.base(b.createdAt.getTime() + MIN_MS), practitioner: b.id, organization: org.id, role, specialty });
    return { id: b.id, name, org, role, specialty };
  }

  buildCounty(patients: number): County {
    const rng = this.root.derive('county');
    const { townships: townshipCount, villagesPerTownship } = countyShape(patients);
    const t0 = localMs(this.baseDay, 9);
    const county = COUNTY.areaCode;
    const hospital = this.org(
      rng,
      COUNTY.hospital,
      `${county}000000`,
      OrganizationLevel.COUNTY,
      OrganizationType.MEDICAL_COMMUNITY_LEAD,
      undefined,
      `${COUNTY.province}${COUNTY.city}${COUNTY.name}昆阳镇城东路238号`,
      t0,
    );
    const insurer = this.org(
      rng,
      COUNTY.insurer,
      `YB${county}`,
      OrganizationLevel.EXTERNAL,
      OrganizationType.INSURER,
      undefined,
      `${COUNTY.province}${COUNTY.city}${COUNTY.name}昆阳镇兴平路88号`,
      t0 + MIN_MS,
    );

    const specialistCount = 2 + Math.ceil(townshipCount / 5);
    const specialists: Record<Specialty, PracRec[]> = { cardiology: [], endocrinology: [], neurology: [], respiratory: [], nephrology: [] };
    for (const s of Object.keys(SPECIALTIES) as Specialty[]) {
      const n = s === 'cardiology' || s === 'endocrinology' ? specialistCount : 1 + Math.floor(specialistCount / 2);
      for (let i = 0; i < n; i++) specialists[s].push(this.practitioner(rng, hospital, PractitionerRoleCode.SPECIALIST, s));
    }
    this.practitioner(rng, hospital, PractitionerRoleCode.ADMINISTRATOR);

    const usedVillageNames = new Set<string>();
    const townships: TownshipRec[] = [];
    const grids: GridRec[] = [];
    const gridWeights: Array<[GridRec, number]> = [];
    let teamSeq = 0;

    for (let t = 0; t < townshipCount; t++) {
      const tn = TOWNSHIPS[t]!;
      const no = t + 1;
      const tcode = String(no).padStart(3, '0');
      const torg = this.org(
        rng,
        townshipCentreName(tn, t),
        `${county}${tcode}000`,
        OrganizationLevel.TOWNSHIP,
        tn.seat ? OrganizationType.COMMUNITY_HEALTH_CENTRE : OrganizationType.TOWNSHIP_HEALTH_CENTRE,
        hospital,
        `${COUNTY.province}${COUNTY.city}${COUNTY.name}${tn.name}${rng.pick(STREETS)}${rng.int(1, 300)}号`,
        t0 + (10 + t) * MIN_MS,
      );
      const nVillages = Math.max(1, Math.min(99, Math.round(villagesPerTownship * rng.uniform(0.7, 1.3))));
      const nUrban = t === 0 ? Math.min(URBAN_BLOCKS.length, Math.max(2, Math.round(villagesPerTownship / 3))) : t < Math.ceil(townshipCount / 4) + 1 ? rng.int(1, 2) : 0;
      const nGrids = nVillages + nUrban;
      const township: TownshipRec = { no, name: tn.name, org: torg, villages: [], gps: [], nurses: [], phos: [] };
      for (let i = 0; i < Math.max(2, Math.ceil(nGrids / 3)); i++) township.gps.push(this.practitioner(rng, torg, PractitionerRoleCode.GENERAL_PRACTITIONER));
      for (let i = 0; i < Math.max(2, Math.ceil(nGrids / 4)); i++) township.nurses.push(this.practitioner(rng, torg, PractitionerRoleCode.NURSE));
      for (let i = 0; i < Math.max(1, Math.ceil(nGrids / 6)); i++) township.phos.push(this.practitioner(rng, torg, PractitionerRoleCode.PUBLIC_HEALTH_OFFICER));
      townships.push(township);

      const makeTeam = (grid: { id: string; name: string }, gridIndex: number, villageDoctor: PracRec | undefined): TeamRec => {
        const b = this.base(localMs(this.baseDay + 30, 10, teamSeq++ % 60));
        const team: TeamRec = {
          id: b.id,
          gp: township.gps[gridIndex % township.gps.length]!,
          nurse: township.nurses[gridIndex % township.nurses.length]!,
          pho: township.phos[gridIndex % township.phos.length]!,
          villageDoctor,
          cardiologist: specialists.cardiology[teamSeq % specialists.cardiology.length]!,
          endocrinologist: specialists.endocrinology[teamSeq % specialists.endocrinology.length]!,
        };
        this.w.careTeam.add({ ...b, name: `${tn.name}${grid.name.replace(/(村|社区)$/, '')}家庭医生团队`, organization: torg.id, grid: grid.id });
        const members: Array<[PracRec | undefined, PractitionerRoleCode]> = [
          [team.gp, PractitionerRoleCode.GENERAL_PRACTITIONER],
          [team.nurse, PractitionerRoleCode.NURSE],
          [team.pho, PractitionerRoleCode.PUBLIC_HEALTH_OFFICER],
          [team.villageDoctor, PractitionerRoleCode.VILLAGE_DOCTOR],
          [team.cardiologist, PractitionerRoleCode.SPECIALIST],
          [team.endocrinologist, PractitionerRoleCode.SPECIALIST],
        ];
        let m = 0;
        for (const [p, role] of members) {
          if (p) this.w.careTeamMember.add({ ...this.base(b.createdAt.getTime() + ++m * 1000), careTeam: team.id, practitioner: p.id, role });
        }
        return team;
      };

      let gridIndex = 0;
      for (let u = 0; u < nUrban; u++) {
        const name = `${URBAN_BLOCKS[u]!}社区`;
        const areaNo = u + 1;
        const b = this.base(localMs(this.baseDay + 20, 9, gridIndex));
        this.w.grid.add({ ...b, name: `${tn.name}${name}`, code: `WG${county}${tcode}${String(areaNo).padStart(3, '0')}`, kind: GridKind.URBAN_BLOCK, organization: torg.id });
        const team = makeTeam({ id: b.id, name }, gridIndex++, undefined);
        const grid: GridRec = { id: b.id, name, kind: GridKind.URBAN_BLOCK, township, areaNo, managingOrg: torg, team, lineages: [], serial: 0 };
        grids.push(grid);
        gridWeights.push([grid, (t === 0 ? 2.2 : 1.6) * rng.uniform(0.8, 1.2)]);
      }
      for (let v = 0; v < nVillages; v++) {
        const vname = villageName(rng, usedVillageNames);
        const vno = 101 + v;
        const vcode = String(vno);
        const vorg = this.org(
          rng,
          `${tn.name}${vname}卫生室`,
          `${county}${tcode}${vcode}`,
          OrganizationLevel.VILLAGE,
          OrganizationType.VILLAGE_CLINIC,
          torg,
          `${COUNTY.province}${COUNTY.city}${COUNTY.name}${tn.name}${vname}`,
          t0 + (100 + t * 100 + v) * MIN_MS,
        );
        const village: VillageRec = { no: vno, name: vname, org: vorg, doctors: [] };
        const weight = rng.uniform(0.6, 1.4);
        const nDoctors = weight > 1.15 ? 2 : 1;
        for (let d = 0; d < nDoctors; d++) village.doctors.push(this.practitioner(rng, vorg, PractitionerRoleCode.VILLAGE_DOCTOR));
        township.villages.push(village);
        const b = this.base(localMs(this.baseDay + 20, 10, gridIndex % 60));
        this.w.grid.add({ ...b, name: `${tn.name}${vname}`, code: `WG${county}${tcode}${vcode}`, kind: GridKind.VILLAGE, organization: vorg.id });
        const team = makeTeam({ id: b.id, name: vname }, gridIndex++, village.doctors[0]);
        const grid: GridRec = { id: b.id, name: vname, kind: GridKind.VILLAGE, township, village, areaNo: vno, managingOrg: vorg, team, lineages: villageLineages(rng), serial: 0 };
        grids.push(grid);
        gridWeights.push([grid, weight]);
      }
    }
    return { hospital, insurer, townships, grids, gridTable: weighted(gridWeights), specialists };
  }

  // ------------------------------------------------------------------------------------------------
  // Patients
  // ------------------------------------------------------------------------------------------------

  private residentId(birthDay: number, male: boolean, rng: Random): string {
    let day = birthDay;
    for (;;) {
      let used = this.usedResidentIds.get(day);
      if (!used) this.usedResidentIds.set(day, (used = new Set()));
      let seq = rng.int(0, 499) * 2 + (male ? 1 : 0);
      for (let tries = 0; tries < 500; tries++) {
        if (!used.has(seq)) {
          used.add(seq);
          return makeResidentId(COUNTY.areaCode, iso(day), seq);
        }
        seq = (seq + 2) % 1000;
      }
      day -= 1; // all 500 sequences of that sex taken that day: move the birth date (huge counties only)
    }
  }

  generatePatient(county: County, index: number): void {
    const rng = this.root.derive('patient', index);
    const grid = rng.pickWeighted(county.gridTable);
    const [lo, hi] = rng.pickWeighted(AGE_BANDS);
    const age = rng.int(lo, hi);
    const male = rng.chance(age < 70 ? 0.505 : age < 85 ? 0.46 : 0.4);
    let birthDay = this.nowDay - Math.floor(age * 365.25) - rng.int(1, 364);
    const residentId = this.residentId(birthDay, male, rng);
    birthDay = dayOf(`${residentId.slice(6, 10)}-${residentId.slice(10, 12)}-${residentId.slice(12, 14)}`);
    const birthYear = Number(residentId.slice(6, 10));
    const name = personName(rng, male, birthYear, grid.lineages);

    // Health record created before the window for most; some residents registered during it.
    const createdDay = rng.chance(0.9) ? rng.int(this.baseDay + 90, this.windowStart - 30) : rng.int(this.windowStart, this.nowDay - 30);
    const createdMs = localMs(createdDay, rng.int(8, 16), rng.int(0, 59));
    const b = this.base(createdMs);
    const doctor = grid.team.villageDoctor ?? grid.team.gp;
    const ctx: PatientCtx = {
      index,
      id: b.id,
      rng,
      grid,
      age,
      male,
      createdMs,
      startDay: Math.max(this.windowStart, createdDay + 1),
      conditions: [],
      htn: false,
      dm: false,
      managed: false,
      complication: false,
      doctor,
      homeOrg: grid.managingOrg,
      pBp: 0,
      pGlu: 0,
      hasMonitor: false,
      weight: male ? rng.normalClamped(66, 9, 45, 110) : rng.normalClamped(57, 8, 38, 95),
      lastReferralDay: -Infinity,
      lastActivityMs: createdMs,
      countyContact: false,
    };

    this.generateConditions(ctx);

    // Family-doctor contract: priority groups (elderly, chronic patients) sign far more often.
    const pContract = ctx.managed || age >= 65 ? 0.88 : age >= 35 ? 0.55 : 0.35;
    let contractSignedOn: string | undefined;
    let contractExpiresOn: string | undefined;
    let team: string | undefined;
    if (rng.chance(pContract)) {
      team = grid.team.id;
      const signed = rng.chance(0.93) ? this.nowDay - rng.int(1, 365) : this.nowDay - rng.int(366, 700);
      const signedDay = Math.max(signed, createdDay);
      contractSignedOn = iso(signedDay);
      contractExpiresOn = addDays(iso(signedDay), 364);
    }

    // Events; these also settle the latest control status.
    this.generateScreening(ctx, county);
    if (ctx.managed) this.generateManagement(ctx, county);
    else if (ctx.htn || ctx.dm) this.generateUnmanagedReadings(ctx);
    this.generateIndependentDownReferrals(ctx, county);

    // Tier and colour are derived by the care rules when the county is written (src/care/state/, seedCounty); a
    // few of the oldest are raised to red by the team, an override standing until its review date.
    let managementTier: ManagementTier | undefined;
    let managementColour: ManagementColour | undefined;
    let managementOverrideReason: string | undefined;
    let managementOverriddenBy: string | undefined;
    let managementOverriddenAt: Date | undefined;
    let managementOverrideReviewOn: string | undefined;
    if (ctx.managed && ctx.age >= 80 && rng.chance(0.06)) {
      [managementTier, managementColour] = [ManagementTier.INTENSIVE, ManagementColour.RED];
      managementOverrideReason = '高龄独居，服药依从性差，团队讨论后上调为重点管理';
      managementOverriddenBy = grid.team.gp.id;
      const overriddenDay = this.nowDay - rng.int(5, 200);
      managementOverriddenAt = new Date(localMs(overriddenDay, 10, 0));
      managementOverrideReviewOn = addDays(iso(overriddenDay), DEFAULT_CARE_RULES.management.overrideReviewDays);
    }

    const patientRow: Row<Patient> = {
      ...b,
      updatedAt: new Date(this.clampMs(Math.max(ctx.lastActivityMs, createdMs))),
      name,
      gender: male ? Gender.MALE : Gender.FEMALE,
      birthDate: iso(birthDay),
      phone: phoneNumber(rng, age),
      address: this.address(rng, grid),
      grid: grid.id,
      managingOrganization: grid.managingOrg.id,
      familyDoctorTeam: team,
      contractSignedOn,
      contractExpiresOn,
      managementTier,
      managementColour,
      managementOverrideReason,
      managementOverriddenBy,
      managementOverriddenAt,
      managementOverrideReviewOn,
      // the village clinic or township centre built the health record
      registeredBy: grid.managingOrg.id,
    };
    this.w.patient.add(patientRow);

    // Identifiers.
    const healthRecord = `${COUNTY.areaCode}${String(grid.township.no).padStart(3, '0')}${String(grid.areaNo).padStart(3, '0')}${String(++grid.serial).padStart(5, '0')}`;
    const idAt = createdMs + 1000;
    const identifier = (system: string, kind: IdentifierKind, value: string) =>
      this.w.identifier.add({ ...this.base(idAt), patient: ctx.id, system, kind, ...this.protection.protect(system, kind, value) });
    identifier(this.systems.residentId, IdentifierKind.RESIDENT_ID, residentId);
    identifier(this.systems.healthRecord, IdentifierKind.HEALTH_RECORD, healthRecord);
    if (ctx.countyContact && this.systems.mrn.length > 0) identifier(this.systems.mrn[0]!, IdentifierKind.MRN, `ZY${String(1_000_000 + index)}`);
    if (rng.chance(0.95)) {
      // Insurance numbers: a permutation of the index, so unique without bookkeeping.
      const memberNumber = `${COUNTY.areaCode}${String((index * 7_919_317 + (this.seed % 1_000_000)) % 10_000_000_000).padStart(10, '0')}`;
      identifier(this.systems.insurance, IdentifierKind.INSURANCE, memberNumber);
      // Enrolled for the current year, or (coverageYears) continuously since an earlier one, not before the record.
      const year = new Date(this.nowMs).getUTCFullYear();
      const firstYear = Math.max(year - this.coverageYears + 1, new Date(createdMs).getUTCFullYear());
      const enrolled = Math.max(createdMs, Date.UTC(firstYear - 1, 11, 1 + rng.int(0, 25), 2));
      this.w.coverage.add({
        ...this.base(enrolled),
        patient: ctx.id,
        insurer: county.insurer.id,
        memberNumber,
        plan: age < 60 && rng.chance(0.25) ? '职工基本医疗保险' : '城乡居民基本医疗保险',
        status: CoverageStatus.ACTIVE,
        periodStart: `${firstYear}-01-01`,
        periodEnd: `${year}-12-31`,
      });
    }
  }

  private address(rng: Random, grid: GridRec): string {
    const prefix = `${COUNTY.province}${COUNTY.city}${COUNTY.name}${grid.township.name}`;
    if (grid.kind === GridKind.URBAN_BLOCK) {
      return `${prefix}${grid.name}${rng.pick(STREETS)}${rng.int(1, 320)}号${rng.int(1, 12)}幢${rng.int(1, 7)}0${rng.int(1, 4)}室`;
    }
    return `${prefix}${grid.name}${rng.int(1, 260)}号`;
  }

  // ------------------------------------------------------------------------------------------------
  // Conditions
  // ------------------------------------------------------------------------------------------------

  private generateConditions(ctx: PatientCtx): void {
    const { rng, age, male } = ctx;
    const htn = rng.chance(htnProbability(age));
    const dm = rng.chance(dmProbability(age, htn));
    const copd = age >= 35 && rng.chance((age < 55 ? 0.02 : age < 65 ? 0.05 : 0.08) * (male ? 1.6 : 0.5));
    const chd = age >= 45 && rng.chance((age < 65 ? 0.02 : 0.06) * (htn ? 1.5 : 0.8));
    const stroke = age >= 50 && rng.chance((age < 65 ? 0.02 : 0.045) * (htn ? 1.8 : 0.7));
    const ckd = age >= 45 && rng.chance(0.03 * (dm ? 2 : 0.8));

    const add = (kind: ConditionKind, present: boolean) => {
      if (!present) return;
      // Onset: a share of cases is new within the window (incidence), the rest older.
      const earliest = this.nowDay - Math.floor((age - 18) * 365.25);
      const newCase = rng.chance(0.12) && ctx.startDay < this.nowDay - 60;
      const onsetDay = newCase
        ? rng.int(ctx.startDay + 30, this.nowDay - 30)
        : Math.min(this.nowDay - 30, Math.max(earliest, this.windowStart - rng.int(30, 365 * 15)));
      ctx.conditions.push({ kind, onsetDay, newCase });
    };
    add(ConditionKind.HYPERTENSION, htn);
    add(ConditionKind.TYPE_2_DIABETES, dm);
    add(ConditionKind.COPD, copd);
    add(ConditionKind.CHD, chd);
    add(ConditionKind.STROKE, stroke);
    add(ConditionKind.CKD, ckd);
    ctx.htn = htn;
    ctx.dm = dm;
    ctx.complication = chd || stroke || ckd;
    ctx.managed = (htn || dm) && rng.chance(0.92);
    if (ctx.managed) {
      // Some patients reach target readily, some rarely (adherence, regimen, lifestyle).
      ctx.pBp = rng.chance(0.4) ? rng.uniform(0.8, 0.95) : rng.uniform(0.1, 0.35);
      ctx.pGlu = rng.chance(0.4) ? rng.uniform(0.78, 0.95) : rng.uniform(0.1, 0.35);
      ctx.hasMonitor = rng.chance(age < 75 ? 0.35 : 0.15);
      if (htn && rng.chance(0.08)) ctx.deviceId = `HEM-7136T-${String(100000 + ctx.index)}`;
    }
  }

  private writeCondition(ctx: PatientCtx, c: ConditionRec, confirmedBy: OrgRec, confirmedMs: number): void {
    const codes = CONDITION_CODES[c.kind as keyof typeof CONDITION_CODES];
    const useSnomed = ctx.rng.chance(0.3);
    const [code, display] = useSnomed ? codes.snomed : codes.icd10;
    const system = useSnomed ? SYSTEMS.snomed : SYSTEMS.icd10;
    const kind = classifyCondition(system, code);
    if (kind !== c.kind) throw new Error(`seed: ${system}|${code} classifies as ${kind}, expected ${c.kind}`);
    const recorded = Math.max(confirmedMs, ctx.createdMs) + ctx.rng.int(1, 90) * MIN_MS;
    this.w.condition.add({
      ...this.base(recorded),
      patient: ctx.id,
      code,
      system,
      display: display ?? CONDITION_DISPLAY[kind].zh,
      kind,
      onsetDate: iso(c.onsetDay),
      clinicalStatus: ClinicalStatus.ACTIVE,
      verificationStatus: VerificationStatus.CONFIRMED,
      confirmedBy: confirmedBy.id,
      confirmedAt: new Date(this.clampMs(confirmedMs)),
    });
  }

  // ------------------------------------------------------------------------------------------------
  // Readings
  // ------------------------------------------------------------------------------------------------

  private bpValues(rng: Random, controlled: boolean): [number, number] {
    let sys: number;
    let dia: number;
    if (controlled) {
      sys = Math.round(rng.normalClamped(127, 7, 102, 139));
      dia = Math.round(rng.normalClamped(78, 6, 58, 89));
    } else if (rng.chance(0.012)) {
      // urgent
      if (rng.chance(0.8)) {
        sys = rng.int(180, 204);
        dia = rng.int(92, 116);
      } else {
        sys = rng.int(165, 178);
        dia = rng.int(110, 118);
      }
    } else if (rng.chance(0.75)) {
      sys = Math.round(rng.normalClamped(152, 9, 140, 178));
      dia = Math.round(rng.normalClamped(88, 7, 66, 108));
    } else {
      sys = Math.round(rng.normalClamped(138, 8, 120, 176));
      dia = Math.round(rng.normalClamped(94, 3, 90, 108));
    }
    if (dia > sys - 25) dia = sys - 25;
    return [sys, dia];
  }

  private screeningBp(rng: Random, age: number): [number, number] {
    const sys = Math.round(rng.normalClamped(118 + Math.max(0, age - 35) * 0.25, 11, 96, 172));
    const dia = Math.min(sys - 25, Math.round(rng.normalClamped(76, 8, 55, 104)));
    return [sys, dia];
  }

  private glucoseValue(rng: Random, controlled: boolean, insulinOrSu: boolean): number {
    if (controlled) {
      if (insulinOrSu && rng.chance(0.01)) return round1(rng.uniform(3.1, 3.8)); // hypoglycaemia: urgent
      return round1(rng.normalClamped(6.0, 0.45, 4.4, 6.9));
    }
    if (rng.chance(0.008)) return round1(rng.uniform(16.8, 21.5)); // urgent
    return round1(rng.normalClamped(8.8, 1.5, 7.0, 16.0));
  }

  private bp(ctx: PatientCtx, ms: number, sysDia: [number, number], source: ObservationSource, performer?: PracRec): ControlStatus {
    const [systolic, diastolic] = sysDia;
    const status = controlStatusOf({ kind: ObservationKind.BLOOD_PRESSURE, systolic, diastolic })!;
    const lag = source === ObservationSource.DEVICE ? ctx.rng.int(5, 90) * 1000 : source === ObservationSource.HOME ? ctx.rng.int(1, 600) * MIN_MS : ctx.rng.int(1, 30) * MIN_MS;
    const created = this.clampMs(ms + lag);
    this.w.observation.add({
      ...this.base(created),
      patient: ctx.id,
      code: LOINC.bpPanel,
      system: SYSTEMS.loinc,
      kind: ObservationKind.BLOOD_PRESSURE,
      systolic,
      diastolic,
      controlStatus: status,
      controlInterpretation: controlInterpretationOf({ kind: ObservationKind.BLOOD_PRESSURE, systolic, diastolic }),
      unit: 'mm[Hg]',
      effectiveAt: new Date(ms),
      source,
      performer: performer?.id,
      organization: performer?.org.id,
      deviceId: source === ObservationSource.DEVICE ? ctx.deviceId : undefined,
      sourceSystem: source === ObservationSource.DEVICE ? DEVICE_SOURCE_SYSTEM : undefined,
      sourceId: source === ObservationSource.DEVICE ? `${ctx.deviceId}-${ms}` : undefined,
    });
    if (!ctx.latestBp || ms >= ctx.latestBp.ms) ctx.latestBp = { ms, status, a: systolic, b: diastolic };
    ctx.lastActivityMs = Math.max(ctx.lastActivityMs, created);
    return status;
  }

  private glucose(ctx: PatientCtx, ms: number, mmol: number, source: ObservationSource, performer?: PracRec, lab?: OrgRec): ControlStatus {
    // Hospital labs sometimes send mg/dL: keep what arrived, store the canonical mmol/L.
    let receivedValue = mmol;
    let receivedUnit = 'mmol/L';
    let value = mmol;
    if (lab && ctx.rng.chance(0.4)) {
      receivedValue = Math.round(mmol * 18.016);
      receivedUnit = 'mg/dL';
      value = toCanonical(ObservationKind.FASTING_GLUCOSE, receivedValue, receivedUnit)!.value;
    }
    const status = controlStatusOf({ kind: ObservationKind.FASTING_GLUCOSE, value })!;
    const created = this.clampMs(ms + (source === ObservationSource.CLINIC ? ctx.rng.int(1, 40) * MIN_MS : ctx.rng.int(1, 600) * MIN_MS));
    const org = lab ?? performer?.org;
    this.w.observation.add({
      ...this.base(created),
      patient: ctx.id,
      code: LOINC.fastingGlucose,
      system: SYSTEMS.loinc,
      kind: ObservationKind.FASTING_GLUCOSE,
      value,
      controlStatus: status,
      controlInterpretation: controlInterpretationOf({ kind: ObservationKind.FASTING_GLUCOSE, value }),
      unit: 'mmol/L',
      receivedValue,
      receivedUnit,
      effectiveAt: new Date(ms),
      source,
      performer: performer?.id,
      organization: org?.id,
    });
    if (!ctx.latestGlu || ms >= ctx.latestGlu.ms) ctx.latestGlu = { ms, status, a: value, b: 0 };
    ctx.lastActivityMs = Math.max(ctx.lastActivityMs, created);
    return status;
  }

  private hba1c(ctx: PatientCtx, ms: number, controlled: boolean, lab: OrgRec, performer: PracRec): ControlStatus {
    const rng = ctx.rng;
    const percent = controlled ? round1(rng.normalClamped(6.4, 0.3, 5.6, 6.9)) : round1(rng.normalClamped(8.1, 0.9, 7.0, 12.5));
    let receivedValue = percent;
    let receivedUnit = '%';
    let value = percent;
    if (lab.level === OrganizationLevel.COUNTY && rng.chance(0.5)) {
      receivedValue = Math.round((percent - 2.15) * 10.929);
      receivedUnit = 'mmol/mol';
      value = toCanonical(ObservationKind.HBA1C, receivedValue, receivedUnit)!.value;
    }
    this.w.observation.add({
      ...this.base(ms + rng.int(2, 30) * HOUR_MS),
      patient: ctx.id,
      code: LOINC.hba1c,
      system: SYSTEMS.loinc,
      kind: ObservationKind.HBA1C,
      value,
      // The seed's readings are all plausible: the column's default; the control status by the same rule as the service's.
      controlStatus: controlStatusOf({ kind: ObservationKind.HBA1C, value }),
      controlInterpretation: controlInterpretationOf({ kind: ObservationKind.HBA1C, value }),
      unit: '%',
      receivedValue,
      receivedUnit,
      effectiveAt: new Date(ms),
      source: ObservationSource.CLINIC,
      performer: performer.id,
      organization: lab.id,
    });
    return controlStatusOf({ kind: ObservationKind.HBA1C, value })!;
  }

  private weight(ctx: PatientCtx, ms: number, source: ObservationSource, performer?: PracRec): void {
    ctx.weight = Math.min(140, Math.max(35, ctx.weight + ctx.rng.normal(0, 0.8)));
    const value = round1(ctx.weight);
    this.w.observation.add({
      ...this.base(ms + ctx.rng.int(1, 30) * MIN_MS),
      patient: ctx.id,
      code: LOINC.weight,
      system: SYSTEMS.loinc,
      kind: ObservationKind.WEIGHT,
      value,
      unit: 'kg',
      receivedValue: value,
      receivedUnit: 'kg',
      effectiveAt: new Date(ms),
      source,
      performer: performer?.id,
      organization: performer?.org.id,
    });
  }

  // ------------------------------------------------------------------------------------------------
  // Screening, diagnosis, yearly health checks
  // ------------------------------------------------------------------------------------------------

  private generateScreening(ctx: PatientCtx, county: County): void {
    const { rng, age } = ctx;
    const township = ctx.grid.township;
    const gp = ctx.grid.team.gp;

    // Diagnosis of each condition: new cases get a screening reading, maybe an up-referral to confirm.
    for (const c of ctx.conditions) {
      const countyFirst = c.kind === ConditionKind.CHD || c.kind === ConditionKind.STROKE ? 0.8 : 0.3;
      let confirmedBy = rng.chance(countyFirst) ? county.hospital : township.org;
      let confirmedMs = localMs(c.onsetDay + rng.int(0, 10), rng.int(8, 16), rng.int(0, 59));
      if (c.newCase && (c.kind === ConditionKind.HYPERTENSION || c.kind === ConditionKind.TYPE_2_DIABETES)) {
        const screenDay = Math.max(ctx.startDay, c.onsetDay - rng.int(5, 25));
        const screenMs = localMs(screenDay, rng.int(8, 11), rng.int(0, 59));
        if (c.kind === ConditionKind.HYPERTENSION) this.bp(ctx, screenMs, this.bpValues(rng, false), ObservationSource.CLINIC, ctx.doctor);
        else this.glucose(ctx, screenMs, round1(rng.normalClamped(8.4, 1.2, 7.1, 13)), ObservationSource.CLINIC, ctx.doctor);
        if (ctx.homeOrg.level === OrganizationLevel.VILLAGE && rng.chance(0.35)) {
          // unclear diagnosis: referred up to confirm
          const to = rng.chance(0.75) ? township.org : county.hospital;
          confirmedBy = to;
          const requested = localMs(screenDay + rng.int(1, 3), rng.int(9, 16), rng.int(0, 59));
          const completed = Math.max(requested + 2 * HOUR_MS, localMs(c.onsetDay, rng.int(9, 16), rng.int(0, 59)));
          const toPrac = to === county.hospital ? rng.pick(county.specialists[c.kind === ConditionKind.HYPERTENSION ? 'cardiology' : 'endocrinology']) : gp;
          confirmedMs = this.referral(ctx, {
            direction: ReferralDirection.UP,
            from: ctx.doctor,
            to: to,
            toPractitioner: toPrac,
            reason: ReferralReason.UNCLEAR_DIAGNOSIS,
            urgent: false,
            requestedMs: requested,
            forceCompletedMs: completed,
            summary: c.kind === ConditionKind.HYPERTENSION ? '首诊筛查血压升高，非同日复测仍偏高，申请明确高血压诊断' : '体检空腹血糖升高，申请进一步检查明确糖尿病诊断',
            outcome:
              c.kind === ConditionKind.HYPERTENSION
                ? '动态血压监测及相关检查后确诊原发性高血压，已制定治疗方案，转回基层纳入慢病管理'
                : 'OGTT及糖化血红蛋白检查后确诊2型糖尿病，已制定治疗方案，转回基层纳入慢病管理',
          }).completedMs ?? confirmedMs;
        }
      }
      if (confirmedBy === county.hospital) ctx.countyContact = true;
      this.writeCondition(ctx, c, confirmedBy, confirmedMs);
    }

    // Yearly health check for the elderly (basic public health service), at the township centre.
    if (age >= 65) {
      const firstYear = new Date(ctx.startDay * DAY_MS).getUTCFullYear();
      const lastYear = new Date(this.nowDay * DAY_MS).getUTCFullYear();
      for (let y = firstYear; y <= lastYear; y++) {
        if (!rng.chance(0.72)) continue;
        const from = Math.max(ctx.startDay, dayOf(`${y}-03-01`));
        const to = Math.min(this.nowDay - 1, dayOf(`${y}-10-31`));
        if (from > to) continue;
        const day = rng.int(from, to);
        const ms = localMs(day, rng.int(7, 10), rng.int(0, 59));
        const performer = rng.pick(township.nurses);
        this.bp(ctx, ms, ctx.htn ? this.bpValues(rng, rng.chance(ctx.managed ? ctx.pBp : 0.35)) : this.screeningBp(rng, age), ObservationSource.CLINIC, performer);
        const mmol = ctx.dm ? this.glucoseValue(rng, rng.chance(ctx.managed ? ctx.pGlu : 0.35), false) : round1(rng.chance(0.04) ? rng.uniform(7.0, 9.0) : rng.normalClamped(5.3, 0.5, 4.0, 6.9));
        this.glucose(ctx, ms + 5 * MIN_MS, mmol, ObservationSource.CLINIC, performer, township.org);
        this.weight(ctx, ms + 2 * MIN_MS, ObservationSource.CLINIC, performer);
      }
    } else if (age >= 35 && !ctx.htn && rng.chance(0.25)) {
      // opportunistic first-visit BP for adults 35+ (首诊测血压)
      const day = rng.int(ctx.startDay, this.nowDay - 1);
      this.bp(ctx, localMs(day, rng.int(8, 16), rng.int(0, 59)), this.screeningBp(rng, age), ObservationSource.CLINIC, ctx.doctor);
    }
  }

  private generateUnmanagedReadings(ctx: PatientCtx): void {
    const { rng } = ctx;
    const n = rng.int(0, 3);
    for (let i = 0; i < n; i++) {
      const day = rng.int(ctx.startDay, this.nowDay - 1);
      const ms = localMs(day, rng.int(8, 16), rng.int(0, 59));
      if (ctx.htn) this.bp(ctx, ms, this.bpValues(rng, rng.chance(0.35)), ObservationSource.CLINIC, ctx.doctor);
      if (ctx.dm) this.glucose(ctx, ms + 3 * MIN_MS, this.glucoseValue(rng, rng.chance(0.35), false), ObservationSource.CLINIC, ctx.doctor);
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Management: care plans, follow-ups, home readings, referrals
  // ------------------------------------------------------------------------------------------------

  private generateManagement(ctx: PatientCtx, county: County): void {
    const { rng } = ctx;
    const team = ctx.grid.team;
    const township = ctx.grid.township;
    const managedKinds = ctx.conditions.filter((c) => c.kind === ConditionKind.HYPERTENSION || c.kind === ConditionKind.TYPE_2_DIABETES);
    const firstOnset = Math.min(...managedKinds.map((c) => c.onsetDay));
    const enrolDay = Math.max(firstOnset + rng.int(3, 30), ctx.startDay - (firstOnset < ctx.startDay ? rng.int(60, 900) : 0));
    const simStart = Math.max(ctx.startDay, enrolDay);

    const smoker = ctx.male ? rng.chance(0.45) : rng.chance(0.02);
    const drinker = ctx.male ? rng.chance(0.35) : rng.chance(0.03);
    const htnDrugs = ctx.htn ? pickDrugs(rng, HTN_DRUG_TABLE, ctx.pBp < 0.5 ? 2 : rng.int(1, 2)) : [];
    const dmDrugs = ctx.dm ? pickDrugs(rng, DM_DRUG_TABLE, ctx.pGlu < 0.5 ? 2 : 1) : [];
    const insulinOrSu = dmDrugs.some((d) => d.atc === 'A10AE04' || d.atc === 'A10BB12');

    // Care plans: the current year's plan, and the previous year's (re-assessment loops back to the plan).
    if (rng.chance(0.9)) {
      const years = Math.floor((this.nowDay - enrolDay) / 365);
      const activeStart = enrolDay + years * 365;
      this.carePlan(ctx, activeStart, CarePlanStatus.ACTIVE, htnDrugs, dmDrugs, smoker, drinker, township.org, ctx.doctor);
      if (years >= 1) this.carePlan(ctx, activeStart - 365, CarePlanStatus.COMPLETED, htnDrugs, dmDrugs, smoker, drinker, township.org, ctx.doctor);
    }

    const adherence = rng.next();
    const lax = adherence > 0.72 && adherence <= 0.9;
    const dropoutDay = adherence > 0.9 ? rng.int(this.nowDay - 300, this.nowDay - 90) : Infinity;

    let day = simStart + (simStart === enrolDay ? 0 : rng.int(0, 60));
    let previous: ControlStatus | undefined;
    let plannedFor: string | undefined;
    let plannedAtMs: number | undefined;
    let lastHba1cDay = -Infinity;
    let visits = 0;
    let faceToFaceYear = '';
    let faceToFaceInYear = 0;
    while (day < this.nowDay && day < dropoutDay) {
      const type = rng.pickWeighted(ctx.hasMonitor || ctx.deviceId ? FOLLOW_UP_TYPES_MONITOR : FOLLOW_UP_TYPES_PLAIN);
      const faceToFace = type === FollowUpType.CLINIC || type === FollowUpType.HOME;
      const practitioner = type === FollowUpType.REMOTE || (type === FollowUpType.CLINIC && rng.chance(0.2)) ? team.gp : ctx.doctor;
      const visitMs = localMs(day, type === FollowUpType.HOME ? rng.int(14, 17) : rng.int(8, 16), rng.int(0, 59));
      const readingSource = faceToFace ? ObservationSource.CLINIC : ctx.deviceId && type === FollowUpType.REMOTE ? ObservationSource.DEVICE : ObservationSource.HOME;
      const performer = faceToFace ? practitioner : undefined;

      const statuses: ControlStatus[] = [];
      const findings: string[] = [];
      let bpValues: [number, number] | undefined;
      let gluValue: number | undefined;
      if (ctx.htn) {
        bpValues = this.bpValues(rng, rng.chance(ctx.pBp));
        statuses.push(this.bp(ctx, visitMs - 10 * MIN_MS, bpValues, readingSource, performer));
        findings.push(`血压 ${bpValues[0]}/${bpValues[1]} mmHg`);
      }
      if (ctx.dm) {
        gluValue = this.glucoseValue(rng, rng.chance(ctx.pGlu), insulinOrSu);
        // connected devices here are BP monitors: glucose is self-measured with a meter and reported
        const gluSource = readingSource === ObservationSource.DEVICE ? ObservationSource.HOME : readingSource;
        statuses.push(this.glucose(ctx, visitMs - 20 * MIN_MS, gluValue, gluSource, performer));
        findings.push(`空腹血糖 ${gluValue.toFixed(1)} mmol/L`);
        if (type === FollowUpType.CLINIC && day - lastHba1cDay >= 100) {
          const lab = rng.chance(0.7) ? township.org : county.hospital;
          statuses.push(this.hba1c(ctx, visitMs - 15 * MIN_MS, rng.chance(ctx.pGlu), lab, practitioner));
          lastHba1cDay = day;
        }
      }
      if (faceToFace && rng.chance(0.3)) this.weight(ctx, visitMs - 5 * MIN_MS, ObservationSource.CLINIC, practitioner);

      // As the care rules judge a visit: the worst of its readings (src/care/state/); they reassess the county at the end.
      const controlStatus = worstOf(statuses);
      const adverseReaction = rng.chance(0.02);
      const newComplication = rng.chance(0.008);
      const doneDate = iso(day);
      if (doneDate.slice(0, 4) !== faceToFaceYear) [faceToFaceYear, faceToFaceInYear] = [doneDate.slice(0, 4), 0];
      if (isFaceToFace(type)) faceToFaceInYear++;
      const advice = referralAdviceOf({ controlStatus, previousControlStatus: previous, newComplication, openUpReferral: false });
      const uncontrolled = controlStatus === ControlStatus.UNCONTROLLED || controlStatus === ControlStatus.URGENT;
      // The tier as the team would see it at the visit (the rules' own facts are the stored county's).
      const tier = uncontrolled ? (advice.urgent || ctx.complication ? ManagementTier.INTENSIVE : ManagementTier.ROUTINE) : previous === ControlStatus.CONTROLLED && !ctx.complication ? ManagementTier.GENERAL : ManagementTier.ROUTINE;
      const planned = nextFollowUpOf({
        baseDate: doneDate,
        uncontrolledDay: uncontrolled ? doneDate : null,
        adverseReaction,
        referralDay: advice.referralAdvised ? doneDate : null,
        allControlled: controlStatus === ControlStatus.CONTROLLED,
        tier,
        faceToFaceInYear,
        lastType: type,
      });
      const step = { ...advice, days: daysBetween(doneDate, planned.date) };
      const nextDueDate = planned.date;
      findings.push(
        controlStatus === ControlStatus.CONTROLLED
          ? '控制满意，无不适主诉，继续当前方案'
          : controlStatus === ControlStatus.URGENT
            ? '指标危急，立即转诊上级医院'
            : previous && previous !== ControlStatus.CONTROLLED
              ? '连续两次控制不满意'
              : '控制不满意，已调整用药，两周后复查',
      );
      if (adverseReaction) findings.push(htnDrugs[0]?.atc === 'C08CA01' ? '诉踝部水肿，考虑氨氯地平不良反应' : '诉服药后胃肠不适');
      if (newComplication) findings.push(ctx.dm ? '新发双足麻木，疑似糖尿病周围神经病变' : '新发活动后胸闷，需排查冠心病');

      const doneMs = visitMs + rng.int(10, 40) * MIN_MS;
      const fb = this.base(plannedAtMs ?? doneMs);
      this.w.followUp.add({
        ...fb,
        updatedAt: new Date(this.clampMs(doneMs)),
        patient: ctx.id,
        type,
        plannedDate: plannedFor,
        doneDate,
        findings: findings.join('；'),
        controlStatus,
        adverseReaction,
        newComplication,
        nextDueDate,
        practitioner: practitioner.id,
        organization: practitioner.org.id,
      });
      ctx.lastActivityMs = Math.max(ctx.lastActivityMs, this.clampMs(doneMs));
      visits++;

      // Referral up when the rules advise it (urgent ones nearly always; routine ones when the team agrees).
      if (step.referralAdvised && (step.urgent ? rng.chance(0.9) : day - ctx.lastReferralDay > 270 && rng.chance(0.035))) {
        const glucoseDriven = !bpValues || (gluValue !== undefined && controlStatusOf({ kind: ObservationKind.FASTING_GLUCOSE, value: gluValue }) !== ControlStatus.CONTROLLED && !(bpValues && controlStatusOf({ kind: ObservationKind.BLOOD_PRESSURE, systolic: bpValues[0], diastolic: bpValues[1] }) !== ControlStatus.CONTROLLED));
        const toCounty = step.urgent || practitioner.org.level !== OrganizationLevel.VILLAGE || rng.chance(0.35);
        const to = toCounty ? county.hospital : township.org;
        const toPractitioner = toCounty ? rng.pick(county.specialists[glucoseDriven ? 'endocrinology' : 'cardiology']) : team.gp;
        const reason = step.urgent ? ReferralReason.ACUTE_EXACERBATION : newComplication ? ReferralReason.COMPLICATION : ReferralReason.POOR_CONTROL;
        const drugs = [...htnDrugs, ...dmDrugs].map((d) => `${d.name} ${d.dosage}`).join('、') || '未规律服药';
        const summary = `${ctx.htn ? '高血压' : ''}${ctx.htn && ctx.dm ? '合并' : ''}${ctx.dm ? '2型糖尿病' : ''}患者，${findings.slice(0, statuses.length).join('，')}。目前用药：${drugs}。${
          step.urgent ? '指标达危急值，紧急转诊。' : newComplication ? '出现新发并发症，申请专科评估。' : '连续两次随访控制不满意，申请上级医院调整治疗方案。'
        }`;
        const result = this.referral(ctx, {
          direction: ReferralDirection.UP,
          from: practitioner,
          to,
          toPractitioner,
          reason,
          urgent: step.urgent,
          requestedMs: doneMs + rng.int(5, 60) * MIN_MS,
          summary,
          outcome: glucoseDriven ? '完善检查后调整降糖方案，血糖较前下降，转回基层继续随访' : '完善检查后调整降压方案（联合用药），血压降至目标范围，转回基层继续随访',
        });
        ctx.lastReferralDay = day;
        if (toCounty) ctx.countyContact = true;
        if (result.completedMs !== undefined) {
          // A new regimen from the specialist usually works.
          if (glucoseDriven) ctx.pGlu = Math.max(ctx.pGlu, rng.chance(0.65) ? rng.uniform(0.7, 0.92) : ctx.pGlu);
          else ctx.pBp = Math.max(ctx.pBp, rng.chance(0.65) ? rng.uniform(0.7, 0.92) : ctx.pBp);
          if (toCounty && rng.chance(0.5)) {
            this.referral(ctx, {
              direction: ReferralDirection.DOWN,
              from: toPractitioner,
              to: ctx.homeOrg,
              toPractitioner: ctx.doctor,
              reason: rng.chance(0.7) ? ReferralReason.STABLE : ReferralReason.RECOVERY,
              urgent: false,
              requestedMs: result.completedMs + rng.int(10, 240) * MIN_MS,
              summary: `经专科调整治疗后病情稳定，${glucoseDriven ? '空腹血糖 6.5 mmol/L 左右' : '血压 130/80 mmHg 左右'}，转回基层由家庭医生团队继续管理，2周内随访。`,
              outcome: '已接收，纳入家庭医生团队随访管理',
            });
          }
        }
      }

      previous = controlStatus;
      plannedFor = nextDueDate;
      plannedAtMs = doneMs + MIN_MS;
      // When the next visit actually happens: on time, late, or (for uncontrolled patients) often only at
      // the next routine quarterly contact, as happens in practice.
      let next = dayOf(nextDueDate);
      if (step.days < 60 && rng.chance(0.35)) next = day + rng.int(60, 100);
      next += lax ? rng.int(0, 45) + (rng.chance(0.15) ? rng.int(30, 90) : 0) : rng.int(-7, 7);
      day = Math.max(day + 7, next);
    }

    // The next planned follow-up (overdue when its date has passed).
    if (plannedFor !== undefined && visits > 0) {
      const b = this.base(plannedAtMs!);
      this.w.followUp.add({ ...b, patient: ctx.id, type: FollowUpType.CLINIC, plannedDate: plannedFor, practitioner: ctx.doctor.id, organization: ctx.doctor.org.id, adverseReaction: false, newComplication: false });
    }

    // Readings between visits: home monitors about monthly, connected devices every one to three weeks.
    const homeEnd = Math.min(this.nowDay - 1, dropoutDay + 120);
    if (ctx.htn && ctx.hasMonitor) {
      for (let d = simStart + rng.int(5, 30); d < homeEnd; d += rng.int(20, 45)) {
        this.bp(ctx, localMs(d, rng.chance(0.6) ? rng.int(6, 8) : rng.int(19, 21), rng.int(0, 59)), this.bpValues(rng, rng.chance(Math.min(0.97, ctx.pBp + 0.05))), ObservationSource.HOME);
      }
    }
    if (ctx.deviceId) {
      for (let d = simStart + rng.int(1, 14); d < homeEnd; d += rng.int(7, 21)) {
        this.bp(ctx, localMs(d, rng.int(6, 8), rng.int(0, 59)) + rng.int(0, 59) * 1000, this.bpValues(rng, rng.chance(ctx.pBp)), ObservationSource.DEVICE);
      }
    }
    if (ctx.dm && ctx.hasMonitor && rng.chance(0.5)) {
      for (let d = simStart + rng.int(5, 30); d < homeEnd; d += rng.int(25, 60)) {
        this.glucose(ctx, localMs(d, rng.int(6, 7), rng.int(0, 59)), this.glucoseValue(rng, rng.chance(ctx.pGlu), insulinOrSu), ObservationSource.HOME);
      }
    }
  }

  private carePlan(
    ctx: PatientCtx,
    startDay: number,
    status: CarePlanStatus,
    htnDrugs: Drug[],
    dmDrugs: Drug[],
    smoker: boolean,
    drinker: boolean,
    org: OrgRec,
    author: PracRec,
  ): void {
    const { rng } = ctx;
    const addresses: ConditionKind[] = [];
    if (ctx.htn) addresses.push(ConditionKind.HYPERTENSION);
    if (ctx.dm) addresses.push(ConditionKind.TYPE_2_DIABETES);
    const title = `${addresses.map((k) => CONDITION_DISPLAY[k].zh).join('合并')}健康管理计划`;
    // The team's plan covers the patient's other programme conditions too (stroke rehabilitation, CHD secondary prevention).
    for (const c of ctx.conditions) if (!addresses.includes(c.kind)) addresses.push(c.kind);
    const periodStart = iso(startDay);
    const periodEnd = iso(startDay + 364);
    const at = Math.max(localMs(startDay, rng.int(8, 16), rng.int(0, 59)), ctx.createdMs + HOUR_MS);
    const b = this.base(at);
    const done = status === CarePlanStatus.COMPLETED;
    this.w.carePlan.add({
      ...b,
      patient: ctx.id,
      title,
      status,
      addresses,
      periodStart,
      periodEnd,
      author: author.id,
      organization: org.id,
      note: done ? '年度评估已完成，进入新一年度管理计划' : rng.chance(0.5) ? '年度健康评估后制定，按分级管理要求随访' : undefined,
    });
    let k = 0;
    const child = () => this.base(at + ++k * 1000);
    if (ctx.htn) {
      this.w.goal.add({ ...child(), carePlan: b.id, description: '血压控制在 140/90 mmHg 以下', measure: ObservationKind.BLOOD_PRESSURE, targetBelow: 140, diastolicBelow: 90, dueDate: periodEnd });
    }
    if (ctx.dm) {
      this.w.goal.add({ ...child(), carePlan: b.id, description: '空腹血糖控制在 7.0 mmol/L 以下', measure: ObservationKind.FASTING_GLUCOSE, targetBelow: 7.0, dueDate: periodEnd });
      this.w.goal.add({ ...child(), carePlan: b.id, description: '糖化血红蛋白控制在 7.0% 以下', measure: ObservationKind.HBA1C, targetBelow: 7.0, dueDate: periodEnd });
    }
    const activityStatus = done ? ActivityStatus.COMPLETED : ActivityStatus.IN_PROGRESS;
    const activity = (category: ActivityCategory, description: string, frequency?: string) =>
      this.w.activity.add({ ...child(), carePlan: b.id, category, status: activityStatus, description, frequency });
    // About one plan in eight carries medication only (no non-medical prescription yet).
    if (!rng.chance(0.12)) {
      if (rng.chance(0.9)) {
        activity(
          ActivityCategory.DIET,
          ctx.dm ? '糖尿病饮食：定时定量，主食粗细搭配，控制总热量，少吃甜食和油炸食品' : '低脂饮食，多吃新鲜蔬菜水果，控制主食和肥肉摄入',
          '每日',
        );
      }
      if (ctx.htn && rng.chance(0.85)) activity(ActivityCategory.SALT_REDUCTION, '每日食盐少于 5 克，使用限盐勺，少吃咸菜、咸鱼等腌制食品', '每日');
      if (rng.chance(0.75)) activity(ActivityCategory.EXERCISE, '中等强度有氧运动，如快走、太极拳、广场舞，循序渐进', '每周至少5天，每次30分钟');
      if (smoker && rng.chance(0.9)) activity(ActivityCategory.SMOKING_CESSATION, '戒烟并避免二手烟，必要时转介县医院戒烟门诊');
      if (drinker && rng.chance(0.85)) activity(ActivityCategory.ALCOHOL_LIMITATION, '限制饮酒，男性每日酒精量不超过 25 克（约黄酒 250 毫升），最好戒酒');
      if (rng.chance(0.25)) activity(ActivityCategory.SELF_MANAGEMENT_GROUP, `参加${ctx.grid.name}慢病自我管理小组，学习自测血压、血糖和用药管理`, '每月1次');
    }
    for (const drug of [...htnDrugs, ...dmDrugs]) {
      this.w.activity.add({
        ...child(),
        carePlan: b.id,
        category: ActivityCategory.MEDICATION,
        status: activityStatus,
        description: drug.description,
        frequency: drug.frequency,
        medicationCode: drug.atc,
        medicationName: drug.name,
        dosage: drug.dosage,
      });
    }
  }

  private referral(
    ctx: PatientCtx,
    r: {
      direction: ReferralDirection;
      from: PracRec;
      to: OrgRec;
      toPractitioner: PracRec;
      reason: ReferralReason;
      urgent: boolean;
      requestedMs: number;
      summary: string;
      outcome?: string;
      /** Completed at this time (used for referrals that confirmed a diagnosis). */
      forceCompletedMs?: number;
    },
  ): { completedMs?: number } {
    const { rng } = ctx;
    const requestedMs = this.clampMs(r.requestedMs);
    const ageDays = (this.nowMs - requestedMs) / DAY_MS;
    let status: ReferralStatus;
    if (r.forceCompletedMs !== undefined && r.forceCompletedMs < this.nowMs - HOUR_MS) status = ReferralStatus.COMPLETED;
    else {
      const x = rng.next();
      if (ageDays < 2) status = x < 0.55 ? ReferralStatus.REQUESTED : x < 0.85 ? ReferralStatus.ACCEPTED : x < 0.9 ? ReferralStatus.REJECTED : ReferralStatus.CANCELLED;
      else if (ageDays < 21) status = x < 0.1 ? ReferralStatus.REQUESTED : x < 0.5 ? ReferralStatus.ACCEPTED : x < 0.9 ? ReferralStatus.COMPLETED : x < 0.95 ? ReferralStatus.REJECTED : ReferralStatus.CANCELLED;
      else status = x < 0.8 ? ReferralStatus.COMPLETED : x < 0.88 ? ReferralStatus.REJECTED : x < 0.95 ? ReferralStatus.CANCELLED : x < 0.98 ? ReferralStatus.ACCEPTED : ReferralStatus.REQUESTED;
    }
    let acceptedMs: number | undefined;
    let completedMs: number | undefined;
    let rejectedMs: number | undefined;
    let cancelledMs: number | undefined;
    if (status === ReferralStatus.ACCEPTED || status === ReferralStatus.COMPLETED) {
      acceptedMs = requestedMs + (r.urgent ? rng.int(10, 90) * MIN_MS : rng.int(1, 48) * HOUR_MS);
      if (r.forceCompletedMs !== undefined) acceptedMs = Math.min(acceptedMs, r.forceCompletedMs - HOUR_MS);
      if (acceptedMs >= this.nowMs) status = ReferralStatus.REQUESTED;
      else if (status === ReferralStatus.COMPLETED) {
        completedMs = r.forceCompletedMs ?? acceptedMs + (r.urgent ? rng.int(3, 10) * DAY_MS : rng.int(6, 21 * 24) * HOUR_MS);
        if (completedMs >= this.nowMs) {
          status = ReferralStatus.ACCEPTED;
          completedMs = undefined;
        }
      }
    } else if (status === ReferralStatus.REJECTED) {
      rejectedMs = requestedMs + rng.int(2, 72) * HOUR_MS;
      if (rejectedMs >= this.nowMs) [status, rejectedMs] = [ReferralStatus.REQUESTED, undefined];
    } else if (status === ReferralStatus.CANCELLED) {
      cancelledMs = requestedMs + rng.int(1, 96) * HOUR_MS;
      if (cancelledMs >= this.nowMs) [status, cancelledMs] = [ReferralStatus.REQUESTED, undefined];
    }
    if (status === ReferralStatus.REQUESTED) acceptedMs = completedMs = rejectedMs = cancelledMs = undefined;
    if (status === ReferralStatus.ACCEPTED) completedMs = undefined;
    const lastMs = Math.max(requestedMs, acceptedMs ?? 0, completedMs ?? 0, rejectedMs ?? 0, cancelledMs ?? 0);
    const b = this.base(requestedMs);
    this.w.referral.add({
      ...b,
      updatedAt: new Date(this.clampMs(lastMs)),
      patient: ctx.id,
      direction: r.direction,
      fromOrganization: r.from.org.id,
      toOrganization: r.to.id,
      fromPractitioner: r.from.id,
      toPractitioner: acceptedMs !== undefined ? r.toPractitioner.id : undefined,
      reason: r.reason,
      reasonText: REASON_TEXT[r.reason],
      urgency: r.urgent ? ReferralUrgency.URGENT : ReferralUrgency.ROUTINE,
      status,
      clinicalSummary: r.summary,
      statusReason: status === ReferralStatus.REJECTED ? rng.pick(REJECT_REASONS) : status === ReferralStatus.CANCELLED ? rng.pick(CANCEL_REASONS) : undefined,
      outcomeSummary: status === ReferralStatus.COMPLETED ? (r.outcome ?? '已完成诊疗') : undefined,
      requestedAt: new Date(requestedMs),
      acceptedAt: acceptedMs !== undefined ? new Date(acceptedMs) : undefined,
      rejectedAt: rejectedMs !== undefined ? new Date(rejectedMs) : undefined,
      completedAt: completedMs !== undefined ? new Date(completedMs) : undefined,
      cancelledAt: cancelledMs !== undefined ? new Date(cancelledMs) : undefined,
    });
    ctx.lastActivityMs = Math.max(ctx.lastActivityMs, this.clampMs(lastMs));
    return { completedMs };
  }

  /** Stroke and CHD patients discharged from the county hospital back to primary care. */
  private generateIndependentDownReferrals(ctx: PatientCtx, county: County): void {
    const { rng } = ctx;
    for (const c of ctx.conditions) {
      const p = c.kind === ConditionKind.STROKE ? 0.2 : c.kind === ConditionKind.CHD ? 0.1 : 0;
      if (p === 0 || !rng.chance(p)) continue;
      const day = rng.int(ctx.startDay, this.nowDay - 1);
      const stroke = c.kind === ConditionKind.STROKE;
      ctx.countyContact = true;
      const toVillage = ctx.homeOrg.level === OrganizationLevel.VILLAGE && rng.chance(0.5);
      this.referral(ctx, {
        direction: ReferralDirection.DOWN,
        from: rng.pick(county.specialists[stroke ? 'neurology' : 'cardiology']),
        to: toVillage ? ctx.homeOrg : ctx.grid.township.org,
        toPractitioner: toVillage ? ctx.doctor : ctx.grid.team.gp,
        reason: stroke ? ReferralReason.RECOVERY : ReferralReason.STABLE,
        urgent: false,
        requestedMs: localMs(day, rng.int(9, 17), rng.int(0, 59)),
        summary: stroke ? '脑梗死恢复期出院，遗留轻度肢体活动障碍，转基层继续康复训练及二级预防' : '冠心病PCI术后病情稳定出院，转基层继续抗血小板、调脂治疗及随访',
        outcome: '已接收，纳入家庭医生团队随访管理',
      });
    }
  }
}

const DEVICE_SOURCE_SYSTEM = 'urn:ncd-gateway:device-hub';

const REASON_TEXT: Record<ReferralReason, string> = {
  UNCLEAR_DIAGNOSIS: '诊断不明确，需上级医院明确诊断',
  POOR_CONTROL: '规范治疗后控制不满意',
  ACUTE_EXACERBATION: '病情急性加重',
  COMPLICATION: '出现新的并发症或靶器官损害',
  STABLE: '病情稳定，转回基层管理',
  RECOVERY: '进入恢复期，转回基层康复管理',
  OTHER: '其他',
};

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

function worstOf(statuses: ControlStatus[]): ControlStatus | undefined {
  if (statuses.includes(ControlStatus.URGENT)) return ControlStatus.URGENT;
  if (statuses.includes(ControlStatus.UNCONTROLLED)) return ControlStatus.UNCONTROLLED;
  return statuses.length > 0 ? ControlStatus.CONTROLLED : undefined;
}

function pickDrugs(rng: Random, table: WeightedTable<Drug>, n: number): Drug[] {
  const out: Drug[] = [];
  for (let tries = 0; out.length < n && tries < 20; tries++) {
    const d = rng.pickWeighted(table);
    if (!out.includes(d)) out.push(d);
  }
  return out;
}

/**
 * Generates a county with `options.patients` residents into `em`'s database, in one transaction.
 * Refuses nothing: callers decide whether the database must be empty first (see `hasPatients`).
 */
export async function seedCounty(anyEm: SeedEntityManager, options: SeedOptions): Promise<SeedSummary> {
  const em = sql(anyEm);
  const started = performance.now();
  const total = Math.max(0, Math.floor(options.patients));
  const seed = (options.seed ?? DEFAULT_SEED) >>> 0;
  const now = options.now ?? seedNowFor();
  const perBatch = Math.max(1, options.patientsPerBatch ?? 500);
  const systems = options.identifierSystems ?? DEFAULT_IDENTIFIER_SYSTEMS;

  let generator!: Generator;
  let county!: County;
  let plannedByRules = 0;
  let programme!: ProgrammeSeeder;
  await em.transactional(async (tem) => {
    generator = new Generator(
      tem,
      seed,
      now,
      systems,
      options.protector ?? PLAIN_IDENTIFIERS,
      Math.max(1, options.rowsPerInsert ?? 1000),
      Math.max(1, Math.floor(options.historyYears ?? 2)),
      Math.max(1, Math.floor(options.coverageYears ?? 1)),
    );
    county = generator.buildCounty(total);
    await generator.flushAll();
    for (let done = 0; done < total; ) {
      const end = Math.min(total, done + perBatch);
      for (let i = done; i < end; i++) {
        generator.generatePatient(county, i);
        // Let the event loop send queued statements and take their results, so a real server works
        // on one batch while the next is generated.
        if (i % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
      }
      await generator.flushAll();
      done = end;
      options.onProgress?.(done, total);
    }
    await generator.drain();
    // The care rules' state of the county (ADR 16): control status, tiers, the planned visits — as the live system
    // keeps it, before the events are appended, so that each record's creation event says what it is now.
    const today = countyToday(now);
    // No JIT for what follows: planned at county scale, PostgreSQL would compile each of the rules' statements (about a
    // second each, the pathway's once a round) for less work than that. A no-op on PGlite, which has no JIT.
    await tem.execute('set local jit = off', [], 'run');
    // The programme's own facts, around the rules (src/seed/programme/): assessments, groups and who left before; calls to the overdue after.
    programme = new ProgrammeSeeder(tem as EntityManager, { seed, now, rowsPerInsert: Math.max(1, options.rowsPerInsert ?? 1000) });
    await programme.beforeRules();
    // Statistics first: planned over empty tables, the rules' joins would scan the county's readings once per visit.
    await tem.execute('analyze', [], 'run');
    await reassess(tem as EntityManager, { all: true }, DEFAULT_CARE_RULES, today);
    await programme.afterRules();
    await markSwept(tem as EntityManager, today);
    // The visits the rules planned for managed patients the generator left without one: rows created now (the
    // transaction's time; the generator's rows carry their simulated, earlier times).
    const [planned] = (await tem.execute(`select count(*)::int as n from follow_up where created_at >= now()`)) as Array<{ n: number }>;
    plannedByRules = Number(planned!.n);
    // Written in bulk, past the ORM: the events the services would have left are appended from the same rows.
    await appendMissingEvents(tem as EntityManager);
  });
  // Fresh statistics for the planner after a bulk load.
  await em.execute('analyze', [], 'run');

  const counts = generator.counts();
  counts.follow_up = (counts.follow_up ?? 0) + plannedByRules;
  Object.assign(counts, programme.counts());
  return {
    seed,
    patients: total,
    townships: county.townships.length,
    villages: county.townships.reduce((n, t) => n + t.villages.length, 0),
    counts,
    rows: Object.values(counts).reduce((a, b) => a + b, 0),
    elapsedMs: Math.round(performance.now() - started),
  };
}
