// Runs a command with TEST_DATABASE_URL pointing at a real PostgreSQL server, so that the integration
// suite runs against it as well as against the embedded database. Each test file creates and drops its
// own database there. Without a reachable server this fails, unless SKIP_POSTGRES_TESTS=1 says to skip.
import { spawnSync } from 'node:child_process';
import pg from 'pg';

const url = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
if (process.env.SKIP_POSTGRES_TESTS === '1') {
  console.warn('\n*** SKIP_POSTGRES_TESTS=1: the suite was NOT run against real PostgreSQL. ***\n');
  process.exit(0);
}
const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
try {
  await client.connect();
  const { rows } = await client.query('show server_version');
  console.log(`Running against PostgreSQL ${rows[0].server_version} at ${url.replace(/\/\/[^@]*@/, '//')}`);
} catch (err) {
  console.error(`Cannot reach PostgreSQL at ${url}: ${err.message}\nSet TEST_DATABASE_URL, start a server, or set SKIP_POSTGRES_TESTS=1.`);
  process.exit(1);
} finally {
  await client.end().catch(() => {});
}
const [cmd, ...args] = process.argv.slice(2);
const result = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, TEST_DATABASE_URL: url }, shell: false });
process.exit(result.status ?? 1);
