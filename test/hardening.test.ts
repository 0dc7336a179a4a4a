import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import supertest from 'supertest';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { type AccessCounty, buildAccessCounty } from './helpers/access-fixtures.js';
import { MISSING_ID } from './helpers/fixtures.js';
import { AccessDepthTenDocument, AccessTooCostlyDocument, AccessTooDeepDocument, AccessTooManyAliasesDocument } from './generated/graphql.js';

const ALLOWED_ORIGIN = 'https://clinic.example';

let t: TestApp;
let c: AccessCounty;
/** The same service configured as in production (introspection off, no stack traces, CSP on), over the same database. */
let production: App;
let prod: ReturnType<typeof supertest>;
let gp: string;

beforeAll(async () => {
  t = await startTestApp();
  c = await buildAccessCounty(t.em(), t.app.security.protector, 'HRD');
  gp = await t.tokenFor({ sub: 'hardening-gp', roles: ['GENERAL_PRACTITIONER'], org: c.orgs.A.code, practitioner: c.people.gp.code });
  const base = loadConfig({ NODE_ENV: 'test' });
  production = await createApp({
    config: { ...base, env: 'production', http: { ...base.http, corsOrigins: [ALLOWED_ORIGIN] } },
    orm: t.orm,
    security: t.app.security,
  });
  prod = supertest(production.express);
});
afterAll(async () => {
  await production?.stop();
  await t?.close();
});

type Body = { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };

async function post<R, V>(doc: TypedDocumentNode<R, V> | string, token = t.adminToken, http: ReturnType<typeof supertest> = t.http) {
  const res = await http
    .post('/graphql')
    .set('content-type', 'application/json')
    .set('authorization', `Bearer ${token}`)
    .send({ query: typeof doc === 'string' ? doc : print(doc) });
  return { status: res.status, body: res.body as Body, headers: res.headers };
}

/** Statements other than the authenticator's look-ups of the token's organisation and practitioner. */
const dataQueries = () => t.queries.filter((q) => !/^select "\w+"\.\* from "(organization|practitioner)" as "\w+" where "\w+"\."code" = \? limit \?/.test(q));

describe('query limits are enforced while validating, before any SQL', () => {
  test.each([
    ['over-deep (depth 12, limit 10)', AccessTooDeepDocument, /nested 12 levels deep, over the limit of 10/, { code: 'QUERY_TOO_DEEP', depth: 12, limit: 10 }],
    ['over-costly (a wide page of 200)', AccessTooCostlyDocument, /estimated cost is 40544, over the limit of 30000/, { code: 'QUERY_TOO_COSTLY', cost: 40544, limit: 30000 }],
    ['too many aliases (16, limit 15)', AccessTooManyAliasesDocument, /16 aliases, over the limit of 15/, { code: 'QUERY_TOO_MANY_ALIASES', aliases: 16, limit: 15 }],
  ] as const)('%s is refused, with its own code', async (_name, doc, message, extensions) => {
    t.queries.length = 0;
    const res = await post(doc as TypedDocumentNode<unknown, unknown>);
    expect(res.status).toBe(400);
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors![0]!.message).toMatch(message);
    expect(res.body.errors![0]!.message).not.toMatch(/Syntax Error/);
    // The code and figures, and no stack trace: a refusal is not a fault.
    expect(res.body.errors![0]!.extensions).toEqual(extensions);
    // Not one statement: no patient read, no count, not even an audit insert.
    expect(t.queries).toEqual([]);
  });

  test('with a token that names an organisation, only the authenticator looks anything up', async () => {
    t.queries.length = 0;
    const res = await post(AccessTooDeepDocument, gp);
    expect(res.status).toBe(400);
    expect(t.queries.length).toBeGreaterThan(0);
    expect(dataQueries()).toEqual([]);
  });

  test('a query at the depth limit is served (the control)', async () => {
    const res = await post(AccessDepthTenDocument);
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
  });

  test('too many directives, and too many tokens, are refused with their own codes (tokens while parsing: a 400, not a 500)', async () => {
    t.queries.length = 0;
    const directives = await post(`{ viewer { ${'subject @include(if: true) '.repeat(21)}} }`);
    expect(directives.status).toBe(400);
    expect(directives.body.errors).toEqual([{ message: 'The query uses 21 directives, over the limit of 20.', extensions: { code: 'QUERY_TOO_MANY_DIRECTIVES', directives: 21, limit: 20 } }]);
    const tokens = await post(`{ ${'viewer { subject } '.repeat(1000)}}`);
    expect(tokens.status).toBe(400);
    expect(tokens.body.errors).toEqual([{ message: 'The document has more than 3000 tokens: send a smaller query.', extensions: { code: 'QUERY_TOO_MANY_TOKENS', limit: 3000 } }]);
    expect(t.queries).toEqual([]);
    // Just under the token limit is parsed (2,996 tokens), and then refused for its aliases, not its length.
    const under = await post(`{ ${Array.from({ length: 499 }, (_, i) => `a${i}: viewer { subject }`).join(' ')} }`);
    expect(under.body.errors![0]!.extensions?.code).toBe('QUERY_TOO_MANY_ALIASES');
  });

  test('field suggestions are not given away', async () => {
    const res = await post('{ patiens(first: 1) { totalCount } }');
    expect(res.status).toBe(400);
    expect(res.body.errors![0]!.message).not.toMatch(/Did you mean/);
  });

  test('batched requests are refused', async () => {
    const res = await t.http
      .post('/graphql')
      .set('content-type', 'application/json')
      .set('authorization', `Bearer ${t.adminToken}`)
      .send([{ query: '{ viewer { subject } }' }, { query: '{ viewer { subject } }' }]);
    expect(res.status).toBe(400);
  });
});

