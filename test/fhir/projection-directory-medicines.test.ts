/**
 * What hospitals' directory, insurance, consent and medicine resources become: the shared FHIR data (SOURCES.md
 * load order) and resources written like it, imported through /fhir, then read in GraphQL as what they are —
 * a practitioner's roles, a care team, a grid, a membership, a consent decision, the patient's medicines. What the
 * domain cannot hold (a payor known by name only, a Location that is no grid) stays in the FHIR store, with a warning.
 */
import type { Bundle, CareTeam, Consent, Coverage, Location, MedicationRequest, MedicationStatement, OperationOutcome, PractitionerRole, Resource } from '@medplum/fhirtypes';
import { deepEqual, medicationStatusOf, refOf } from '../../fhir-mappings/index.js';
import { medicationRequestMapping } from '../../fhir-mappings/medication.js';
import { NCD_EXTENSIONS, NCD_SYSTEMS } from '../../fhir-mappings/codes.js';
import { withoutServerFields } from '../../fhir-mappings/test-support/shared-data.js';
import { countyToday } from '../../src/care-rules/calendar.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CareTeamFromFhirDocument, OrganizationGridsDocument, PatientCoverageConsentDocument, PatientMedicinesDocument, PractitionerRolesDocument } from '../generated/graphql.js';
import { get, importNewYork, importSmart, newLog, readJson, send, type ImportLog, type Sent } from './support.js';

let t: TestApp;
const log: ImportLog = newLog();

beforeAll(async () => {
  t = await startTestApp();
  await importNewYork(t, log);
  await importSmart(t, log);
}, 900_000);
afterAll(() => t?.close());

const sentOf = <R extends Resource>(type: R['resourceType']) => log.sent.filter((s) => s.resource.resourceType === type) as Array<Sent & { resource: R }>;
/** The server's `Type/id` for what a sender's reference names (fullUrl, Type/id, or a conditional reference). */
const serverRef = (ref: string | undefined): string | undefined => {
  if (!ref) return undefined;
  const known = log.byKey.get(ref);
  if (known) return known;
  const m = /^([A-Z][A-Za-z]+)\?identifier=([^|]+)\|(.+)$/.exec(ref);
  if (!m) return undefined;
  const hits = log.sent.filter(
    (s) => s.resource.resourceType === m[1] && ((s.resource as { identifier?: Array<{ system?: string; value?: string }> }).identifier ?? []).some((i) => i.system === m[2] && i.value === m[3]),
  );
  return hits.length ? `${m[1]}/${hits[0]!.serverId}` : undefined;
};
const idIn = (ref: string | undefined) => serverRef(ref)?.split('/')[1];
const entryOutcome = (res: { body: unknown }) => (res.body as { resourceType: string }).resourceType;

