/**
 * Support for test/care-histories.test.ts: a care history written once as data, the clinical expectation after each
 * event, and the FHIR a hospital's system sends for each event (transaction Bundles of PUTs under the sender's own
 * ids, ADR 12: a re-sent or corrected resource — an admission's discharge, a death on the Patient — is the same
 * resource).
 */
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { addDays, daysBetween } from '../src/care-rules/follow-up-interval.js';

/** A reading: blood pressure (mmHg) or fasting glucose (mmol/L). */
export type Reading = { bp: [number, number] } | { fastingGlucose: number };

/** Days are relative to the county's today (0 today, -14 two weeks ago). */
export type CareEvent =
  | { kind: 'diagnosis'; code: 'I10' | 'E11'; onset: number }
  | { kind: 'reading'; day: number; reading: Reading }
  | { kind: 'visit'; day: number; readings: Reading[] }
  | { kind: 'admitted'; day: number }
  | { kind: 'discharged'; day: number }
  | { kind: 'died'; day: number }
  | { kind: 'moved' };

/** What the rules should say after an event, as the care model states it (docs/care-model.md). */
export interface Expected {
  /** Tier and colour; null: not a managed patient. */
  management: [tier: string, colour: string] | null;
  /** Control status per managed condition. */
  control: Record<string, string>;
  /**
   * The open planned visit: its day and due reason before the face-to-face minimum (applied by `withFaceToFaceMinimum`);
   * null: none.
   */
  due: { day: number; reason: string } | null;
  /** Open alerts, as `KIND/SEVERITY/causeType`. */
  alerts: string[];
  /** Pathway step per condition. */
  pathway: Record<string, string>;
  careStatus?: string;
  /** Which of the village doctor's lists the patient is on (checked when given). */
  lists?: { followUpsDue: boolean; uncontrolled: boolean; openAlerts: boolean };
}

export interface HistoryStep {
  event: CareEvent;
  expect: Expected;
}

export interface History {
  name: string;
  steps: HistoryStep[];
}

/**
 * The national minimum of four face-to-face visits a year (docs/care-model.md, `FACE_TO_FACE_MINIMUM`): when the visits
 * still needed in the last visit's calendar year cannot all fit before 31 December at the rules' interval, the next
 * one comes sooner — the rest of the year split evenly, never under two weeks. Whether it applies depends on the day
 * the test runs (late in a year it pulls a 60- or 90-day date forward, even below a later reading's two weeks), so
 * every expected date goes through this rule, stated here from the care model. The histories' key dates are chosen so
 * that it cannot apply on any day: two weeks from the visit itself (it never pulls below two weeks) or quarterly visits
 * (they are the four a year).
 */
export function withFaceToFaceMinimum(due: { date: string; reason: string }, base: string, faceToFaceInYear: number): { date: string; reason: string } {
  const needed = 4 - faceToFaceInYear;
  if (needed <= 0) return due;
  const split = Math.floor(daysBetween(base, `${base.slice(0, 4)}-12-31`) / needed);
  if (split < 14) return due;
  const pulled = addDays(base, split);
  return pulled < due.date ? { date: pulled, reason: 'FACE_TO_FACE_MINIMUM' } : due;
}

/** An instant on a county day: 10:00 Beijing time (the same day in UTC, the tests' county zone, and in Asia/Shanghai), or a minute ago for today. */
export const instantOn = (day: string, today: string): string => (day === today ? new Date(Date.now() - 60_000).toISOString() : `${day}T10:00:00+08:00`);

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

const put = (resource: Resource & { id: string }): BundleEntry => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } });
export const transaction = (entries: BundleEntry[]): Bundle => ({ resourceType: 'Bundle', type: 'transaction', entry: entries });

/** The FHIR a hospital's system keeps for one patient (its own id `key`), event by event. */
export class HospitalRecord {
  private n = 0;
  constructor(
    readonly key: string,
    private readonly patient: { name: string; birthDate: string; residentId: string; residentIdSystem: string; managingOrganizationId: string },
    private readonly hospitalId: string,
    private readonly today: string,
    /** How its resources name the patient: by its own id, unless it found them in the county's record (our id). */
    private readonly patientReference = `Patient/${key}`,
  ) {}

