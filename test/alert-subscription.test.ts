import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { asInternal } from '../src/access/index.js';
import { loadConfig } from '../src/config.js';
import type { EntityManager } from '../src/db/orm.js';
import type { EventWorker } from '../src/events/consumer.js';
import { eventWorker } from '../src/events/consumers.js';
import { startCountyApp, type TestApp } from './helpers/app.js';
import type { County } from './helpers/fixtures.js';
import { AddConditionDocument, RecordObservationDocument, RegisterPatientDocument, UrgentAlertRaisedDocument, type UrgentAlertRaisedSubscription } from './generated/graphql.js';

// The urgent-alert subscription end to end: a real HTTP server, graphql-ws clients over real WebSockets, the server's
// event worker deriving alerts from the reading's event, the feed reading them from the outbox.

let t: TestApp;
let county: County;
let server: Server;
let worker: EventWorker;
let url: string;
const clients: Client[] = [];

beforeAll(async () => {
  ({ t, county } = await startCountyApp('SUB'));
  server = t.app.express.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  t.app.serveSubscriptions(server);
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  worker = eventWorker(asInternal(t.orm.em.fork() as EntityManager), loadConfig({ NODE_ENV: 'test' })).start();
});
afterAll(async () => {
  for (const c of clients) await c.dispose();
  await worker?.stop();
  await t?.app.closeSubscriptions();
  await new Promise((resolve) => server?.close(resolve));
  await t?.close();
});

type Pushed = NonNullable<UrgentAlertRaisedSubscription['urgentAlertRaised']>;

/** Subscribes with this bearer token; what arrives is collected, with when it arrived. */
function subscribe(token: string, organizationId?: string) {
  const received: Array<{ alert: Pushed; at: number }> = [];
  const state = { error: undefined as unknown, completed: false, closeCode: undefined as number | undefined };
  let connected!: () => void;
  const ready = new Promise<void>((resolve) => (connected = resolve));
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {},
    on: { connected: () => connected(), closed: (e) => void (state.closeCode = (e as { code?: number }).code) },
  });
  clients.push(client);
  client.subscribe<UrgentAlertRaisedSubscription>(
    { query: print(UrgentAlertRaisedDocument), variables: { organizationId } },
    {
      next: (r) => {
        if (r.data?.urgentAlertRaised) received.push({ alert: r.data.urgentAlertRaised, at: Date.now() });
        if (r.errors) state.error = r.errors;
      },
      error: (e) => void (state.error = e),
      complete: () => void (state.completed = true),
    },
  );
  return { received, state, ready, client };
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return check();
}

test('a bad token is refused: the socket closes with 4403', async () => {
  const refused = subscribe('not-a-token');
  expect(await until(() => refused.state.closeCode !== undefined, 2000)).toBe(true);
  expect(refused.state.closeCode).toBe(4403);
  expect(refused.received).toEqual([]);
});

test('a token that expires while subscribed is shown nothing more: the socket closes with 4403', async () => {
  const claims = { ncd_kind: 'user' as const, roles: ['VILLAGE_DOCTOR'], org: county.village.code, practitioner: county.villageDoctor.code };
  const signedAt = Date.now();
  // Long enough to connect on a loaded machine (an expired token would be refused at connection, never ready).
  const shortLived = await t.app.security.tokens.sign(claims, 'short-lived-vd', 6);
  const lasting = await t.tokenFor({ roles: ['VILLAGE_DOCTOR'], org: county.village.code, practitioner: county.villageDoctor.code, sub: 'lasting-vd' });
  const patientId = (await t.ok(RegisterPatientDocument, { input: { name: '期', gender: 'MALE', birthDate: '1952-01-01', managingOrganizationId: county.village.id } })).registerPatient.id;
  await t.ok(AddConditionDocument, { input: { patientId, code: 'I10', system: 'http://hl7.org/fhir/sid/icd-10' } });
  const expiring = subscribe(shortLived);
  const control = subscribe(lasting);
  await Promise.all([expiring.ready, control.ready]);
  await new Promise((r) => setTimeout(r, Math.max(300, signedAt + 6500 - Date.now())));

  await t.ok(RecordObservationDocument, { input: { patientId, kind: 'BLOOD_PRESSURE', systolic: 195, diastolic: 112, effectiveAt: new Date(Date.now() - 60_000).toISOString() } }, lasting);
  expect(await until(() => control.received.some((r) => r.alert.patient.id === patientId), 2000)).toBe(true);
  expect(await until(() => expiring.state.closeCode !== undefined, 1000)).toBe(true);
  expect(expiring.state.closeCode).toBe(4403);
  expect(expiring.received).toEqual([]);
  await Promise.all([expiring.client.dispose(), control.client.dispose()]);
});

