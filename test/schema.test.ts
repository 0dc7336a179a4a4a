import fs from 'node:fs';
import { schemaSdl } from '../src/graphql/schema.js';

test('schema/schema.graphql matches the schema the resolvers build (run `npm run schema:emit`)', async () => {
  const checkedIn = fs.readFileSync('schema/schema.graphql', 'utf8');
  expect(await schemaSdl()).toBe(checkedIn);
});
