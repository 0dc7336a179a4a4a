import { buildSchema } from 'type-graphql';
import { printSchema, type GraphQLSchema, lexicographicSortSchema } from 'graphql';
// Registers every enum with type-graphql (names, descriptions): needed before buildSchema.
import './enums.js';
import { CarePlanActivityResolver, CarePlanResolver } from './resolvers/care-plan.resolver.js';
import { ConditionResolver } from './resolvers/condition.resolver.js';
import { FollowUpResolver } from './resolvers/follow-up.resolver.js';
import { AdmissionResolver } from './resolvers/admission.resolver.js';
import { ObservationResolver } from './resolvers/observation.resolver.js';
import {
  CareTeamMemberResolver,
  CareTeamResolver,
  CoverageResolver,
  GridResolver,
  OrganizationResolver,
  PractitionerResolver,
  PractitionerRoleResolver,
} from './resolvers/organization.resolver.js';
import { PatientResolver } from './resolvers/patient.resolver.js';
import { ReferralResolver } from './resolvers/referral.resolver.js';
import { auditTouches } from './guards.js';
import { AccessResolver, ConsentResolver, PatientIdentifierResolver } from './resolvers/access.resolver.js';

export const RESOLVERS = [
  PatientResolver,
  ObservationResolver,
  ConditionResolver,
  CarePlanResolver,
  CarePlanActivityResolver,
  ReferralResolver,
  FollowUpResolver,
  AdmissionResolver,
  OrganizationResolver,
  GridResolver,
  CareTeamResolver,
  CareTeamMemberResolver,
  PractitionerResolver,
  PractitionerRoleResolver,
  CoverageResolver,
  AccessResolver,
  ConsentResolver,
  PatientIdentifierResolver,
] as const;

let built: Promise<GraphQLSchema> | undefined;

/** The schema is built once per process: type-graphql's metadata is global. */
export function getSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({ resolvers: RESOLVERS, validate: false }).then(auditTouches);
  return built;
}

/** The SDL checked in at schema/schema.graphql; sorted so that the file changes only when the API does. */
export async function schemaSdl(): Promise<string> {
  return `${printSchema(lexicographicSortSchema(await getSchema()))}\n`;
}