describe('medicines', () => {
  test('every MedicationRequest of the shared data is one of its patient’s medicines, named, classed, with its status and start', async () => {
    const requests = sentOf<MedicationRequest>('MedicationRequest');
    expect(requests.length).toBeGreaterThan(70);
    const byPatient = new Map<string, typeof requests>();
    for (const r of requests) {
      const patientId = idIn(r.resource.subject.reference)!;
      expect(patientId).toBeDefined();
      byPatient.set(patientId, [...(byPatient.get(patientId) ?? []), r]);
    }
    const today = countyToday();
    for (const [patientId, sent] of byPatient) {
      const { patient } = await t.ok(PatientMedicinesDocument, { id: patientId });
      const all = new Map(patient.all.map((m) => [m.id, m]));
      expect(all.size).toBe(sent.length);
      for (const r of sent) {
        const shape = medicationRequestMapping.fromFhir(r.resource).domain;
        const got = all.get(r.serverId);
        // A medicine by reference (the Synthea NY eye drops) is known by the referenced Medication's code.
        const medicine = r.resource.medicationReference ? (sentOf('Medication').find((m) => `Medication/${m.serverId}` === serverRef(r.resource.medicationReference!.reference))?.resource as { code?: { text?: string; coding?: Array<{ code?: string }> } }) : undefined;
        expect({ id: r.serverId, got }).toEqual({
          id: r.serverId,
          got: {
            id: r.serverId,
            name: medicine?.code?.text ?? shape.text ?? shape.display,
            code: medicine?.code?.coding?.[0]?.code ?? shape.code,
            drugClass: shape.drugClass,
            status: medicationStatusOf(shape.status),
            since: shape.authoredOn,
            until: null,
          },
        });
      }
      const current = sent.filter((r) => r.resource.status === 'active').map((r) => r.serverId).sort();
      expect(patient.current.map((m) => m.id).sort()).toEqual(current);
      for (const m of patient.current) expect(m.until === null || m.until >= today).toBe(true);
    }
    // The antihypertensives, metformin and statins of the hypertensive and diabetic patients are among them.
    const classes = new Set<string>();
    for (const patientId of byPatient.keys()) for (const m of (await t.ok(PatientMedicinesDocument, { id: patientId })).patient.all) classes.add(m.drugClass);
    expect([...classes].sort()).toEqual(['ANTIDIABETIC', 'ANTIHYPERTENSIVE', 'LIPID_LOWERING', 'OTHER']);
  });

  test('a MedicationStatement is a medicine too; ended, stopped or entered in error it is no current one', async () => {
    const patientId = sentOf('Patient')[0]!.serverId;
    const statement = (over: Partial<MedicationStatement>): MedicationStatement => ({
      resourceType: 'MedicationStatement',
      status: 'active',
      medicationCodeableConcept: { coding: [{ system: 'http://www.whocc.no/atc', code: 'C08CA01', display: 'amlodipine' }], text: '氨氯地平片 5mg' },
      subject: { reference: `Patient/${patientId}` },
      effectivePeriod: { start: '2026-01-10' },
      dosage: [{ text: '每日一次，每次一片' }],
      ...over,
    });
    const current = await send(t, 'post', '/fhir/MedicationStatement', statement({}));
    const ended = await send(t, 'post', '/fhir/MedicationStatement', statement({ effectivePeriod: { start: '2025-01-10', end: '2025-06-30' } }));
    const wrong = await send(t, 'post', '/fhir/MedicationStatement', statement({}));
    for (const r of [current, ended, wrong]) expect(r.status).toBe(201);
    const wrongId = (wrong.body as Resource).id!;
    expect((await send(t, 'put', `/fhir/MedicationStatement/${wrongId}`, { ...statement({ status: 'entered-in-error' }), id: wrongId })).status).toBe(200);
    const { patient } = await t.ok(PatientMedicinesDocument, { id: patientId });
    const mine = (list: Array<{ id: string }>) => list.filter((m) => [current, ended, wrong].some((r) => (r.body as Resource).id === m.id));
    expect(mine(patient.current)).toEqual([
      { id: (current.body as Resource).id, name: '氨氯地平片 5mg', code: 'C08CA01', system: 'http://www.whocc.no/atc', drugClass: 'ANTIHYPERTENSIVE', status: 'ACTIVE', dosage: '每日一次，每次一片', since: '2026-01-10', until: null },
    ]);
    expect(mine(patient.all).map((m) => m.id).sort()).toEqual([(current.body as Resource).id, (ended.body as Resource).id].sort());
  });

  test('a prescription naming its patient by an identifier this server does not hold is stored, with a warning, and nowhere in the domain', async () => {
    // The HL7 example names Patient/pat1, a literal reference the store refuses (no such patient); by identifier it is valid and unresolved.
    const example = readJson<MedicationRequest>('hl7-r4-examples/medicationrequestexample2.json');
    const literal = await send(t, 'post', '/fhir/MedicationRequest', example);
    expect(literal.status).toBe(422);
    const byIdentifier = { ...example, subject: { identifier: { system: 'http://www.bmc.nl/portal/patients', value: 'pat1' }, display: 'Donald Duck' } };
    const res = await send(t, 'post', '/fhir', { resourceType: 'Bundle', type: 'batch', entry: [{ resource: byIdentifier, request: { method: 'POST', url: 'MedicationRequest' } }] });
    expect(res.status).toBe(200);
    const entry = (res.body as Bundle).entry![0]!;
    expect(entry.response?.status).toBe('201');
    expect((entry.response?.outcome as OperationOutcome).issue?.map((i) => i.severity)).toContain('warning');
    const rows = (await t.em().getConnection().execute('select count(*)::int as n from medication_use where id = ?', [/([0-9a-f-]{36})/.exec(entry.response!.location!)![1]])) as Array<{ n: number }>;
    expect(rows[0]!.n).toBe(0);
  });
});

