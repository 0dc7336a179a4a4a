import { Observation } from '../src/domain/observation/observation.entity.js';
import { startCountyApp, type TestApp } from './helpers/app.js';
import { MISSING_ID, residentId, SYSTEMS, type County } from './helpers/fixtures.js';
import { expectRefusal, expectRefusedUnchanged } from './helpers/refusals.js';
import {
  ExtraRecordObservationDocument,
  ExtraRecordObservationsDocument,
  RecordObservationDocument,
  RecordObservationsDocument,
  RegisterPatientDocument,
  type RecordObservationInput,
} from './generated/graphql.js';

let t: TestApp;
let county: County;
/** A patient born 1960-01-01 whose readings the single-reading tests record. */
let patientId: string;

beforeAll(async () => {
  ({ t, county } = await startCountyApp('OBS'));
  patientId = await newPatient('1960-01-01');
});
afterAll(() => t?.close());

async function newPatient(birthDate: string): Promise<string> {
  const data = await t.ok(RegisterPatientDocument, {
    input: { name: '测量', gender: 'MALE', managingOrganizationId: county.village.id, identifiers: [{ system: SYSTEMS.residentId, value: residentId(birthDate) }] },
  });
  return data.registerPatient.id;
}

const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString();
const observationCount = (where: Record<string, unknown> = {}) => t.em().count(Observation, where);

async function record(input: Partial<RecordObservationInput>) {
  return (await t.ok(ExtraRecordObservationDocument, { input: { patientId, effectiveAt: hoursAgo(1), ...input } })).recordObservation;
}

/** A reading that must be refused with BAD_USER_INPUT on `field`, storing nothing. */
async function expectReadingRefused(input: Partial<RecordObservationInput>, field: string) {
  const run = () => t.gql(RecordObservationDocument, { input: { patientId, effectiveAt: hoursAgo(1), ...input } });
  await expectRefusedUnchanged(() => observationCount(), run, 'BAD_USER_INPUT', field);
}

