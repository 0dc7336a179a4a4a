import { Condition } from '../src/domain/condition/condition.entity.js';
import { Patient, PatientIdentifier } from '../src/domain/patient/patient.entity.js';
import { makeResidentId, residentIdCheckChar } from '../src/domain/patient/resident-id.js';
import { startCountyApp, type TestApp } from './helpers/app.js';
import { isoDay, MISSING_ID, residentId, SYSTEMS, type County } from './helpers/fixtures.js';
import { expectRefusal, expectRefusedUnchanged } from './helpers/refusals.js';
import {
  AddConditionDocument,
  ExtraPatientConditionsDocument,
  ExtraPatientRecordDocument,
  ExtraRegisterPatientDocument,
  ExtraUpdatePatientDocument,
  PatientByIdentifierDocument,
  type PatientInput,
  RegisterPatientDocument,
  type RegisterPatientInput,
} from './generated/graphql.js';

const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
const ICD10_CN = 'urn:oid:2.16.156.10011.2.3.3.11';
const SNOMED = 'http://snomed.info/sct';

let t: TestApp;
let county: County;
let gp: string;
beforeAll(async () => {
  ({ t, county } = await startCountyApp('PAT'));
  // A county GP: sees every patient of the county's subtree, and resident IDs in full.
  gp = await t.tokenFor({ roles: ['GENERAL_PRACTITIONER'], org: county.county.code });
});
afterAll(() => t?.close());

async function rowCounts() {
  const em = t.em();
  return { patients: await em.count(Patient, {}), identifiers: await em.count(PatientIdentifier, {}) };
}

/** Runs a registration that must be refused, and checks that no patient or identifier was stored. */
async function expectRegistrationRefused(input: RegisterPatientInput, code: string, field?: string) {
  await expectRefusedUnchanged(rowCounts, () => t.gql(RegisterPatientDocument, { input }), code, field);
}

async function register(input: Partial<RegisterPatientInput> = {}) {
  const data = await t.ok(ExtraRegisterPatientDocument, {
    input: { name: '测试病人', gender: 'FEMALE', managingOrganizationId: county.village.id, ...input },
  }, gp);
  return data.registerPatient;
}

async function readPatient(id: string) {
  return (await t.ok(ExtraPatientRecordDocument, { id }, gp)).patient;
}

/** A valid resident ID whose check character is X (the one letter the standard allows). */
function residentIdEndingInX(birthDate: string): string {
  for (let seq = 1; seq < 999; seq++) {
    const id = makeResidentId('330326', birthDate, seq);
    if (id.endsWith('X')) return id;
  }
  throw new Error('no sequence gives an X check character');
}

/** Same first 17 characters, wrong check character. */
function withWrongCheckChar(id: string): string {
  const right = residentIdCheckChar(id.slice(0, 17));
  return id.slice(0, 17) + (right === '0' ? '1' : '0');
}