describe('HTTP', () => {
  test('a request body over the limit (1mb) → 413', async () => {
    t.queries.length = 0;
    const res = await t.http
      .post('/graphql')
      .set('content-type', 'application/json')
      .set('authorization', `Bearer ${t.adminToken}`)
      .send({ query: '{ viewer { subject } }', variables: { padding: 'x'.repeat(1024 * 1024 + 1) } });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ errors: [{ message: 'The request body is over the 1mb limit.', extensions: { code: 'BAD_REQUEST' } }] });
    expect(dataQueries()).toEqual([]);
    // Just under the limit is read (and then refused for the unknown variable, not for its size).
    const under = await t.http
      .post('/graphql')
      .set('content-type', 'application/json')
      .set('authorization', `Bearer ${t.adminToken}`)
      .send({ query: '{ viewer { subject } }', variables: { padding: 'x'.repeat(1000 * 1000) } });
    expect(under.status).toBe(200);
  });

  test('a body that is not JSON, or not JSON the server reads: GraphQL-shaped errors, not an HTML page', async () => {
    const send = (body: string, headers: Record<string, string> = {}) => {
      let req = t.http.post('/graphql').set('content-type', 'application/json').set('authorization', `Bearer ${t.adminToken}`);
      for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
      return req.send(body);
    };
    for (const [body, headers, status] of [
      ['{"query": ', {}, 400],
      ['{"query": "{ viewer { subject } }",}', {}, 400],
      ['"just a string"', {}, 400],
      ['{}', { 'content-type': 'application/json; charset=latin2' }, 415],
      ['{}', { 'content-encoding': 'compress-me' }, 415],
    ] as const) {
      const res = await send(body, headers);
      expect({ status: res.status, type: res.headers['content-type'] }).toEqual({ status, type: 'application/json; charset=utf-8' });
      expect(res.body).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'BAD_REQUEST' } }] });
      expect(res.text).not.toMatch(/<html|at \w+ \(/);
    }
    expect((await send('{"query": ')).body.errors[0].message).toMatch(/^The request body is not valid JSON: /);
  });

  test('security headers are set and the framework is not named', async () => {
    const res = await t.http.get('/health');
    expect(res.status).toBe(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(res.headers['x-powered-by']).toBeUndefined();
    // The development Sandbox needs scripts from Apollo's CDN: no CSP there; production has one.
    const prodRes = await prod.get('/health');
    expect(prodRes.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(prodRes.headers['x-content-type-options']).toBe('nosniff');
  });

  test('CORS: an origin not in the allow-list gets no Access-Control-Allow-Origin', async () => {
    // The test configuration allows no origin at all.
    const res = await t.http.post('/graphql').set('origin', 'https://evil.example').set('authorization', `Bearer ${t.adminToken}`).send({ query: '{ viewer { subject } }' });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    // Production allows the listed origin and no other, for requests and for preflights.
    const evil = await prod.options('/graphql').set('origin', 'https://evil.example').set('access-control-request-method', 'POST');
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
    const evilPost = await prod.post('/graphql').set('origin', 'https://evil.example').set('authorization', `Bearer ${t.adminToken}`).send({ query: '{ viewer { subject } }' });
    expect(evilPost.headers['access-control-allow-origin']).toBeUndefined();
    const allowed = await prod.options('/graphql').set('origin', ALLOWED_ORIGIN).set('access-control-request-method', 'POST');
    expect(allowed.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();
  });
});

describe('production configuration', () => {
  test('introspection is disabled', async () => {
    const res = await post('{ __schema { types { name } } }', t.adminToken, prod);
    expect(res.status).toBe(400);
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors![0]!.message).toMatch(/introspection/i);
    expect(res.body.errors![0]!.extensions?.stacktrace).toBeUndefined();
    // … and enabled in development, where tools use it.
    const dev = await post('{ __schema { types { name } } }');
    expect(dev.status).toBe(200);
    expect(dev.body.errors).toBeUndefined();
  });

  test('errors carry no stack trace', async () => {
    const invalid = '{ patients(first: 1) { nosuchfield } }';
    // In development a validation error carries its stack trace; in production it does not.
    expect((await post(invalid)).body.errors![0]!.extensions?.stacktrace).toEqual(expect.any(Array));
    const prodInvalid = await post(invalid, t.adminToken, prod);
    expect(prodInvalid.status).toBe(400);
    expect(prodInvalid.body.errors![0]!.extensions?.stacktrace).toBeUndefined();
    const notFound = await post(`{ patient(id: "${MISSING_ID}") { id } }`, t.adminToken, prod);
    expect(notFound.body.errors![0]!.extensions).toEqual({ code: 'NOT_FOUND' });
    const unauthenticated = await prod.post('/graphql').send({ query: '{ viewer { subject } }' });
    expect(unauthenticated.status).toBe(401);
    expect(JSON.stringify(unauthenticated.body)).not.toMatch(/stack|at \w+ \(/);
  });

  test('no Sandbox landing page without a token', async () => {
    const res = await prod.get('/graphql').set('accept', 'text/html');
    expect(res.status).toBe(401);
  });

  test('loadConfig refuses to start in production without an identity provider and keys', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/Refusing to start in production.*OIDC_ISSUER.*SIGNING_KEY_JWK.*IDENTIFIER_KEY.*PUBLIC_URL/);
    expect(() => loadConfig({ NODE_ENV: 'production', OIDC_ISSUER: 'https://idp.example' })).toThrow(/OIDC_JWKS_URL or OIDC_JWKS/);
    const ready = loadConfig({
      NODE_ENV: 'production',
      OIDC_ISSUER: 'https://idp.example',
      OIDC_JWKS_URL: 'https://idp.example/jwks',
      SIGNING_KEY_JWK: '{}',
      IDENTIFIER_KEY: Buffer.alloc(32, 1).toString('base64'),
      PUBLIC_URL: 'https://ncd.example',
    });
    expect(ready.env).toBe('production');
    // Development tokens are never accepted in production.
    expect(ready.auth.devTokens).toBe(false);
  });
});