describe('recordObservation: blood pressure', () => {
  test('by kind: stored in mmHg with the BP panel LOINC code', async () => {
    const bp = await record({ kind: 'BLOOD_PRESSURE', systolic: 128, diastolic: 82, performerId: county.gp.id, organizationId: county.village.id });
    expect(bp).toMatchObject({
      kind: 'BLOOD_PRESSURE',
      code: '85354-9',
      system: 'http://loinc.org',
      systolic: 128,
      diastolic: 82,
      value: null,
      unit: 'mm[Hg]',
      source: 'CLINIC',
      controlStatus: 'CONTROLLED',
      patient: { id: patientId },
      performer: { id: county.gp.id },
      organization: { id: county.village.id },
    });
    expect(await observationCount({ id: bp.id, systolic: 128, diastolic: 82 })).toBe(1);
  });

  test.each(['85354-9', '55284-4'])('by LOINC code %s', async (code) => {
    const bp = await record({ code, systolic: 135, diastolic: 85 });
    expect(bp).toMatchObject({ kind: 'BLOOD_PRESSURE', code, systolic: 135, diastolic: 85 });
  });

  test('in kPa: converted to mmHg, the unit as received is kept', async () => {
    const bp = await record({ kind: 'BLOOD_PRESSURE', systolic: 16, diastolic: 10.7, unit: 'kPa' });
    expect(bp).toMatchObject({ systolic: 120.01, diastolic: 80.26, unit: 'mm[Hg]', receivedUnit: 'kPa' });
  });

  test('systolic must be greater than diastolic', async () => {
    await expectReadingRefused({ kind: 'BLOOD_PRESSURE', systolic: 120, diastolic: 120 }, 'input.systolic');
    await expectReadingRefused({ kind: 'BLOOD_PRESSURE', systolic: 80, diastolic: 120 }, 'input.systolic');
  });

  test('systolic must be within 40–300 mmHg', async () => {
    await expectReadingRefused({ kind: 'BLOOD_PRESSURE', systolic: 39, diastolic: 25 }, 'input.systolic');
    await expectReadingRefused({ kind: 'BLOOD_PRESSURE', systolic: 301, diastolic: 120 }, 'input.systolic');
    // 41 kPa is 307.5 mmHg: the range applies after conversion.
    await expectReadingRefused({ kind: 'BLOOD_PRESSURE', systolic: 41, diastolic: 12, unit: 'kPa' }, 'input.systolic');
    expect(await record({ kind: 'BLOOD_PRESSURE', systolic: 40, diastolic: 25 })).toMatchObject({ systolic: 40 });
    expect(await record({ kind: 'BLOOD_PRESSURE', systolic: 300, diastolic: 150 })).toMatchObject({ systolic: 300 });
  });

  test('diastolic must be within 20–200 mmHg', async () => {
    await expectReadingRefused({ kind: 'BLOOD_PRESSURE', systolic: 120, diastolic: 19 }, 'input.diastolic');
    await expectReadingRefused({ kind: 'BLOOD_PRESSURE', systolic: 260, diastolic: 201 }, 'input.diastolic');
    expect(await record({ kind: 'BLOOD_PRESSURE', systolic: 90, diastolic: 20 })).toMatchObject({ diastolic: 20 });
    expect(await record({ kind: 'BLOOD_PRESSURE', systolic: 260, diastolic: 200 })).toMatchObject({ diastolic: 200 });
  });

  test('a blood pressure needs both numbers and no value', async () => {
    await expectReadingRefused({ kind: 'BLOOD_PRESSURE', systolic: 130, diastolic: 80, value: 130 }, 'input.value');
    await expectReadingRefused({ kind: 'BLOOD_PRESSURE', systolic: 130 }, 'input.systolic');
    await expectReadingRefused({ kind: 'BLOOD_PRESSURE', diastolic: 80 }, 'input.systolic');
    await expectReadingRefused({ kind: 'BLOOD_PRESSURE', value: 130 }, 'input.systolic');
  });

  test('a unit that is not a pressure unit is refused', async () => {
    await expectReadingRefused({ kind: 'BLOOD_PRESSURE', systolic: 130, diastolic: 80, unit: 'mmol/L' }, 'input.unit');
    await expectReadingRefused({ kind: 'BLOOD_PRESSURE', systolic: 130, diastolic: 80, unit: 'psi' }, 'input.unit');
  });

  test.each([
    [139, 89, 'CONTROLLED'],
    [140, 80, 'UNCONTROLLED'],
    [130, 90, 'UNCONTROLLED'],
    [179, 109, 'UNCONTROLLED'],
    [180, 100, 'URGENT'],
    [150, 110, 'URGENT'],
  ] as const)('%i/%i mmHg is %s', async (systolic, diastolic, status) => {
    expect((await record({ kind: 'BLOOD_PRESSURE', systolic, diastolic })).controlStatus).toBe(status);
  });
});

