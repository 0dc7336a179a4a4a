/**
 * Finding 2e of the outside security test: the audit's source address believed any `X-Forwarded-For` from a
 * loopback peer (`trust proxy: loopback`, fixed), so a client could write any address it liked into the trail.
 * Trusted proxies are configuration (TRUSTED_PROXIES), none by default: the source is the connection's peer
 * unless that peer is a proxy named there, and then the nearest address that is not a trusted proxy.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import os from 'node:os';
import supertest from 'supertest';
import { type App, createApp } from '../../src/app.js';
import { type Config, loadConfig, trustedProxies } from '../../src/config.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { type AccessCounty, buildAccessCounty } from '../helpers/access-fixtures.js';
import { auditRows, FHIR_JSON, requestId } from './audit-support.js';

let t: TestApp;
let c: AccessCounty;
const apps: App[] = [];

beforeAll(async () => {
  t = await startTestApp();
  c = await buildAccessCounty(t.em(), t.app.security.protector, 'SRC');
});
afterAll(async () => {
  for (const app of apps) await app.stop();
  await t?.close();
});

/** The app over the same database with TRUSTED_PROXIES as given. */
async function appTrusting(value: string | undefined): Promise<App> {
  const config: Config = loadConfig({ NODE_ENV: 'test', ...(value === undefined ? {} : { TRUSTED_PROXIES: value }) });
  const app = await createApp({ config, orm: t.orm, security: t.app.security });
  apps.push(app);
  return app;
}

const SPOOFED = '203.0.113.66';
const LOOPBACK = /^(::ffff:)?127\.0\.0\.1$|^::1$/;

/** A FHIR read through `app` from the loopback interface, with an X-Forwarded-For; the source address recorded. */
async function sourceOf(app: App, forwardedFor: string): Promise<string | null> {
  const id = requestId('source');
  const res = await supertest(app.express)
    .get(`/fhir/Patient/${c.patients.a1.id}`)
    .set('authorization', `Bearer ${t.adminToken}`)
    .set('accept', FHIR_JSON)
    .set('x-request-id', id)
    .set('x-forwarded-for', forwardedFor);
  expect(res.status).toBe(200);
  const rows = await auditRows(t, id);
  expect(rows).toHaveLength(1);
  return rows[0]!.source_ip;
}

test('by default no proxy is trusted: a spoofed X-Forwarded-For is not recorded, the peer is (FHIR and GraphQL)', async () => {
  const app = await appTrusting(undefined);
  expect(await sourceOf(app, SPOOFED)).toMatch(LOOPBACK);
  const id = requestId('source-gql');
  await supertest(app.express)
    .post('/graphql')
    .set('content-type', 'application/json')
    .set('authorization', `Bearer ${t.adminToken}`)
    .set('x-request-id', id)
    .set('x-forwarded-for', SPOOFED)
    .send({ query: `{ patient(id: "${c.patients.a1.id}") { id } }` });
  expect((await auditRows(t, id)).map((r) => r.source_ip)).toEqual([expect.stringMatching(LOOPBACK)]);
});

test('a trusted proxy (loopback) is believed, for the address it saw the request come from, never further', async () => {
  const app = await appTrusting('loopback');
  expect(await sourceOf(app, SPOOFED)).toBe(SPOOFED);
  // The client put an address of its own in front; the proxy appended the one it saw: that one is the source.
  expect(await sourceOf(app, `198.51.100.1, ${SPOOFED}`)).toBe(SPOOFED);
});

test('a proxy named by address or range is trusted; another peer is not', async () => {
  expect(await sourceOf(await appTrusting('127.0.0.1,::1'), SPOOFED)).toBe(SPOOFED);
  expect(await sourceOf(await appTrusting('10.0.0.0/8'), SPOOFED)).toMatch(LOOPBACK);
});

const external = Object.values(os.networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

(external ? test : test.skip)(`a peer that is not a trusted proxy (${external ?? 'no external interface'}) cannot name another source, even with loopback trusted`, async () => {
  const app = await appTrusting('loopback');
  const server: Server = await new Promise((resolve) => {
    const s = app.express.listen(0, '0.0.0.0', () => resolve(s));
  });
  try {
    const id = requestId('external');
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://${external}:${port}/fhir/Patient/${c.patients.a1.id}`, {
      headers: { authorization: `Bearer ${t.adminToken}`, accept: FHIR_JSON, 'x-request-id': id, 'x-forwarded-for': '127.0.0.1' },
    });
    expect(res.status).toBe(200);
    expect((await auditRows(t, id)).map((r) => r.source_ip)).toEqual([external]);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test('TRUSTED_PROXIES: addresses, ranges and names; none; a hop count or anything else refused at start-up', () => {
  expect(trustedProxies(undefined)).toEqual([]);
  expect(trustedProxies('none')).toEqual([]);
  expect(trustedProxies(' loopback , 10.0.0.0/8, fd00::/8 ,192.0.2.1')).toEqual(['loopback', '10.0.0.0/8', 'fd00::/8', '192.0.2.1']);
  for (const bad of ['1', 'true', '*', '10.0.0.0/33', 'proxy.example.org']) expect(() => loadConfig({ NODE_ENV: 'test', TRUSTED_PROXIES: bad })).toThrow(/TRUSTED_PROXIES/);
});