  private get subject() {
    return { reference: this.patientReference };
  }

  patientResource(deceasedOn?: string): Resource & { id: string } {
    return {
      resourceType: 'Patient',
      id: this.key,
      identifier: [{ system: this.patient.residentIdSystem, value: this.patient.residentId }],
      name: [{ text: this.patient.name }],
      gender: 'male',
      birthDate: this.patient.birthDate,
      managingOrganization: { reference: `Organization/${this.patient.managingOrganizationId}` },
      ...(deceasedOn ? { deceasedDateTime: deceasedOn } : {}),
    } as Resource & { id: string };
  }

  register(): Bundle {
    return transaction([put(this.patientResource())]);
  }

  private observation(reading: Reading, day: string, encounter?: string): BundleEntry {
    const base = { resourceType: 'Observation', id: `${this.key}-obs-${++this.n}`, status: 'final', subject: this.subject, effectiveDateTime: instantOn(day, this.today), ...(encounter ? { encounter: { reference: encounter } } : {}) };
    if ('bp' in reading) {
      return put({
        ...base,
        code: { coding: [{ system: LOINC, code: '85354-9' }] },
        component: [
          { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: reading.bp[0], unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
          { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: { value: reading.bp[1], unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
        ],
      } as Resource & { id: string });
    }
    return put({ ...base, code: { coding: [{ system: LOINC, code: '1558-6' }] }, valueQuantity: { value: reading.fastingGlucose, unit: 'mmol/L', system: UCUM, code: 'mmol/L' } } as Resource & { id: string });
  }

  /** The Bundle one event is, or null when no hospital's system would know it (a move, found by the village doctor's call). */
  bundleFor(event: CareEvent, day: (rel: number) => string): Bundle | null {
    switch (event.kind) {
      case 'diagnosis':
        return transaction([
          put({
            resourceType: 'Condition',
            id: `${this.key}-dx-${event.code}`,
            clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
            verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
            code: { coding: [{ system: ICD10, code: event.code }] },
            subject: this.subject,
            onsetDateTime: day(event.onset),
          } as Resource & { id: string }),
        ]);
      case 'reading':
        return transaction([this.observation(event.reading, day(event.day))]);
      case 'visit': {
        const id = `${this.key}-visit-${++this.n}`;
        const encounter = put({
          resourceType: 'Encounter',
          id,
          status: 'finished',
          class: { system: ACT_CODE, code: 'AMB' },
          type: [{ coding: [{ system: 'http://snomed.info/sct', code: '390906007', display: 'Follow-up encounter' }] }],
          subject: this.subject,
          period: { start: instantOn(day(event.day), this.today) },
        } as Resource & { id: string });
        return transaction([encounter, ...event.readings.map((r) => this.observation(r, day(event.day), `Encounter/${id}`))]);
      }
      case 'admitted':
      case 'discharged':
        return transaction([this.admission(event.kind, day(event.day))]);
      case 'died':
        return transaction([put(this.patientResource(day(event.day)))]);
      case 'moved':
        return null;
    }
  }

  private admittedOn?: string;
  private admission(kind: 'admitted' | 'discharged', on: string): BundleEntry {
    if (kind === 'admitted') this.admittedOn = on;
    return put({
      resourceType: 'Encounter',
      id: `${this.key}-stay`,
      status: kind === 'admitted' ? 'in-progress' : 'finished',
      class: { system: ACT_CODE, code: 'IMP' },
      subject: this.subject,
      serviceProvider: { reference: `Organization/${this.hospitalId}` },
      period: { start: `${this.admittedOn}T09:00:00+08:00`, ...(kind === 'discharged' ? { end: `${on}T11:00:00+08:00` } : {}) },
    } as Resource & { id: string });
  }
}
