/**
 * Code normalisation, in one place: which codes mean which condition or measurement, their displays in
 * Chinese and English, and the canonical unit of every measurement with conversions from what arrives.
 * Pure data and functions — the domain, GraphQL and FHIR layers all ask this module.
 */

import { ConditionKind, ControlStatus, ObservationKind, type ControlInterpretation } from '../vocabulary/index.js';

// The enums are defined in vocabulary/ (no dependencies); re-exported here, where their codes are.
export { ConditionKind, ObservationKind };

export const SYSTEMS = {
  snomed: 'http://snomed.info/sct',
  icd10: 'http://hl7.org/fhir/sid/icd-10',
  icd10cn: 'urn:oid:2.16.156.10011.2.3.3.11',
  loinc: 'http://loinc.org',
  ucum: 'http://unitsofmeasure.org',
} as const;

export const CONDITION_DISPLAY: Record<ConditionKind, { zh: string; en: string }> = {
  HYPERTENSION: { zh: '高血压', en: 'Hypertension' },
  TYPE_2_DIABETES: { zh: '2型糖尿病', en: 'Type 2 diabetes mellitus' },
  COPD: { zh: '慢性阻塞性肺疾病', en: 'Chronic obstructive pulmonary disease' },
  CKD: { zh: '慢性肾脏病', en: 'Chronic kidney disease' },
  STROKE: { zh: '脑卒中', en: 'Stroke' },
  CHD: { zh: '冠心病', en: 'Coronary heart disease' },
  CANCER: { zh: '恶性肿瘤', en: 'Malignant neoplasm' },
  OTHER: { zh: '其他', en: 'Other' },
};

const SNOMED_CONDITIONS: Record<string, ConditionKind> = {
  '38341003': ConditionKind.HYPERTENSION,
  '59621000': ConditionKind.HYPERTENSION,
  '1201005': ConditionKind.HYPERTENSION,
  '44054006': ConditionKind.TYPE_2_DIABETES,
  '13645005': ConditionKind.COPD,
  '185086009': ConditionKind.COPD,
  '709044004': ConditionKind.CKD,
  '431855005': ConditionKind.CKD,
  '431856006': ConditionKind.CKD,
  '433144002': ConditionKind.CKD,
  '431857002': ConditionKind.CKD,
  '46177005': ConditionKind.CKD,
  '230690007': ConditionKind.STROKE,
  '53741008': ConditionKind.CHD,
  '414545008': ConditionKind.CHD,
  '363346000': ConditionKind.CANCER,
};

/** ICD-10 ranges by three-character category, inclusive. */
const ICD10_RANGES: Array<[string, string, ConditionKind]> = [
  ['I10', 'I15', ConditionKind.HYPERTENSION],
  ['E11', 'E11', ConditionKind.TYPE_2_DIABETES],
  ['J44', 'J44', ConditionKind.COPD],
  ['N18', 'N18', ConditionKind.CKD],
  ['I60', 'I64', ConditionKind.STROKE],
  ['I69', 'I69', ConditionKind.STROKE],
  ['I20', 'I25', ConditionKind.CHD],
  ['C00', 'C97', ConditionKind.CANCER],
];

export function isIcd10System(system: string): boolean {
  const s = system.toLowerCase();
  return s.includes('icd-10') || s.includes('icd10') || s === SYSTEMS.icd10cn;
}

export function isKnownConditionSystem(system: string): boolean {
  return system === SYSTEMS.snomed || isIcd10System(system);
}

export function classifyCondition(system: string, code: string): ConditionKind {
  if (system === SYSTEMS.snomed) return SNOMED_CONDITIONS[code] ?? ConditionKind.OTHER;
  if (isIcd10System(system)) {
    const category = code.trim().toUpperCase().slice(0, 3);
    for (const [from, to, kind] of ICD10_RANGES) if (category >= from && category <= to) return kind;
  }
  return ConditionKind.OTHER;
}

/** Whether an ICD-10 / SNOMED code is well-formed enough to store. */
export function isWellFormedConditionCode(system: string, code: string): boolean {
  if (system === SYSTEMS.snomed) return /^\d{6,18}$/.test(code);
  if (isIcd10System(system)) return /^[A-Z]\d{2}(\.[0-9A-Z]{1,4})?$/i.test(code.trim());
  return code.trim().length > 0;
}