describe('registerPatient', () => {
  test('Chinese names lose their spaces; other names keep single spaces', async () => {
    const chinese = await register({ name: '  欧阳 修 ' });
    expect(chinese.name).toBe('欧阳修');
    const latin = await register({ name: '  Mary   Ann  Smith ' });
    expect(latin.name).toBe('Mary Ann Smith');
    expect((await readPatient(chinese.id)).name).toBe('欧阳修');
  });

  test('stores every field and identifier kind, and takes the birth date from the resident ID', async () => {
    const rid = residentId('1958-03-12', true);
    const p = await register({
      name: '张 三',
      gender: 'MALE',
      phone: '138 0000 1234',
      address: '东村 3 组',
      gridId: county.grid.id,
      familyDoctorTeamId: county.team.id,
      contractSignedOn: '2024-01-01',
      contractExpiresOn: '2024-12-31',
      managementTier: 'INTENSIVE',
      managementColour: 'RED',
      managementOverrideReason: '  recent stroke  ',
      identifiers: [
        { system: SYSTEMS.residentId, value: rid },
        { system: SYSTEMS.healthRecord, value: '33032610110100001' },
        { system: SYSTEMS.insurance, value: 'YB-0001' },
        { system: 'urn:example:hospital-mrn', value: 'MRN-1' },
      ],
    });
    expect(p).toMatchObject({
      version: 1,
      name: '张三',
      gender: 'MALE',
      birthDate: '1958-03-12',
      phone: '138 0000 1234',
      address: '东村 3 组',
      contractSignedOn: '2024-01-01',
      contractExpiresOn: '2024-12-31',
      managementTier: 'INTENSIVE',
      managementColour: 'RED',
      managementOverrideReason: 'recent stroke',
      managingOrganization: { id: county.village.id },
      grid: { id: county.grid.id },
      familyDoctorTeam: { id: county.team.id },
    });
    const kinds = Object.fromEntries((await readPatient(p.id)).identifiers.map((i) => [i.system, [i.kind, i.value]]));
    expect(kinds).toEqual({
      [SYSTEMS.residentId]: ['RESIDENT_ID', rid],
      [SYSTEMS.healthRecord]: ['HEALTH_RECORD', '33032610110100001'],
      [SYSTEMS.insurance]: ['INSURANCE', 'YB-0001'],
      'urn:example:hospital-mrn': ['OTHER', 'MRN-1'],
    });
  });

  test('a resident ID ending in a lower-case x is stored upper-case and found either way', async () => {
    const rid = residentIdEndingInX('1961-07-04');
    const p = await register({ identifiers: [{ system: SYSTEMS.residentId, value: rid.toLowerCase() }] });
    expect(p.identifiers[0]!.value).toBe(rid);
    expect(p.birthDate).toBe('1961-07-04');
    for (const value of [rid, rid.toLowerCase(), ` ${rid} `]) {
      const found = await t.gql(PatientByIdentifierDocument, { system: SYSTEMS.residentId, value });
      expect(found.data!.patientByIdentifier?.id).toBe(p.id);
    }
  });

  test('a resident ID that fails the GB 11643 check character is refused', async () => {
    const bad = withWrongCheckChar(residentId('1970-05-06', false));
    await expectRegistrationRefused(
      { name: '校验失败', gender: 'FEMALE', managingOrganizationId: county.village.id, identifiers: [{ system: SYSTEMS.residentId, value: bad }] },
      'BAD_USER_INPUT',
      'identifiers.0.value',
    );
    // The field names the position of the bad identifier in the list.
    await expectRegistrationRefused(
      {
        name: '校验失败',
        gender: 'FEMALE',
        managingOrganizationId: county.village.id,
        identifiers: [
          { system: SYSTEMS.insurance, value: 'YB-CHECK' },
          { system: SYSTEMS.residentId, value: bad },
        ],
      },
      'BAD_USER_INPUT',
      'identifiers.1.value',
    );
  });

  test('a resident ID with an impossible birth date or the wrong length is refused', async () => {
    const feb30 = makeResidentId('330326', '1958-02-30', 11); // check character is right, the date is not
    for (const value of [feb30, '33032619580312001', '3303261958031200111', '33032619580312A01X']) {
      await expectRegistrationRefused(
        { name: '日期错误', gender: 'MALE', managingOrganizationId: county.village.id, identifiers: [{ system: SYSTEMS.residentId, value }] },
        'BAD_USER_INPUT',
        'identifiers.0.value',
      );
    }
  });

  test('a resident ID whose birth date differs from birthDate is refused', async () => {
    await expectRegistrationRefused(
      {
        name: '生日不符',
        gender: 'MALE',
        birthDate: '1958-03-13',
        managingOrganizationId: county.village.id,
        identifiers: [{ system: SYSTEMS.residentId, value: residentId('1958-03-12', true) }],
      },
      'BAD_USER_INPUT',
      'identifiers.0.value',
    );
  });

  test('an identifier held by another patient is a CONFLICT, and the holder keeps it', async () => {
    const rid = residentId('1949-10-01', true);
    const holder = await register({ name: '原持有人', identifiers: [{ system: SYSTEMS.residentId, value: rid }] });
    await expectRegistrationRefused(
      { name: '冒用者', gender: 'MALE', managingOrganizationId: county.village.id, identifiers: [{ system: SYSTEMS.residentId, value: rid }] },
      'CONFLICT',
    );
    // Same for a non-resident-ID system, and regardless of where it sits in the list.
    await register({ name: '医保持有人', identifiers: [{ system: SYSTEMS.insurance, value: 'YB-DUP' }] });
    await expectRegistrationRefused(
      {
        name: '冒用者',
        gender: 'MALE',
        managingOrganizationId: county.village.id,
        identifiers: [
          { system: SYSTEMS.residentId, value: residentId('1950-01-01', true) },
          { system: SYSTEMS.insurance, value: 'YB-DUP' },
        ],
      },
      'CONFLICT',
    );
    const found = await t.gql(PatientByIdentifierDocument, { system: SYSTEMS.residentId, value: rid });
    expect(found.data!.patientByIdentifier).toEqual({ id: holder.id, name: '原持有人' });
  });

  test('two identifiers with the same system are refused', async () => {
    await expectRegistrationRefused(
      {
        name: '双医保',
        gender: 'FEMALE',
        managingOrganizationId: county.village.id,
        identifiers: [
          { system: SYSTEMS.insurance, value: 'YB-A' },
          { system: SYSTEMS.insurance, value: 'YB-B' },
        ],
      },
      'BAD_USER_INPUT',
      'identifiers.1',
    );
  });

  test('an empty identifier system or value is refused', async () => {
    await expectRegistrationRefused(
      { name: '空标识', gender: 'FEMALE', managingOrganizationId: county.village.id, identifiers: [{ system: SYSTEMS.insurance, value: '  ' }] },
      'BAD_USER_INPUT',
      'identifiers.0',
    );
  });

  test('health-record numbers must be county(6) township(3) committee/village(3) serial(5)', async () => {
    const ok = await register({ identifiers: [{ system: SYSTEMS.healthRecord, value: '33032610190100002' }] });
    expect(ok.identifiers[0]).toMatchObject({ kind: 'HEALTH_RECORD', value: '33032610190100002' });
    for (const value of ['3303261010010001', '330326101001000011', '33032610120100001', '3303261010010000A']) {
      await expectRegistrationRefused(
        { name: '档案号错', gender: 'MALE', managingOrganizationId: county.village.id, identifiers: [{ system: SYSTEMS.healthRecord, value }] },
        'BAD_USER_INPUT',
        'identifiers.0.value',
      );
    }
  });

  test('a birth date in the future is refused', async () => {
    await expectRegistrationRefused(
      { name: '未来人', gender: 'MALE', birthDate: isoDay(2), managingOrganizationId: county.village.id },
      'BAD_USER_INPUT',
      'birthDate',
    );
  });

  test('an unknown managing organisation, grid or care team is refused', async () => {
    for (const managingOrganizationId of [MISSING_ID, 'not-a-uuid']) {
      await expectRegistrationRefused({ name: '无机构', gender: 'MALE', managingOrganizationId }, 'BAD_USER_INPUT', 'managingOrganizationId');
    }
    await expectRegistrationRefused(
      { name: '无网格', gender: 'MALE', managingOrganizationId: county.village.id, gridId: MISSING_ID },
      'BAD_USER_INPUT',
      'gridId',
    );
    await expectRegistrationRefused(
      { name: '无团队', gender: 'MALE', managingOrganizationId: county.village.id, familyDoctorTeamId: MISSING_ID },
      'BAD_USER_INPUT',
      'familyDoctorTeamId',
    );
  });

  test('contract dates need a care team, and must expire after they are signed', async () => {
    const base = { name: '签约', gender: 'FEMALE' as const, managingOrganizationId: county.village.id };
    await expectRegistrationRefused({ ...base, contractSignedOn: '2024-01-01' }, 'BAD_USER_INPUT', 'familyDoctorTeamId');
    await expectRegistrationRefused({ ...base, contractExpiresOn: '2024-12-31' }, 'BAD_USER_INPUT', 'familyDoctorTeamId');
    await expectRegistrationRefused(
      { ...base, familyDoctorTeamId: county.team.id, contractSignedOn: '2024-06-01', contractExpiresOn: '2024-05-31' },
      'BAD_USER_INPUT',
      'contractExpiresOn',
    );
    await expectRegistrationRefused(
      { ...base, familyDoctorTeamId: county.team.id, contractSignedOn: '2024-06-01', contractExpiresOn: '2024-06-01' },
      'BAD_USER_INPUT',
      'contractExpiresOn',
    );
  });

  test('a blank name, a malformed phone number, or a tier without a reason is refused', async () => {
    await expectRegistrationRefused({ name: '   ', gender: 'MALE', managingOrganizationId: county.village.id }, 'BAD_USER_INPUT', 'name');
    await expectRegistrationRefused({ name: 'x'.repeat(101), gender: 'MALE', managingOrganizationId: county.village.id }, 'BAD_USER_INPUT', 'name');
    await expectRegistrationRefused(
      { name: '电话错', gender: 'MALE', managingOrganizationId: county.village.id, phone: 'call me maybe' },
      'BAD_USER_INPUT',
      'phone',
    );
    await expectRegistrationRefused(
      { name: '分级', gender: 'MALE', managingOrganizationId: county.village.id, managementTier: 'INTENSIVE' },
      'BAD_USER_INPUT',
      'managementOverrideReason',
    );
    await expectRegistrationRefused(
      { name: '分色', gender: 'MALE', managingOrganizationId: county.village.id, managementColour: 'RED', managementOverrideReason: '  ' },
      'BAD_USER_INPUT',
      'managementOverrideReason',
    );
  });
});