describe('recordObservation: glucose and other measurements', () => {
  test('fasting glucose in mg/dL is converted to mmol/L, keeping the value and unit as received', async () => {
    const g = await record({ kind: 'FASTING_GLUCOSE', value: 126, unit: 'mg/dL' });
    expect(g).toMatchObject({
      kind: 'FASTING_GLUCOSE',
      code: '1558-6',
      value: 6.99,
      unit: 'mmol/L',
      receivedValue: 126,
      receivedUnit: 'mg/dL',
      systolic: null,
      diastolic: null,
      controlStatus: 'CONTROLLED',
    });
    expect(await observationCount({ id: g.id, value: 6.99, receivedValue: 126, receivedUnit: 'mg/dL' })).toBe(1);
  });

  test('glucose without a unit is taken as mmol/L', async () => {
    const g = await record({ code: '1558-6', value: 6.1 });
    expect(g).toMatchObject({ kind: 'FASTING_GLUCOSE', value: 6.1, unit: 'mmol/L', receivedValue: 6.1, receivedUnit: 'mmol/L' });
  });

  test('glucose must be within 0.5–50 mmol/L (after conversion)', async () => {
    await expectReadingRefused({ kind: 'FASTING_GLUCOSE', value: 0.4 }, 'input.value');
    await expectReadingRefused({ kind: 'FASTING_GLUCOSE', value: 50.1 }, 'input.value');
    await expectReadingRefused({ kind: 'GLUCOSE', value: 1000, unit: 'mg/dL' }, 'input.value');
    await expectReadingRefused({ kind: 'GLUCOSE', value: 5, unit: 'mg/dL' }, 'input.value');
    expect(await record({ kind: 'FASTING_GLUCOSE', value: 0.5 })).toMatchObject({ value: 0.5 });
    expect(await record({ kind: 'GLUCOSE', value: 50 })).toMatchObject({ value: 50 });
  });

  test('a measurement with a value refuses systolic/diastolic and needs a value', async () => {
    await expectReadingRefused({ kind: 'FASTING_GLUCOSE', value: 6, systolic: 120 }, 'input.systolic');
    await expectReadingRefused({ kind: 'FASTING_GLUCOSE' }, 'input.value');
  });

  test('an unknown unit is refused', async () => {
    await expectReadingRefused({ kind: 'FASTING_GLUCOSE', value: 6, unit: 'mmol' }, 'input.unit');
    await expectReadingRefused({ kind: 'WEIGHT', value: 70, unit: 'stone' }, 'input.unit');
  });

  test('an unknown LOINC code, a kind that contradicts the code, or neither kind nor code is refused', async () => {
    await expectReadingRefused({ code: '12345-6', value: 1 }, 'input.code');
    await expectReadingRefused({ code: '8480-6', value: 120 }, 'input.code'); // a BP component, not a measurement on its own
    await expectReadingRefused({ kind: 'FASTING_GLUCOSE', code: '85354-9', systolic: 120, diastolic: 80 }, 'input.kind');
    await expectReadingRefused({ value: 6 }, 'input.kind');
    await expectReadingRefused({ kind: 'OTHER', value: 6 }, 'input.kind');
  });

  test('other kinds convert to their canonical unit', async () => {
    expect(await record({ kind: 'WEIGHT', value: 150, unit: '[lb_av]' })).toMatchObject({ code: '29463-7', value: 68.04, unit: 'kg', receivedValue: 150, receivedUnit: '[lb_av]' });
    expect(await record({ kind: 'HBA1C', value: 48, unit: 'mmol/mol' })).toMatchObject({ value: 6.54, unit: '%', controlStatus: 'CONTROLLED' });
    expect(await record({ kind: 'HEIGHT', value: 1.68, unit: 'm' })).toMatchObject({ value: 168, unit: 'cm', controlStatus: null });
    await expectReadingRefused({ kind: 'HBA1C', value: 25 }, 'input.value');
  });

  test.each([
    ['FASTING_GLUCOSE', 6.9, 'CONTROLLED'],
    ['FASTING_GLUCOSE', 7.0, 'UNCONTROLLED'],
    ['FASTING_GLUCOSE', 16.7, 'URGENT'],
    ['FASTING_GLUCOSE', 3.9, 'URGENT'],
    ['GLUCOSE', 10, null],
    ['GLUCOSE', 17, 'URGENT'],
    ['HBA1C', 6.9, 'CONTROLLED'],
    ['HBA1C', 7.5, 'UNCONTROLLED'],
  ] as const)('%s %f has control status %s', async (kind, value, status) => {
    expect((await record({ kind, value })).controlStatus).toBe(status);
  });
});

