/**
 * The peer: PostGraphile 5 with its amber preset, served by grafserv on node:http, no auth, over the bench
 * database's public schema (DATABASE_URL, PORT). A child process of the bench (servers/child.ts).
 * The amber preset filters and orders only by indexed columns; a reading's plausibility, which "latest reading"
 * depends on (src/care-rules/latest.ts), is not indexed on its own, so it is made a condition by a smart tag.
 */
import { createServer } from 'node:http';
import { postgraphile } from 'postgraphile';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { jsonPgSmartTags } from 'postgraphile/utils';

const pgl = postgraphile({
  extends: [PostGraphileAmberPreset],
  plugins: [jsonPgSmartTags({ version: 1, config: { class: { observation: { attribute: { plausibility: { tags: { behavior: '+filterBy' } } } } } } })],
  pgServices: [makePgService({ connectionString: process.env.DATABASE_URL!, schemas: ['public'] })],
  grafserv: { graphqlPath: '/graphql', graphiql: false },
  grafast: { explain: false },
});
const server = createServer();
server.on('error', (err) => {
  console.error(err);
  process.exit(1);
});
await pgl.createServ(grafserv).addTo(server);
server.listen(Number(process.env.PORT), '127.0.0.1');
const stop = async () => {
  server.close();
  await pgl.release();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