describe('updatePatient', () => {
  test('changes only the fields sent, and the version goes up with each update', async () => {
    const p = await register({ name: '王五', phone: '13900000000', address: '西村', identifiers: [{ system: SYSTEMS.insurance, value: 'YB-UPD-1' }] });
    const first = await t.gql(ExtraUpdatePatientDocument, { id: p.id, version: 1, input: { name: '王 小五', phone: '13900000001' } });
    expect(first.errors).toBeUndefined();
    expect(first.data!.updatePatient).toMatchObject({ version: 2, name: '王小五', phone: '13900000001', address: '西村' });
    const second = await t.gql(ExtraUpdatePatientDocument, { id: p.id, version: 2, input: { address: null } });
    expect(second.errors).toBeUndefined();
    expect(second.data!.updatePatient).toMatchObject({ version: 3, name: '王小五', phone: '13900000001', address: null });
    const read = await readPatient(p.id);
    expect(read).toMatchObject({ version: 3, name: '王小五', address: null });
    // Identifiers were not sent, so they are untouched.
    expect(read.identifiers).toEqual([{ system: SYSTEMS.insurance, value: 'YB-UPD-1', kind: 'INSURANCE' }]);
  });

  test('a stale version is a CONFLICT and changes nothing', async () => {
    const p = await register({ name: '赵六', phone: '13700000000' });
    expect((await t.gql(ExtraUpdatePatientDocument, { id: p.id, version: 1, input: { phone: '13700000001' } })).errors).toBeUndefined();
    const stale = await t.gql(ExtraUpdatePatientDocument, { id: p.id, version: 1, input: { name: '钱七', phone: '13700000009' } });
    expectRefusal(stale, 'CONFLICT');
    expect(await readPatient(p.id)).toMatchObject({ version: 2, name: '赵六', phone: '13700000001' });
    const future = await t.gql(ExtraUpdatePatientDocument, { id: p.id, version: 5, input: { name: '钱七' } });
    expectRefusal(future, 'CONFLICT');
    expect(await readPatient(p.id)).toMatchObject({ version: 2, name: '赵六' });
  });

  test('setting the management tier or colour needs a reason; with one, it is recorded', async () => {
    const p = await register({ name: '孙八' });
    expectRefusal(await t.gql(ExtraUpdatePatientDocument, { id: p.id, version: 1, input: { managementTier: 'INTENSIVE' } }), 'BAD_USER_INPUT', 'managementOverrideReason');
    expectRefusal(await t.gql(ExtraUpdatePatientDocument, { id: p.id, version: 1, input: { managementColour: 'YELLOW' } }), 'BAD_USER_INPUT', 'managementOverrideReason');
    expect(await readPatient(p.id)).toMatchObject({ version: 1, managementTier: null, managementColour: null, managementOverrideReason: null });
    const ok = await t.gql(ExtraUpdatePatientDocument, {
      id: p.id,
      version: 1,
      input: { managementTier: 'ROUTINE', managementColour: 'YELLOW', managementOverrideReason: ' BP borderline ' },
    });
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.updatePatient).toMatchObject({ version: 2, managementTier: 'ROUTINE', managementColour: 'YELLOW', managementOverrideReason: 'BP borderline' });
  });

  test('an unknown or malformed patient id is NOT_FOUND', async () => {
    expectRefusal(await t.gql(ExtraUpdatePatientDocument, { id: MISSING_ID, version: 1, input: { name: '无人' } }), 'NOT_FOUND');
    expectRefusal(await t.gql(ExtraUpdatePatientDocument, { id: 'not-a-uuid', version: 1, input: { name: '无人' } }), 'NOT_FOUND');
    expectRefusal(await t.gql(ExtraPatientRecordDocument, { id: MISSING_ID }), 'NOT_FOUND');
    expectRefusal(await t.gql(ExtraPatientRecordDocument, { id: '42' }), 'NOT_FOUND');
  });

  test('refused field changes leave the patient as it was', async () => {
    const p = await register({ name: '周九', familyDoctorTeamId: county.team.id, contractSignedOn: '2024-01-01', contractExpiresOn: '2024-12-31' });
    const cases: Array<[PatientInput, string]> = [
      [{ birthDate: isoDay(3) }, 'birthDate'],
      [{ managingOrganizationId: MISSING_ID }, 'managingOrganizationId'],
      [{ gridId: 'nope' }, 'gridId'],
      [{ familyDoctorTeamId: null }, 'familyDoctorTeamId'],
      [{ contractExpiresOn: '2023-12-31' }, 'contractExpiresOn'],
      [{ name: ' ' }, 'name'],
      [{ phone: '12' }, 'phone'],
    ];
    for (const [input, field] of cases) {
      expectRefusal(await t.gql(ExtraUpdatePatientDocument, { id: p.id, version: 1, input }), 'BAD_USER_INPUT', field);
    }
    expect(await readPatient(p.id)).toMatchObject({
      version: 1,
      name: '周九',
      birthDate: null,
      managingOrganization: { id: county.village.id },
      grid: null,
      familyDoctorTeam: { id: county.team.id },
      contractSignedOn: '2024-01-01',
      contractExpiresOn: '2024-12-31',
    });
  });

  test('identifiers sent on update replace the old ones; the freed value can be used by someone else', async () => {
    const p = await register({
      name: '吴十',
      identifiers: [
        { system: SYSTEMS.insurance, value: 'YB-OLD' },
        { system: SYSTEMS.healthRecord, value: '33032610110100077' },
      ],
    });
    const res = await t.gql(ExtraUpdatePatientDocument, {
      id: p.id,
      version: 1,
      input: {
        identifiers: [
          { system: SYSTEMS.insurance, value: 'YB-NEW' },
          { system: SYSTEMS.healthRecord, value: '33032610110100077' },
        ],
      },
    });
    expect(res.errors).toBeUndefined();
    expect(res.data!.updatePatient.identifiers.map((i) => i.value).sort()).toEqual(['33032610110100077', 'YB-NEW']);
    // Changing only identifiers is still a change of the patient: the version moves, so the old one is stale.
    expect(res.data!.updatePatient.version).toBe(2);
    expectRefusal(await t.gql(ExtraUpdatePatientDocument, { id: p.id, version: 1, input: { identifiers: [] } }), 'CONFLICT');
    // Fields and identifiers changed together move the version once.
    const both = await t.gql(ExtraUpdatePatientDocument, {
      id: p.id,
      version: 2,
      input: { phone: '13500000000', identifiers: [{ system: SYSTEMS.insurance, value: 'YB-NEW' }] },
    });
    expect(both.errors).toBeUndefined();
    expect(both.data!.updatePatient).toMatchObject({ version: 3, phone: '13500000000', identifiers: [{ value: 'YB-NEW' }] });
    expect(await t.em().count(PatientIdentifier, { patient: p.id })).toBe(1);
    const old = await t.gql(PatientByIdentifierDocument, { system: SYSTEMS.insurance, value: 'YB-OLD' });
    expect(old.errors).toBeUndefined();
    expect(old.data!.patientByIdentifier).toBeNull();
    const other = await register({ name: '郑十一', identifiers: [{ system: SYSTEMS.insurance, value: 'YB-OLD' }] });
    expect(other.identifiers[0]!.value).toBe('YB-OLD');
  });

  test('an identifier taken by another patient is a CONFLICT on update too, and nothing changes', async () => {
    const a = await register({ name: '甲', identifiers: [{ system: SYSTEMS.insurance, value: 'YB-TAKEN' }] });
    const b = await register({ name: '乙', identifiers: [{ system: SYSTEMS.insurance, value: 'YB-MINE' }] });
    const res = await t.gql(ExtraUpdatePatientDocument, {
      id: b.id,
      version: 1,
      input: { name: '乙二', identifiers: [{ system: SYSTEMS.insurance, value: 'YB-TAKEN' }] },
    });
    expectRefusal(res, 'CONFLICT');
    expect(await readPatient(b.id)).toMatchObject({ version: 1, name: '乙', identifiers: [{ system: SYSTEMS.insurance, value: 'YB-MINE', kind: 'INSURANCE' }] });
    expect(await readPatient(a.id)).toMatchObject({ identifiers: [{ system: SYSTEMS.insurance, value: 'YB-TAKEN', kind: 'INSURANCE' }] });
  });

  test('a birth date that contradicts the resident ID on file is refused', async () => {
    const p = await register({ name: '冯十二', identifiers: [{ system: SYSTEMS.residentId, value: residentId('1966-06-16', true) }] });
    expect(p.birthDate).toBe('1966-06-16');
    expectRefusal(await t.gql(ExtraUpdatePatientDocument, { id: p.id, version: 1, input: { birthDate: '1966-06-17' } }), 'BAD_USER_INPUT', 'birthDate');
    expect(await readPatient(p.id)).toMatchObject({ version: 1, birthDate: '1966-06-16' });
    // The same birth date is fine.
    const same = await t.gql(ExtraUpdatePatientDocument, { id: p.id, version: 1, input: { birthDate: '1966-06-16', phone: '13600000000' } });
    expect(same.errors).toBeUndefined();
  });

  test('a patient with a contract can move to another team, and can drop the contract with its dates', async () => {
    const p = await register({ name: '陈十三', familyDoctorTeamId: county.team.id, contractSignedOn: '2024-01-01', contractExpiresOn: '2025-01-01' });
    const res = await t.gql(ExtraUpdatePatientDocument, {
      id: p.id,
      version: 1,
      input: { familyDoctorTeamId: null, contractSignedOn: null, contractExpiresOn: null },
    });
    expect(res.errors).toBeUndefined();
    expect(res.data!.updatePatient).toMatchObject({ version: 2, familyDoctorTeam: null, contractSignedOn: null, contractExpiresOn: null });
  });
});