describe('recordObservation: time, source and references', () => {
  test('a reading in the future is refused; a device clock a minute ahead is tolerated', async () => {
    await expectReadingRefused({ kind: 'WEIGHT', value: 70, effectiveAt: new Date(Date.now() + 3600_000).toISOString() }, 'input.effectiveAt');
    await expectReadingRefused({ kind: 'WEIGHT', value: 70, effectiveAt: new Date(Date.now() + 86400_000).toISOString() }, 'input.effectiveAt');
    expect(await record({ kind: 'WEIGHT', value: 70, effectiveAt: new Date(Date.now() + 60_000).toISOString() })).toMatchObject({ value: 70 });
  });

  test('a reading before the patient was born is refused', async () => {
    await expectReadingRefused({ kind: 'WEIGHT', value: 3.2, effectiveAt: '1959-12-31T12:00:00Z' }, 'input.effectiveAt');
  });

  test('a DEVICE reading needs a deviceId; with one it is stored', async () => {
    await expectReadingRefused({ kind: 'BLOOD_PRESSURE', systolic: 130, diastolic: 80, source: 'DEVICE' }, 'input.deviceId');
    await expectReadingRefused({ kind: 'BLOOD_PRESSURE', systolic: 130, diastolic: 80, source: 'DEVICE', deviceId: '  ' }, 'input.deviceId');
    const ok = await record({ kind: 'BLOOD_PRESSURE', systolic: 130, diastolic: 80, source: 'DEVICE', deviceId: 'OMRON-123' });
    expect(ok).toMatchObject({ source: 'DEVICE', deviceId: 'OMRON-123' });
    expect((await record({ kind: 'WEIGHT', value: 61, source: 'HOME' })).source).toBe('HOME');
  });

  test('sourceSystem and sourceId go together', async () => {
    await expectReadingRefused({ kind: 'WEIGHT', value: 70, sourceSystem: 'urn:device-cloud' }, 'input.sourceId');
    await expectReadingRefused({ kind: 'WEIGHT', value: 70, sourceId: 'r-1' }, 'input.sourceId');
  });

  test('an unknown patient, performer or organisation is refused', async () => {
    await expectReadingRefused({ patientId: MISSING_ID, kind: 'WEIGHT', value: 70 }, 'input.patientId');
    await expectReadingRefused({ patientId: 'patient-1', kind: 'WEIGHT', value: 70 }, 'input.patientId');
    await expectReadingRefused({ kind: 'WEIGHT', value: 70, performerId: MISSING_ID }, 'input.performerId');
    await expectReadingRefused({ kind: 'WEIGHT', value: 70, organizationId: 'nope' }, 'input.organizationId');
  });

  test('a single reading re-sent with the same source id is stored once', async () => {
    const input = { kind: 'WEIGHT' as const, value: 66, sourceSystem: 'urn:scale-cloud', sourceId: 'single-1' };
    const first = await record(input);
    const again = await record(input);
    expect(again.id).toBe(first.id);
    expect(await observationCount({ sourceSystem: 'urn:scale-cloud', sourceId: 'single-1' })).toBe(1);
  });
});