export const LOINC = {
  bpPanel: '85354-9',
  bpPanelAlt: '55284-4',
  systolic: '8480-6',
  diastolic: '8462-4',
  fastingGlucose: '1558-6',
  glucose: '2339-0',
  hba1c: '4548-4',
  weight: '29463-7',
  height: '8302-2',
  bmi: '39156-5',
  heartRate: '8867-4',
  waist: '8280-0',
} as const;

const LOINC_KINDS: Record<string, ObservationKind> = {
  '85354-9': ObservationKind.BLOOD_PRESSURE,
  '55284-4': ObservationKind.BLOOD_PRESSURE,
  '35094-2': ObservationKind.BLOOD_PRESSURE,
  '1558-6': ObservationKind.FASTING_GLUCOSE,
  '14771-0': ObservationKind.FASTING_GLUCOSE,
  '76629-5': ObservationKind.FASTING_GLUCOSE,
  '2339-0': ObservationKind.GLUCOSE,
  '2345-7': ObservationKind.GLUCOSE,
  '15074-8': ObservationKind.GLUCOSE,
  '14749-6': ObservationKind.GLUCOSE,
  '41653-7': ObservationKind.GLUCOSE,
  '4548-4': ObservationKind.HBA1C,
  '17856-6': ObservationKind.HBA1C,
  '59261-8': ObservationKind.HBA1C,
  '29463-7': ObservationKind.WEIGHT,
  '3141-9': ObservationKind.WEIGHT,
  '8302-2': ObservationKind.HEIGHT,
  '39156-5': ObservationKind.BMI,
  '8867-4': ObservationKind.HEART_RATE,
  '8280-0': ObservationKind.WAIST_CIRCUMFERENCE,
};

export function classifyObservation(system: string, code: string): ObservationKind {
  if (system !== SYSTEMS.loinc) return ObservationKind.OTHER;
  return LOINC_KINDS[code] ?? ObservationKind.OTHER;
}

/** The LOINC code we use when a front end records a measurement by kind only. */
export const DEFAULT_LOINC_FOR_KIND: Partial<Record<ObservationKind, string>> = {
  BLOOD_PRESSURE: LOINC.bpPanel,
  FASTING_GLUCOSE: LOINC.fastingGlucose,
  GLUCOSE: LOINC.glucose,
  HBA1C: LOINC.hba1c,
  WEIGHT: LOINC.weight,
  HEIGHT: LOINC.height,
  BMI: LOINC.bmi,
  HEART_RATE: LOINC.heartRate,
  WAIST_CIRCUMFERENCE: LOINC.waist,
};

export const OBSERVATION_DISPLAY: Record<ObservationKind, { zh: string; en: string }> = {
  BLOOD_PRESSURE: { zh: '血压', en: 'Blood pressure panel' },
  FASTING_GLUCOSE: { zh: '空腹血糖', en: 'Fasting glucose' },
  GLUCOSE: { zh: '血糖', en: 'Glucose' },
  HBA1C: { zh: '糖化血红蛋白', en: 'Hemoglobin A1c' },
  WEIGHT: { zh: '体重', en: 'Body weight' },
  HEIGHT: { zh: '身高', en: 'Body height' },
  BMI: { zh: '体质指数', en: 'Body mass index' },
  HEART_RATE: { zh: '心率', en: 'Heart rate' },
  WAIST_CIRCUMFERENCE: { zh: '腰围', en: 'Waist circumference' },
  OTHER: { zh: '其他', en: 'Other' },
};

/** Canonical UCUM unit per kind; measurements are stored in it, with the unit as received kept beside. */
export const CANONICAL_UNIT: Record<ObservationKind, string | undefined> = {
  BLOOD_PRESSURE: 'mm[Hg]',
  FASTING_GLUCOSE: 'mmol/L',
  GLUCOSE: 'mmol/L',
  HBA1C: '%',
  WEIGHT: 'kg',
  HEIGHT: 'cm',
  BMI: 'kg/m2',
  HEART_RATE: '/min',
  WAIST_CIRCUMFERENCE: 'cm',
  OTHER: undefined,
};

/** Glucose molar mass factor: mg/dL ÷ 18.016 = mmol/L. */
const GLUCOSE_MG_DL_PER_MMOL_L = 18.016;