test('the socket has the HTTP limits: an operation over the alias limit is refused, a message over the body limit closes it', async () => {
  const vd = await t.tokenFor({ roles: ['VILLAGE_DOCTOR'], org: county.village.code, practitioner: county.villageDoctor.code });
  const errors: unknown[] = [];
  const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${vd}` }, retryAttempts: 0 });
  clients.push(client);
  const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: kind`).join(' ');
  client.subscribe({ query: `subscription { urgentAlertRaised { id ${aliases} } }` }, { next: () => {}, error: (e) => void errors.push(e), complete: () => {} });
  expect(await until(() => errors.length > 0, 2000)).toBe(true);
  expect(JSON.stringify(errors[0])).toContain('QUERY_TOO_MANY_ALIASES');

  const closed: number[] = [];
  const big = createClient({ url, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${vd}` }, retryAttempts: 0, on: { closed: (e) => void closed.push((e as { code: number }).code) } });
  clients.push(big);
  big.subscribe({ query: `subscription { urgentAlertRaised { id } } # ${'x'.repeat(1_100_000)}` }, { next: () => {}, error: () => {}, complete: () => {} });
  expect(await until(() => closed.length > 0, 3000)).toBe(true);
  expect(closed[0]).toBe(1009);
  await Promise.all([client.dispose(), big.dispose()]);
});

test('an urgent reading reaches the subscribers who may see it within a second; another organisation hears nothing', async () => {
  const vd = await t.tokenFor({ roles: ['VILLAGE_DOCTOR'], org: county.village.code, practitioner: county.villageDoctor.code });
  const gp = await t.tokenFor({ roles: ['GENERAL_PRACTITIONER'], org: county.township.code, practitioner: county.gp.code, sub: 'township-gp' });
  const other = await t.tokenFor({ roles: ['VILLAGE_DOCTOR'], org: county.otherVillage.code, sub: 'other-village' });
  const patientId = (await t.ok(RegisterPatientDocument, { input: { name: '急', gender: 'FEMALE', birthDate: '1950-01-01', managingOrganizationId: county.village.id } })).registerPatient.id;
  await t.ok(AddConditionDocument, { input: { patientId, code: 'I10', system: 'http://hl7.org/fhir/sid/icd-10' } });

  const village = subscribe(vd);
  const township = subscribe(gp, county.township.id);
  const elsewhere = subscribe(other);
  await Promise.all([village.ready, township.ready, elsewhere.ready]);
  // graphql-ws acknowledges the connection before the subscription is set up on the server: give it a moment.
  await new Promise((r) => setTimeout(r, 300));

  const reading = await t.ok(RecordObservationDocument, { input: { patientId, kind: 'BLOOD_PRESSURE', systolic: 192, diastolic: 114, effectiveAt: new Date(Date.now() - 60_000).toISOString() } }, vd);
  // From the reading's answer (it is committed): the event, the rules, the alert's event, the push.
  const committed = Date.now();
  expect(await until(() => village.received.length > 0 && township.received.length > 0, 1000)).toBe(true);
  expect(village.received[0]!.at - committed).toBeLessThan(1000);
  expect(village.received.map((r) => r.alert)).toMatchObject([{ kind: 'URGENT_REFERRAL', severity: 'URGENT', state: 'OPEN', causeId: reading.recordObservation.id, patient: { id: patientId }, organization: { id: county.village.id } }]);
  expect(township.received.map((r) => r.alert.causeId)).toEqual([reading.recordObservation.id]);
  await new Promise((r) => setTimeout(r, 700));
  expect(elsewhere.received).toEqual([]);
  expect(village.received).toHaveLength(1);
  expect([village, township, elsewhere].map((s) => s.state.error)).toEqual([undefined, undefined, undefined]);

  // Each push is audited as a read of its patient (written by the audit's group commit: flushed first).
  const pushesAudited = async () => {
    await t.app.audit.flush();
    const rows = (await t.em().execute(`select count(*)::int as n from audit_event where what = 'subscription urgentAlertRaised' and ? = any(patient_ids)`, [patientId])) as Array<{ n: number }>;
    return rows[0]!.n;
  };
  let audited = await pushesAudited();
  for (let i = 0; i < 20 && audited < 2; i++) audited = await new Promise((r) => setTimeout(r, 100)).then(pushesAudited);
  expect(audited).toBe(2);

  // app.stop() (and a graceful shutdown, first) ends the subscriptions.
  await t.app.closeSubscriptions();
  expect(await until(() => village.state.completed || village.state.closeCode !== undefined, 2000)).toBe(true);
});