describe('recordObservations (batch)', () => {
  const bp = (pid: string, systolic: number, diastolic: number, extra: Partial<RecordObservationInput> = {}): RecordObservationInput => ({
    patientId: pid,
    kind: 'BLOOD_PRESSURE',
    systolic,
    diastolic,
    effectiveAt: hoursAgo(2),
    ...extra,
  });

  test('stores every reading, in order', async () => {
    const pid = await newPatient('1962-02-02');
    const res = await t.gql(ExtraRecordObservationsDocument, {
      inputs: [bp(pid, 130, 80), { patientId: pid, kind: 'FASTING_GLUCOSE', value: 108, unit: 'mg/dL', effectiveAt: hoursAgo(2) }, bp(pid, 185, 95)],
    });
    expect(res.errors).toBeUndefined();
    expect(res.data!.recordObservations.map((o) => [o.kind, o.systolic ?? o.value, o.controlStatus])).toEqual([
      ['BLOOD_PRESSURE', 130, 'CONTROLLED'],
      ['FASTING_GLUCOSE', 5.99, 'CONTROLLED'],
      ['BLOOD_PRESSURE', 185, 'URGENT'],
    ]);
    expect(await observationCount({ patient: pid })).toBe(3);
  });

  test('one bad reading refuses the whole batch, naming its position', async () => {
    const pid = await newPatient('1963-03-03');
    const res = await t.gql(RecordObservationsDocument, { inputs: [bp(pid, 130, 80), bp(pid, 140, 85), bp(pid, 80, 120), bp(pid, 150, 90)] });
    expectRefusal(res, 'BAD_USER_INPUT', 'inputs.2.systolic');
    expect(await observationCount({ patient: pid })).toBe(0);
    const future = await t.gql(RecordObservationsDocument, { inputs: [bp(pid, 130, 80), bp(pid, 131, 80, { effectiveAt: new Date(Date.now() + 7200_000).toISOString() })] });
    expectRefusal(future, 'BAD_USER_INPUT', 'inputs.1.effectiveAt');
    const beforeBirth = await t.gql(RecordObservationsDocument, { inputs: [bp(pid, 130, 80), bp(pid, 130, 80), bp(pid, 130, 80, { effectiveAt: '1963-01-01T00:00:00Z' })] });
    expectRefusal(beforeBirth, 'BAD_USER_INPUT', 'inputs.2.effectiveAt');
    expect(await observationCount({ patient: pid })).toBe(0);
  });

  test('an unknown patient anywhere in the batch refuses all of it', async () => {
    const pid = await newPatient('1964-04-04');
    const other = await newPatient('1965-05-05');
    const total = await observationCount();
    expectRefusal(await t.gql(RecordObservationsDocument, { inputs: [bp(pid, 130, 80), bp(MISSING_ID, 130, 80), bp(other, 130, 80)] }), 'BAD_USER_INPUT', 'inputs.1.patientId');
    expectRefusal(await t.gql(RecordObservationsDocument, { inputs: [bp(pid, 130, 80), bp(other, 130, 80), bp('not-an-id', 130, 80)] }), 'BAD_USER_INPUT', 'inputs.2.patientId');
    expectRefusal(
      await t.gql(RecordObservationsDocument, { inputs: [bp(pid, 130, 80), bp(other, 130, 80, { organizationId: MISSING_ID })] }),
      'BAD_USER_INPUT',
      'inputs.1.organizationId',
    );
    expect(await observationCount()).toBe(total);
  });

  test('re-sending a batch with the same source ids stores nothing new', async () => {
    const pid = await newPatient('1966-06-06');
    const src = (id: string) => ({ sourceSystem: 'urn:omron-cloud', sourceId: id, source: 'DEVICE' as const, deviceId: 'HEM-7136' });
    const batch = [bp(pid, 130, 80, src('a')), bp(pid, 135, 82, src('b')), bp(pid, 142, 91, src('c'))];
    const first = await t.gql(ExtraRecordObservationsDocument, { inputs: batch });
    expect(first.errors).toBeUndefined();
    expect(await observationCount({ patient: pid })).toBe(3);

    const again = await t.gql(ExtraRecordObservationsDocument, { inputs: batch });
    expect(again.errors).toBeUndefined();
    expect(again.data!.recordObservations.map((o) => o.id)).toEqual(first.data!.recordObservations.map((o) => o.id));
    expect(await observationCount({ patient: pid })).toBe(3);

    // An overlapping batch stores only the new reading.
    const overlap = await t.gql(ExtraRecordObservationsDocument, { inputs: [batch[2]!, bp(pid, 128, 79, src('d'))] });
    expect(overlap.errors).toBeUndefined();
    expect(overlap.data!.recordObservations[0]!.id).toBe(first.data!.recordObservations[2]!.id);
    expect(await observationCount({ patient: pid })).toBe(4);
  });

  test('the same source id twice in one batch is stored once', async () => {
    const pid = await newPatient('1967-07-07');
    const twice = bp(pid, 133, 83, { sourceSystem: 'urn:omron-cloud', sourceId: 'dup-in-batch' });
    const res = await t.gql(ExtraRecordObservationsDocument, { inputs: [twice, twice] });
    expect(res.errors).toBeUndefined();
    const [a, b] = res.data!.recordObservations;
    expect(a!.id).toBe(b!.id);
    expect(await observationCount({ patient: pid })).toBe(1);
  });

  test('a source id already recorded for another patient is refused', async () => {
    const pid = await newPatient('1968-08-08');
    const other = await newPatient('1969-09-09');
    const key = { sourceSystem: 'urn:omron-cloud', sourceId: 'owned' };
    expect((await t.gql(RecordObservationsDocument, { inputs: [bp(pid, 130, 80, key)] })).errors).toBeUndefined();
    expectRefusal(await t.gql(RecordObservationsDocument, { inputs: [bp(other, 125, 80), bp(other, 130, 80, key)] }), 'BAD_USER_INPUT', 'inputs.1.sourceId');
    expect(await observationCount({ patient: other })).toBe(0);
  });

  test('an empty batch stores nothing; a batch over 1000 readings is refused', async () => {
    const pid = await newPatient('1970-10-10');
    const empty = await t.gql(RecordObservationsDocument, { inputs: [] });
    expect(empty.errors).toBeUndefined();
    expect(empty.data!.recordObservations).toEqual([]);
    const huge = Array.from({ length: 1001 }, () => bp(pid, 130, 80));
    expectRefusal(await t.gql(RecordObservationsDocument, { inputs: huge }), 'BAD_USER_INPUT', 'inputs');
    expect(await observationCount({ patient: pid })).toBe(0);
  });
});