describe('the directory', () => {
  test('every PractitionerRole of the shared data is its practitioner’s role at its organisation', async () => {
    const roles = sentOf<PractitionerRole>('PractitionerRole');
    expect(roles.length).toBeGreaterThan(400);
    const failures: string[] = [];
    for (const r of roles) {
      const practitionerId = idIn(refOf(r.resource.practitioner, 'Practitioner'));
      const organizationId = idIn(refOf(r.resource.organization, 'Organization'));
      const { practitioner } = await t.ok(PractitionerRolesDocument, { id: practitionerId! });
      const got = practitioner.roles.find((x) => x.id === r.serverId);
      const want = { id: r.serverId, role: 'GENERAL_PRACTITIONER', specialty: 'General Practice Physician', organization: { id: organizationId } };
      if (!deepEqual(got, want)) failures.push(`${r.key}: ${JSON.stringify(got)}`);
    }
    expect(failures.slice(0, 5)).toEqual([]);
  });

  test('every CareTeam of the shared data is a team of its organisation, its practitioner a member in the role they hold', async () => {
    const teams = sentOf<CareTeam>('CareTeam');
    expect(teams.length).toBeGreaterThan(10);
    for (const team of teams) {
      const { careTeam } = await t.ok(CareTeamFromFhirDocument, { id: team.serverId });
      const practitioners = (team.resource.participant ?? []).map((p) => serverRef(refOf(p.member))).filter((ref) => ref?.startsWith('Practitioner/'));
      expect(careTeam.organization.id).toBe(idIn(refOf(team.resource.managingOrganization![0], 'Organization')));
      const members = careTeam.members.map((m) => `Practitioner/${m.practitioner.id}`);
      expect(members.sort()).toEqual(team.resource.status === 'active' ? practitioners.sort() : []);
      for (const m of careTeam.members) expect(m.practitioner.roles.map((r) => r.role)).toContain(m.role);
    }
  });

  test('Synthea Locations are sites, not grids: stored, no grid; a Location with a grid kind is a grid of its organisation', async () => {
    const locations = sentOf<Location>('Location');
    expect(locations.length).toBeGreaterThan(400);
    const rows = (await t.em().getConnection().execute('select count(*)::int as n from grid')) as Array<{ n: number }>;
    expect(rows[0]!.n).toBe(0);
    const orgId = idIn(refOf(locations[0]!.resource.managingOrganization, 'Organization'))!;
    const grid: Location = {
      resourceType: 'Location',
      identifier: [{ system: NCD_SYSTEMS.gridCode, value: 'NY-GRID-01' }],
      status: 'active',
      name: '西17街网格',
      mode: 'kind',
      type: [{ coding: [{ system: NCD_SYSTEMS.gridKind, code: 'URBAN_BLOCK' }] }],
      managingOrganization: { reference: `Organization/${orgId}` },
    };
    const res = await send(t, 'post', '/fhir/Location', grid);
    expect(res.status).toBe(201);
    const { organization } = await t.ok(OrganizationGridsDocument, { id: orgId });
    expect(organization.grids).toEqual([{ id: (res.body as Resource).id, code: 'NY-GRID-01', name: '西17街网格', kind: 'URBAN_BLOCK' }]);

    // A family-doctor team on that grid, its GP named with our role code.
    const gp = sentOf<PractitionerRole>('PractitionerRole').find((r) => idIn(refOf(r.resource.organization, 'Organization')) === orgId) ?? sentOf<PractitionerRole>('PractitionerRole')[0]!;
    const gpId = idIn(refOf(gp.resource.practitioner, 'Practitioner'))!;
    const team: CareTeam = {
      resourceType: 'CareTeam',
      extension: [{ url: NCD_EXTENSIONS.grid, valueReference: { reference: `Location/${(res.body as Resource).id}` } }],
      status: 'active',
      name: '西17街家庭医生团队',
      participant: [{ role: [{ coding: [{ system: NCD_SYSTEMS.practitionerRole, code: 'GENERAL_PRACTITIONER' }] }], member: { reference: `Practitioner/${gpId}` } }],
      managingOrganization: [{ reference: `Organization/${orgId}` }],
    };
    const teamRes = await send(t, 'post', '/fhir/CareTeam', team);
    expect(teamRes.status).toBe(201);
    const { careTeam } = await t.ok(CareTeamFromFhirDocument, { id: (teamRes.body as Resource).id! });
    expect(careTeam).toMatchObject({ name: '西17街家庭医生团队', organization: { id: orgId }, grid: { id: (res.body as Resource).id, code: 'NY-GRID-01' }, members: [{ role: 'GENERAL_PRACTITIONER', practitioner: { id: gpId } }] });
  });
});