type Converter = (value: number) => number;

/** Unit spellings as they arrive (UCUM and common free text), by canonical unit. */
const CONVERSIONS: Record<string, Record<string, Converter>> = {
  'mm[Hg]': { 'mm[hg]': (v) => v, mmhg: (v) => v, kpa: (v) => v * 7.50062 },
  'mmol/L': {
    'mmol/l': (v) => v,
    'mg/dl': (v) => v / GLUCOSE_MG_DL_PER_MMOL_L,
  },
  '%': { '%': (v) => v, 'mmol/mol': (v) => v / 10.929 + 2.15 },
  kg: { kg: (v) => v, g: (v) => v / 1000, '[lb_av]': (v) => v * 0.45359237, lb: (v) => v * 0.45359237 },
  cm: { cm: (v) => v, m: (v) => v * 100, mm: (v) => v / 10, '[in_i]': (v) => v * 2.54 },
  'kg/m2': { 'kg/m2': (v) => v, 'kg/m^2': (v) => v },
  '/min': { '/min': (v) => v, '{beats}/min': (v) => v, bpm: (v) => v },
};

/**
 * Converts a value of a kind to its canonical unit. Returns undefined when the unit is not one we know
 * for that kind (the caller decides whether that is an error). Kinds without a canonical unit pass through.
 */
export function toCanonical(kind: ObservationKind, value: number, unit: string | undefined): { value: number; unit: string | undefined } | undefined {
  const canonical = CANONICAL_UNIT[kind];
  if (!canonical) return { value, unit };
  const from = (unit ?? canonical).trim().toLowerCase();
  const convert = CONVERSIONS[canonical]?.[from];
  if (!convert) return undefined;
  return { value: round(convert(value), 2), unit: canonical };
}

