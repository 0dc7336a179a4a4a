/** npm run schema:emit — writes schema/schema.graphql from the resolvers (a test fails when it is stale). */
import 'reflect-metadata';
import fs from 'node:fs';
import { schemaSdl } from '../graphql/schema.js';

fs.mkdirSync('schema', { recursive: true });
fs.writeFileSync('schema/schema.graphql', await schemaSdl());
console.log('schema/schema.graphql written');