describe('insurance and consent', () => {
  test('a Coverage naming an insurer of the domain is the patient’s membership; one naming its payor by name only is stored with a warning', async () => {
    const patient = sentOf('Patient')[0]!;
    const insurer = await send(t, 'post', '/fhir/Organization', { resourceType: 'Organization', identifier: [{ system: 'https://example.org/insurers', value: 'MEDICAID-NY' }], name: 'Medicaid', type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'ins' }] }] });
    expect(insurer.status).toBe(201);
    // As Synthea's EOBs carry it (contained), with the payor named by reference and a member number.
    const coverage: Coverage = {
      resourceType: 'Coverage',
      status: 'active',
      type: { text: 'Medicaid' },
      subscriberId: 'NY-0001234',
      beneficiary: { reference: `Patient/${patient.serverId}` },
      period: { start: '2020-01-01' },
      payor: [{ reference: `Organization/${(insurer.body as Resource).id}`, display: 'Medicaid' }],
    };
    const res = await send(t, 'post', '/fhir/Coverage', coverage);
    expect(res.status).toBe(201);
    const byName = await send(t, 'post', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Coverage', status: 'active', type: { text: 'Medicaid' }, beneficiary: { reference: `Patient/${patient.serverId}` }, payor: [{ display: 'Medicaid' }] }, request: { method: 'POST', url: 'Coverage' } }] });
    expect(byName.status).toBe(200);
    const entry = (byName.body as Bundle).entry![0]!;
    expect((entry.response?.outcome as OperationOutcome).issue).toEqual([expect.objectContaining({ severity: 'warning', expression: ['Coverage.payor'] })]);

    const consent: Consent = {
      resourceType: 'Consent',
      status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'research' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      patient: { reference: `Patient/${patient.serverId}` },
      dateTime: '2026-03-01T10:00:00+08:00',
      policy: [{ uri: 'https://example.org/policy/research' }],
      provision: { type: 'deny', period: { start: '2026-03-01' } },
    };
    const consentRes = await send(t, 'post', '/fhir/Consent', consent);
    expect(consentRes.status).toBe(201);

    const { patient: p } = await t.ok(PatientCoverageConsentDocument, { id: patient.serverId });
    expect(p.coverages).toEqual([{ id: (res.body as Resource).id, memberNumber: 'NY-0001234', plan: 'Medicaid', status: 'ACTIVE', periodStart: '2020-01-01', periodEnd: null, insurer: { id: (insurer.body as Resource).id } }]);
    expect(p.consents).toEqual([{ id: (consentRes.body as Resource).id, purpose: 'RESEARCH', decision: 'DENY', periodStart: '2026-03-01', periodEnd: null, note: null }]);

    // Withdrawn as a record (inactive), the decision no longer counts; the store keeps every version.
    const id = (consentRes.body as Resource).id!;
    expect((await send(t, 'put', `/fhir/Consent/${id}`, { ...consent, id, status: 'inactive' })).status).toBe(200);
    expect((await t.ok(PatientCoverageConsentDocument, { id: patient.serverId })).patient.consents).toEqual([]);

    // $everything returns each as sent.
    const everything = await get(t, `/fhir/Patient/${patient.serverId}/$everything?_count=1000`);
    const returned = ((everything.body as Bundle).entry ?? []).map((e) => e.resource!);
    for (const [sent, body] of [[coverage, res.body], [{ ...consent, status: 'inactive' }, consentRes.body]] as const) {
      const back = returned.find((r) => r.id === (body as Resource).id);
      expect(withoutServerFields(back!)).toEqual(withoutServerFields(sent as Resource));
    }
    expect(entryOutcome(everything)).toBe('Bundle');
  });
});