export function acceptedUnits(kind: ObservationKind): string[] {
  const canonical = CANONICAL_UNIT[kind];
  return canonical ? Object.keys(CONVERSIONS[canonical] ?? {}) : [];
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

// ---------------------------------------------------------------------------------------------------------
// FHIR exchange: code systems, extension URLs and displays used by the mapping layer (fhir-mappings/*.ts).
// Kept here so that a code means one thing everywhere; the enums themselves are in vocabulary/.
// ---------------------------------------------------------------------------------------------------------

/** A display in both languages the county's systems show. */
export interface Display {
  zh: string;
  en: string;
}

/** `text` of an emitted CodeableConcept: Chinese first, then English, so either reader finds theirs. */
export const bilingual = (d: Display): string => `${d.zh} ${d.en}`;

/**
 * Base of this gateway's own code systems and extensions. `.example` is reserved (RFC 2606), so these URLs
 * can never collide with a real terminology; a deployment that registers a canonical base changes it here.
 */
export const NCD_FHIR_BASE = 'https://ncd-gateway.example/fhir';

const cs = (name: string): string => `${NCD_FHIR_BASE}/CodeSystem/${name}`;
const ext = (name: string): string => `${NCD_FHIR_BASE}/StructureDefinition/${name}`;

/** Our code systems: their codes are the domain enum values, so reading one back needs no table. */
export const NCD_SYSTEMS = {
  organizationCode: `${NCD_FHIR_BASE}/sid/organization-code`,
  practitionerCode: `${NCD_FHIR_BASE}/sid/practitioner-code`,
  gridCode: `${NCD_FHIR_BASE}/sid/grid-code`,
  organizationType: cs('organization-type'),
  organizationLevel: cs('organization-level'),
  practitionerRole: cs('practitioner-role'),
  gridKind: cs('grid-kind'),
  conditionKind: cs('condition-kind'),
  activityCategory: cs('activity-category'),
  referralDirection: cs('referral-direction'),
  referralReason: cs('referral-reason'),
  referralStatus: cs('referral-status'),
  taskOutput: cs('referral-task-output'),
  followUpType: cs('follow-up-type'),
  controlStatus: cs('control-status'),
  managementTier: cs('management-tier'),
  managementColour: cs('management-colour'),
  observationSource: cs('observation-source'),
  consentPurpose: cs('consent-purpose'),
} as const;

export const NCD_EXTENSIONS = {
  /** Patient: tier, colour and the recorded human override (sub-extensions tier, colour, overrideReason, overriddenBy). */
  management: ext('patient-management'),
  /** Patient: the family-doctor contract (签约) — sub-extensions team (a CareTeam), signedOn, expiresOn. */
  familyDoctorContract: ext('family-doctor-contract'),
  /** Consent: the practitioner who recorded the patient's decision (R4 Consent has no recorder). */
  consentRecordedBy: ext('consent-recorded-by'),
  /** Consent: free-text note on the decision (R4 Consent has no note). */
  consentNote: ext('consent-note'),
  /** Patient / CareTeam: the management grid (网格), a Location. */
  grid: ext('management-grid'),
  /** Condition: the organisation that confirmed the diagnosis and when (sub-extensions organization, date). */
  confirmation: ext('condition-confirmation'),
  /** Observation: clinic, home or device reading, when the other elements do not already say so. */
  observationSource: ext('observation-source'),
  /** Encounter: the follow-up record (sub-extensions plannedDate, findings, controlStatus, adverseReaction, newComplication, nextDueDate). */
  followUp: ext('follow-up'),
  /** CarePlan.activity given by reference: its status in the plan (R4 has a status only on a detail). */
  activityStatus: ext('activity-status'),
  /** CarePlan.activity.detail: a dosage in words ("5 mg once daily"); R4 detail has only quantities. */
  dosage: ext('activity-dosage'),
  /** ServiceRequest: the sending organisation when the requester is a practitioner. */
  sendingOrganization: ext('referral-sending-organization'),
  /** MeasureReport: what an indicator was counted over, as asked (an Organization's subtree, a CareTeam): R4's subject can be neither. */
  measureScope: ext('measure-report-scope'),
} as const;

/** HL7 terminology the mappings emit or read. */
export const HL7 = {
  conditionClinical: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
  conditionVerification: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
  observationCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
  dataAbsentReason: 'http://terminology.hl7.org/CodeSystem/data-absent-reason',
  observationInterpretation: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
  actCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  organizationType: 'http://terminology.hl7.org/CodeSystem/organization-type',
  locationPhysicalType: 'http://terminology.hl7.org/CodeSystem/location-physical-type',
  taskCode: 'http://hl7.org/fhir/CodeSystem/task-code',
  consentScope: 'http://terminology.hl7.org/CodeSystem/consentscope',
  actReason: 'http://terminology.hl7.org/CodeSystem/v3-ActReason',
  nucc: 'http://nucc.org/provider-taxonomy',
} as const;

export const BP_COMPONENT_DISPLAY: Record<'systolic' | 'diastolic', Display> = {
  systolic: { zh: '收缩压', en: 'Systolic blood pressure' },
  diastolic: { zh: '舒张压', en: 'Diastolic blood pressure' },
};

/** Observation category by kind: vital signs are measured at the bedside, the rest come from a laboratory. */
export function observationCategoryOf(kind: ObservationKind): { code: string; display: string } | undefined {
  switch (kind) {
    case ObservationKind.FASTING_GLUCOSE:
    case ObservationKind.GLUCOSE:
    case ObservationKind.HBA1C:
      return { code: 'laboratory', display: 'Laboratory' };
    case ObservationKind.OTHER:
      return undefined;
    default:
      return { code: 'vital-signs', display: 'Vital Signs' };
  }
}

/** Enum displays, keyed by the enum value (the entity enums' values are their names). */
export const ORGANIZATION_TYPE_DISPLAY: Record<string, Display> = {
  MEDICAL_COMMUNITY_LEAD: { zh: '县域医共体牵头单位', en: 'County medical community lead' },
  COUNTY_HOSPITAL: { zh: '县级医院', en: 'County hospital' },
  TOWNSHIP_HEALTH_CENTRE: { zh: '乡镇卫生院', en: 'Township health centre' },
  COMMUNITY_HEALTH_CENTRE: { zh: '社区卫生服务中心', en: 'Community health centre' },
  VILLAGE_CLINIC: { zh: '村卫生室', en: 'Village clinic' },
  INSURER: { zh: '医保经办机构', en: 'Medical insurance agency' },
  OTHER: { zh: '其他机构', en: 'Other organisation' },
};

export const ORGANIZATION_LEVEL_DISPLAY: Record<string, Display> = {
  COUNTY: { zh: '县级', en: 'County level' },
  TOWNSHIP: { zh: '乡镇级', en: 'Township level' },
  VILLAGE: { zh: '村级', en: 'Village level' },
  EXTERNAL: { zh: '医共体外', en: 'Outside the medical community' },
};

export const PRACTITIONER_ROLE_DISPLAY: Record<string, Display> = {
  GENERAL_PRACTITIONER: { zh: '全科医生', en: 'General practitioner' },
  NURSE: { zh: '护士', en: 'Nurse' },
  PUBLIC_HEALTH_OFFICER: { zh: '公卫人员', en: 'Public health officer' },
  VILLAGE_DOCTOR: { zh: '乡村医生', en: 'Village doctor' },
  SPECIALIST: { zh: '专科医生', en: 'Specialist' },
  ADMINISTRATOR: { zh: '管理人员', en: 'Administrator' },
};

/** Role codes other systems send, by system: SNOMED CT occupations and the NUCC taxonomy US data uses. */
const ROLE_CODES: Record<string, Record<string, string>> = {
  [SYSTEMS.snomed]: {
    '62247001': 'GENERAL_PRACTITIONER',
    '158965000': 'GENERAL_PRACTITIONER',
    '106292003': 'NURSE',
    '224535009': 'NURSE',
    '224540004': 'NURSE',
    '309390008': 'PUBLIC_HEALTH_OFFICER',
    '394592004': 'SPECIALIST',
    '309343006': 'SPECIALIST',
  },
  [HL7.nucc]: {
    '208D00000X': 'GENERAL_PRACTITIONER',
    '207Q00000X': 'GENERAL_PRACTITIONER',
    '207R00000X': 'SPECIALIST',
    '163W00000X': 'NURSE',
    '363L00000X': 'NURSE',
  },
};

/** A practitioner role enum value for a code another system sent, or undefined when it does not say. */
export function classifyPractitionerRole(system: string, code: string): string | undefined {
  if (system === NCD_SYSTEMS.practitionerRole) return code in PRACTITIONER_ROLE_DISPLAY ? code : undefined;
  return ROLE_CODES[system]?.[code];
}

/** The standard code emitted beside ours, so that receivers who do not know our system still see a role. */
export const ROLE_SNOMED: Record<string, { code: string; display: string } | undefined> = {
  GENERAL_PRACTITIONER: { code: '62247001', display: 'General practitioner' },
  NURSE: { code: '106292003', display: 'Professional nurse' },
  SPECIALIST: { code: '309343006', display: 'Physician' },
};

export const GRID_KIND_DISPLAY: Record<string, Display> = {
  URBAN_BLOCK: { zh: '城镇网格', en: 'Urban residential block' },
  VILLAGE: { zh: '行政村网格', en: 'Village' },
  SPECIAL_GROUP: { zh: '特殊人群网格', en: 'Special group' },
};

export const ACTIVITY_CATEGORY_DISPLAY: Record<string, Display> = {
  DIET: { zh: '合理膳食', en: 'Diet' },
  EXERCISE: { zh: '运动', en: 'Exercise' },
  SALT_REDUCTION: { zh: '限盐', en: 'Salt reduction' },
  SMOKING_CESSATION: { zh: '戒烟', en: 'Smoking cessation' },
  ALCOHOL_LIMITATION: { zh: '限酒', en: 'Alcohol limitation' },
  SELF_MANAGEMENT_GROUP: { zh: '自我管理小组', en: 'Self-management group' },
  MEDICATION: { zh: '药物治疗', en: 'Medication' },
  OTHER: { zh: '其他干预', en: 'Other intervention' },
};

/** SNOMED CT care-plan activities hospitals send, as our categories (non-medical prescriptions count from these). */
const ACTIVITY_SNOMED: Record<string, string> = {
  '160670007': 'DIET', // Diabetic diet
  '226234005': 'DIET', // Healthy diet
  '1151000175103': 'DIET', // Dietary Approaches to Stop Hypertension diet
  '388976009': 'DIET', // Weight reduction regimen
  '183063000': 'SALT_REDUCTION', // Low salt diet education
  '229065009': 'EXERCISE', // Exercise therapy
  '386463000': 'EXERCISE', // Prescribed activity/exercise education
  '183301007': 'EXERCISE', // Physical exercises
  '225323000': 'SMOKING_CESSATION', // Smoking cessation education
  '710081004': 'SMOKING_CESSATION', // Smoking cessation therapy
  '413473000': 'ALCOHOL_LIMITATION', // Counseling about alcohol consumption
  '419822006': 'ALCOHOL_LIMITATION', // Warning. Avoid alcoholic drink
};

export function classifyActivity(system: string, code: string): string | undefined {
  if (system === NCD_SYSTEMS.activityCategory) return code in ACTIVITY_CATEGORY_DISPLAY ? code : undefined;
  if (system === SYSTEMS.snomed) return ACTIVITY_SNOMED[code];
  return undefined;
}

export const REFERRAL_DIRECTION_DISPLAY: Record<string, Display> = {
  UP: { zh: '上转', en: 'Up-referral' },
  DOWN: { zh: '下转', en: 'Down-referral' },
};

export const REFERRAL_REASON_DISPLAY: Record<string, Display> = {
  UNCLEAR_DIAGNOSIS: { zh: '诊断不明', en: 'Unclear diagnosis' },
  POOR_CONTROL: { zh: '控制不满意', en: 'Poor control' },
  ACUTE_EXACERBATION: { zh: '急性加重', en: 'Acute exacerbation' },
  COMPLICATION: { zh: '出现并发症', en: 'New or worsening complication' },
  STABLE: { zh: '病情稳定', en: 'Stable' },
  RECOVERY: { zh: '康复期', en: 'Recovery phase' },
  OTHER: { zh: '其他原因', en: 'Other reason' },
};

export const REFERRAL_STATUS_DISPLAY: Record<string, Display> = {
  REQUESTED: { zh: '已申请', en: 'Requested' },
  ACCEPTED: { zh: '已接收', en: 'Accepted' },
  REJECTED: { zh: '已拒绝', en: 'Rejected' },
  COMPLETED: { zh: '已完成', en: 'Completed' },
  CANCELLED: { zh: '已取消', en: 'Cancelled' },
};

/** SNOMED CT 3457005 "Patient referral": what marks a ServiceRequest as a referral rather than an order. */
export const REFERRAL_SNOMED = { code: '3457005', display: 'Patient referral' } as const;
export const REFERRAL_DISPLAY: Display = { zh: '转诊', en: 'Patient referral' };
const REFERRAL_CODES = new Set(['3457005', '306206005', '183444007']);
export const isReferralCode = (system: string | undefined, code: string | undefined): boolean =>
  system === SYSTEMS.snomed && code !== undefined && REFERRAL_CODES.has(code);

export const FOLLOW_UP_TYPE_DISPLAY: Record<string, Display> = {
  CLINIC: { zh: '门诊随访', en: 'Clinic follow-up' },
  HOME: { zh: '家庭随访', en: 'Home follow-up' },
  PHONE: { zh: '电话随访', en: 'Telephone follow-up' },
  REMOTE: { zh: '远程随访', en: 'Remote follow-up' },
};

/** SNOMED CT follow-up encounter codes: an Encounter carrying one is a follow-up visit. */
export const FOLLOW_UP_SNOMED = { code: '390906007', display: 'Follow-up encounter' } as const;
export const FOLLOW_UP_DISPLAY: Display = { zh: '慢病随访', en: 'Follow-up encounter' };
const FOLLOW_UP_CODES = new Set(['390906007', '185389009', '308335008']);
export const isFollowUpCode = (system: string | undefined, code: string | undefined): boolean =>
  (system === SYSTEMS.snomed && code !== undefined && FOLLOW_UP_CODES.has(code)) || system === NCD_SYSTEMS.followUpType;

/** v3 ActCode encounter classes: which mean a hospital stay (counted by the hospitalisation indicator). */
export const INPATIENT_CLASSES: ReadonlySet<string> = new Set(['IMP', 'ACUTE', 'NONAC']);
export const EMERGENCY_CLASSES: ReadonlySet<string> = new Set(['EMER']);
export const ENCOUNTER_CLASS_DISPLAY: Record<string, string> = {
  AMB: 'ambulatory',
  HH: 'home health',
  VR: 'virtual',
  IMP: 'inpatient encounter',
  EMER: 'emergency',
  ACUTE: 'inpatient acute',
  NONAC: 'inpatient non-acute',
  FLD: 'field',
};

export const CONTROL_STATUS_DISPLAY: Record<string, Display> = {
  CONTROLLED: { zh: '控制满意', en: 'Controlled' },
  UNCONTROLLED: { zh: '控制不满意', en: 'Uncontrolled' },
  URGENT: { zh: '需紧急转诊', en: 'Urgent' },
};

/**
 * An Observation's `interpretation` from the control rule: the v3 ObservationInterpretation code (display in the
 * coding: the code system's English), and the control status it stands for (our control-status coding beside it).
 */
export const CONTROL_INTERPRETATION: Record<ControlInterpretation, { display: Display; status: ControlStatus }> = {
  N: { display: { zh: '正常', en: 'Normal' }, status: ControlStatus.CONTROLLED },
  H: { display: { zh: '偏高', en: 'High' }, status: ControlStatus.UNCONTROLLED },
  HH: { display: { zh: '危急偏高', en: 'Critical high' }, status: ControlStatus.URGENT },
  LL: { display: { zh: '危急偏低', en: 'Critical low' }, status: ControlStatus.URGENT },
};

export const MANAGEMENT_TIER_DISPLAY: Record<string, Display> = {
  INTENSIVE: { zh: '重点管理', en: 'Intensive management' },
  ROUTINE: { zh: '常规管理', en: 'Routine management' },
  GENERAL: { zh: '一般管理', en: 'General management' },
};

export const MANAGEMENT_COLOUR_DISPLAY: Record<string, Display> = {
  RED: { zh: '红标', en: 'Red' },
  YELLOW: { zh: '黄标', en: 'Yellow' },
  GREEN: { zh: '绿标', en: 'Green' },
};

export const OBSERVATION_SOURCE_DISPLAY: Record<string, Display> = {
  CLINIC: { zh: '诊室测量', en: 'Clinic measurement' },
  HOME: { zh: '家庭自测', en: 'Home measurement' },
  DEVICE: { zh: '设备上传', en: 'Device upload' },
};

export const CONSENT_PURPOSE_DISPLAY: Record<string, Display> = {
  TREATMENT: { zh: '诊疗', en: 'Treatment' },
  INSURER_SHARING: { zh: '向医保机构共享健康数据', en: 'Sharing health data with the insurer' },
  RESEARCH: { zh: '科研', en: 'Research' },
};

/** v3 ActReason purposes of use, by our purpose: what other systems read from Consent.provision.purpose. */
export const CONSENT_PURPOSE_OF_USE: Record<string, { code: string; display: string }> = {
  TREATMENT: { code: 'TREAT', display: 'treatment' },
  INSURER_SHARING: { code: 'HPAYMT', display: 'healthcare payment' },
  RESEARCH: { code: 'HRESCH', display: 'healthcare research' },
};

export const REFERRAL_TASK_DISPLAY: Display = { zh: '转诊处理', en: 'Fulfill referral' };
export const REFERRAL_OUTCOME_DISPLAY: Display = { zh: '转诊结果', en: 'Referral outcome summary' };
/** A Task output naming a reading or diagnosis of the receiver's visit (an Observation or a Condition). */
export const REFERRAL_RESULT_DISPLAY: Display = { zh: '转诊诊疗记录', en: 'Reading or diagnosis of the referral visit' };

/** Goal measures that split a blood-pressure target into its two components. */
export const isSystolicCode = (system: string | undefined, code: string | undefined): boolean => system === SYSTEMS.loinc && code === LOINC.systolic;
export const isDiastolicCode = (system: string | undefined, code: string | undefined): boolean => system === SYSTEMS.loinc && code === LOINC.diastolic;

/** HL7 displays for the condition status codes we emit (by FHIR code). */
export const CONDITION_CLINICAL_DISPLAY: Record<string, string> = {
  active: 'Active',
  recurrence: 'Recurrence',
  relapse: 'Relapse',
  inactive: 'Inactive',
  remission: 'Remission',
  resolved: 'Resolved',
};
export const CONDITION_VERIFICATION_DISPLAY: Record<string, string> = {
  unconfirmed: 'Unconfirmed',
  provisional: 'Provisional',
  differential: 'Differential',
  confirmed: 'Confirmed',
  refuted: 'Refuted',
  'entered-in-error': 'Entered in Error',
};
