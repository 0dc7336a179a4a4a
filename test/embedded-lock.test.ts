/**
 * The lock on an embedded data directory (src/db/embedded-lock.ts), in this process: a second opener is
 * refused with a message naming the holder and the fix; closing releases it; a lock whose process is gone is
 * taken over; a real PostgreSQL server needs none. (test/cli-server.test.ts does it with real processes.)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { acquireEmbeddedLock, currentHolder, EmbeddedDatabaseInUseError, lockFileOf, SERVER_OWNER, serverAdvert } from '../src/db/embedded-lock.js';
import { openDatabase } from '../src/db/orm.js';
import { loadConfig } from '../src/config.js';
import { createTestDatabase } from './helpers/database.js';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ncd-lock-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A process id that ran and is gone. */
const deadPid = () => spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout.trim();

const onDisk = process.env.TEST_DATABASE_URL ? describe.skip : describe;

onDisk('an embedded database on disk', () => {
  test('is held by its opener: a second opener is refused, with nothing lost; close releases it', async () => {
    const dir = path.join(tmp, 'a', 'pglite');
    const first = await openDatabase({ embeddedDataDir: dir, owner: SERVER_OWNER });
    await first.em.fork().getConnection().execute(`create table lock_probe (n int)`);
    await first.em.fork().getConnection().execute(`insert into lock_probe values (42)`);
    expect(currentHolder(dir)).toMatchObject({ pid: process.pid, owner: SERVER_OWNER });

    const refusal = await openDatabase({ embeddedDataDir: dir, owner: 'npm run seed' }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(EmbeddedDatabaseInUseError);
    expect((refusal as Error).message).toContain(`The embedded database ${dir} is in use by the NCD Gateway server (pid ${process.pid}`);
    expect((refusal as Error).message).toContain('Stop the server first, or point both at a PostgreSQL server with DATABASE_URL.');
    expect((refusal as Error).message).toContain(`(Lock file: ${dir}.lock.)`);

    // The holder still works, and what it wrote is there.
    expect(await first.em.fork().getConnection().execute(`select n from lock_probe`)).toEqual([{ n: 42 }]);
    await first.close();
    expect(fs.existsSync(lockFileOf(dir))).toBe(false);

    const again = await openDatabase({ embeddedDataDir: dir });
    try {
      expect(await again.em.fork().getConnection().execute(`select n from lock_probe`)).toEqual([{ n: 42 }]);
    } finally {
      await again.close();
    }
  });

  test('a server advertises where it listens; the lock of a process that is gone is taken over', async () => {
    const dir = path.join(tmp, 'b', 'pglite');
    const lock = await acquireEmbeddedLock(dir, SERVER_OWNER);
    lock.advertise(serverAdvert(loadConfig({ NODE_ENV: 'development', PORT: '4999', KEYS_DIR: tmp }), 4999));
    expect(currentHolder(dir)?.server).toMatchObject({ url: 'http://127.0.0.1:4999', issuer: 'urn:ncd-gateway:local', keysDir: tmp, devTokens: true });
    lock.release();
    expect(currentHolder(dir)).toBeUndefined();

    // Left behind by a process killed with SIGKILL.
    const pid = Number(deadPid());
    fs.writeFileSync(lockFileOf(dir), JSON.stringify({ pid, hostname: os.hostname(), owner: 'npm run import', started: new Date().toISOString(), nonce: 'gone' }));
    expect(currentHolder(dir)).toBeUndefined();
    const taken = await acquireEmbeddedLock(dir, 'npm run import');
    expect(JSON.parse(fs.readFileSync(lockFileOf(dir), 'utf8'))).toMatchObject({ pid: process.pid, nonce: taken.info.nonce });
    taken.release();

    // Held by a live process (our parent): refused, naming it.
    fs.writeFileSync(lockFileOf(dir), JSON.stringify({ pid: process.ppid, hostname: os.hostname(), owner: 'npm run import', started: '2030-01-01T00:00:00.000Z', nonce: 'live' }));
    const refusal = await acquireEmbeddedLock(dir, 'npm run seed').catch((e: unknown) => e);
    expect((refusal as Error).message).toContain(`is in use by npm run import (pid ${process.ppid}, since 2030-01-01T00:00:00.000Z)`);
    expect((refusal as Error).message).toContain('Wait for npm run import to finish (or stop it), or point both at a PostgreSQL server with DATABASE_URL.');
    fs.rmSync(lockFileOf(dir));
  });
});

test('an in-memory database and a PostgreSQL server take no lock: two openers at once are fine', async () => {
  const db = await createTestDatabase();
  const a = await openDatabase({ databaseUrl: db.databaseUrl, embeddedDataDir: db.embeddedDataDir });
  const b = await openDatabase({ databaseUrl: db.databaseUrl, embeddedDataDir: db.embeddedDataDir });
  try {
    expect(await b.em.fork().getConnection().execute('select 1 as one')).toEqual([{ one: 1 }]);
  } finally {
    await a.close();
    await b.close();
    await db.drop();
  }
});