describe('addCondition', () => {
  let patientId: string;
  let birthDate: string;
  beforeAll(async () => {
    const p = await register({ name: '病情', identifiers: [{ system: SYSTEMS.residentId, value: residentId('1955-05-05', false) }] });
    patientId = p.id;
    birthDate = p.birthDate!;
  });

  const conditionCount = () => t.em().count(Condition, { patient: patientId });

  test.each([
    [ICD10, 'I10', 'HYPERTENSION', '高血压'],
    [ICD10, 'E11.9', 'TYPE_2_DIABETES', '2型糖尿病'],
    [SNOMED, '38341003', 'HYPERTENSION', '高血压'],
    [SNOMED, '44054006', 'TYPE_2_DIABETES', '2型糖尿病'],
    [ICD10_CN, 'J44.900', 'COPD', '慢性阻塞性肺疾病'],
    [ICD10, 'I69.3', 'STROKE', '脑卒中'],
    [ICD10, 'I25.1', 'CHD', '冠心病'],
    [ICD10, 'N18.3', 'CKD', '慢性肾脏病'],
  ])('%s %s is classified as %s', async (system, code, kind, display) => {
    const res = await t.gql(AddConditionDocument, { input: { patientId, system, code } });
    expect(res.errors).toBeUndefined();
    expect(res.data!.addCondition).toMatchObject({ kind, code, system, display, clinicalStatus: 'ACTIVE', verificationStatus: 'CONFIRMED' });
  });

  test('a well-formed code outside the programme is OTHER, keeps the display it was sent, and is stored', async () => {
    const res = await t.gql(AddConditionDocument, { input: { patientId, system: ICD10, code: 'K35.8', display: 'Acute appendicitis' } });
    expect(res.errors).toBeUndefined();
    expect(res.data!.addCondition).toMatchObject({ kind: 'OTHER', display: 'Acute appendicitis' });
    const read = await t.gql(ExtraPatientConditionsDocument, { id: patientId, kind: 'OTHER' });
    expect(read.data!.patient.conditions.map((c) => c.id)).toEqual([res.data!.addCondition.id]);
  });

  test('onset date, statuses and the confirming organisation are stored', async () => {
    const res = await t.gql(AddConditionDocument, {
      input: {
        patientId,
        system: ICD10,
        code: 'I11.9',
        onsetDate: '2015-03-01',
        clinicalStatus: 'REMISSION',
        confirmedByOrganizationId: county.county.id,
      },
    });
    expect(res.errors).toBeUndefined();
    const read = await t.gql(ExtraPatientConditionsDocument, { id: patientId });
    const stored = read.data!.patient.conditions.find((c) => c.id === res.data!.addCondition.id)!;
    expect(stored).toMatchObject({ kind: 'HYPERTENSION', onsetDate: '2015-03-01', clinicalStatus: 'REMISSION', confirmedBy: { id: county.county.id } });
    expect(stored.confirmedAt).not.toBeNull();
    const active = await t.gql(ExtraPatientConditionsDocument, { id: patientId, activeOnly: true });
    expect(active.data!.patient.conditions.map((c) => c.id)).not.toContain(stored.id);
  });

  test('an unknown code system is refused', async () => {
    const before = await conditionCount();
    expectRefusal(await t.gql(AddConditionDocument, { input: { patientId, system: 'http://example.org/codes', code: 'I10' } }), 'BAD_USER_INPUT', 'system');
    expectRefusal(await t.gql(AddConditionDocument, { input: { patientId, system: 'http://loinc.org', code: '1558-6' } }), 'BAD_USER_INPUT', 'system');
    expect(await conditionCount()).toBe(before);
  });

  test('a malformed code is refused', async () => {
    const before = await conditionCount();
    for (const [system, code] of [
      [ICD10, 'I1'],
      [ICD10, '10I'],
      [ICD10, 'I10..1'],
      [ICD10, 'hypertension'],
      [SNOMED, '38341'],
      [SNOMED, 'I10'],
      [SNOMED, ''],
    ] as const) {
      expectRefusal(await t.gql(AddConditionDocument, { input: { patientId, system, code } }), 'BAD_USER_INPUT', 'code');
    }
    expect(await conditionCount()).toBe(before);
  });

  test('an onset before birth or in the future is refused', async () => {
    const before = await conditionCount();
    expect(birthDate).toBe('1955-05-05');
    expectRefusal(await t.gql(AddConditionDocument, { input: { patientId, system: ICD10, code: 'I10', onsetDate: '1955-05-04' } }), 'BAD_USER_INPUT', 'onsetDate');
    expectRefusal(await t.gql(AddConditionDocument, { input: { patientId, system: ICD10, code: 'I10', onsetDate: isoDay(2) } }), 'BAD_USER_INPUT', 'onsetDate');
    expect(await conditionCount()).toBe(before);
    // The birth date itself is a possible onset.
    expect((await t.gql(AddConditionDocument, { input: { patientId, system: ICD10, code: 'I10', onsetDate: '1955-05-05' } })).errors).toBeUndefined();
  });

  test('an unknown patient or confirming organisation, or a confirmer on an unconfirmed diagnosis, is refused', async () => {
    const total = await t.em().count(Condition, {});
    expectRefusal(await t.gql(AddConditionDocument, { input: { patientId: MISSING_ID, system: ICD10, code: 'I10' } }), 'BAD_USER_INPUT', 'patientId');
    expectRefusal(await t.gql(AddConditionDocument, { input: { patientId: 'x', system: ICD10, code: 'I10' } }), 'BAD_USER_INPUT', 'patientId');
    expectRefusal(
      await t.gql(AddConditionDocument, { input: { patientId, system: ICD10, code: 'I10', confirmedByOrganizationId: MISSING_ID } }),
      'BAD_USER_INPUT',
      'confirmedByOrganizationId',
    );
    expectRefusal(
      await t.gql(AddConditionDocument, {
        input: { patientId, system: ICD10, code: 'I10', verificationStatus: 'PROVISIONAL', confirmedByOrganizationId: county.county.id },
      }),
      'BAD_USER_INPUT',
      'confirmedByOrganizationId',
    );
    expect(await t.em().count(Condition, {})).toBe(total);
  });
});
