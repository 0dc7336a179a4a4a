/**
 * Code normalisation, in one place: which codes mean which condition or measurement, their displays in
 * Chinese and English, and the canonical unit of every measurement with conversions from what arrives.
 * Pure data and functions — the domain, GraphQL and FHIR layers all ask this module.
 */

export const SYSTEMS = {
  snomed: 'http://snomed.info/sct',
  icd10: 'http://hl7.org/fhir/sid/icd-10',
  icd10cn: 'urn:oid:2.16.156.10011.2.3.3.11',
  loinc: 'http://loinc.org',
  ucum: 'http://unitsofmeasure.org',
} as const;

export enum ConditionKind {
  HYPERTENSION = 'HYPERTENSION',
  TYPE_2_DIABETES = 'TYPE_2_DIABETES',
  COPD = 'COPD',
  CKD = 'CKD',
  STROKE = 'STROKE',
  CHD = 'CHD',
  CANCER = 'CANCER',
  OTHER = 'OTHER',
}

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

export enum ObservationKind {
  BLOOD_PRESSURE = 'BLOOD_PRESSURE',
  FASTING_GLUCOSE = 'FASTING_GLUCOSE',
  GLUCOSE = 'GLUCOSE',
  HBA1C = 'HBA1C',
  WEIGHT = 'WEIGHT',
  HEIGHT = 'HEIGHT',
  BMI = 'BMI',
  HEART_RATE = 'HEART_RATE',
  WAIST_CIRCUMFERENCE = 'WAIST_CIRCUMFERENCE',
  OTHER = 'OTHER',
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
