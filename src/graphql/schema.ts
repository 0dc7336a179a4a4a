import { buildSchema } from 'type-graphql';
import { defaultFieldResolver, type GraphQLFieldResolver, printSchema, type GraphQLSchema, lexicographicSortSchema } from 'graphql';
import type { Context } from './context.js';
import { forgetLoaded } from './loaders.js';
// Registers every enum with type-graphql (names, descriptions): needed before buildSchema.
import './enums.js';
import { CarePlanActivityResolver, CarePlanGoalResolver, CarePlanResolver } from './resolvers/care-plan.resolver.js';
import { CarePlanTemplateResolver } from './resolvers/care-plan-template.resolver.js';
import {
  PatientSelfManagementGroupsResolver,
  SelfManagementGroupMemberResolver,
  SelfManagementGroupResolver,
  SelfManagementGroupSessionResolver,
} from './resolvers/self-management-group.resolver.js';
import { ConditionResolver } from './resolvers/condition.resolver.js';
import { FollowUpResolver } from './resolvers/follow-up.resolver.js';
import { ConditionControlResolver, ConditionStateResolver, FollowUpStateResolver, ObservationStateResolver, PatientStateResolver } from './resolvers/care-state.resolver.js';
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
import { PathwayResolver, PatientPathwayResolver } from './resolvers/pathway.resolver.js';
import { AssessmentResolver, PatientAssessmentResolver } from './resolvers/assessment.resolver.js';
import { ContactAttemptResolver, PatientContactAttemptResolver } from './resolvers/contact-attempt.resolver.js';
import { ReferralResolver } from './resolvers/referral.resolver.js';
import { SyncResolver } from './resolvers/sync.resolver.js';
import { AlertResolver, PatientAlertsResolver } from './resolvers/alert.resolver.js';
import { ListResolver, WorklistResolver } from './resolvers/worklist.resolver.js';
import { IndicatorOrganizationValueResolver, IndicatorResolver, IndicatorRowResolver } from './resolvers/indicator.resolver.js';
import { CapitationContractResolver, SettlementShareResolver } from './resolvers/capitation.resolver.js';
import { auditTouches } from './guards.js';
import { AccessResolver, ConsentResolver, PatientIdentifierResolver } from './resolvers/access.resolver.js';

export const RESOLVERS = [
  PatientResolver,
  ObservationResolver,
  ConditionControlResolver,
  ConditionStateResolver,
  PatientStateResolver,
  FollowUpStateResolver,
  ObservationStateResolver,
  ConditionResolver,
  CarePlanResolver,
  CarePlanActivityResolver,
  CarePlanGoalResolver,
  CarePlanTemplateResolver,
  SelfManagementGroupResolver,
  SelfManagementGroupMemberResolver,
  SelfManagementGroupSessionResolver,
  PatientSelfManagementGroupsResolver,
  ReferralResolver,
  SyncResolver,
  AlertResolver,
  PatientAlertsResolver,
  FollowUpResolver,
  PathwayResolver,
  PatientPathwayResolver,
  AssessmentResolver,
  PatientAssessmentResolver,
  ContactAttemptResolver,
  PatientContactAttemptResolver,
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
  WorklistResolver,
  ListResolver,
  CapitationContractResolver,
  SettlementShareResolver,
  IndicatorResolver,
  IndicatorRowResolver,
  IndicatorOrganizationValueResolver,
] as const;

/**
 * type-graphql asks for a pub/sub system once there is a subscription; ours bring their own event source
 * (`subscribe`: the urgent-alert feed reads the outbox), so nothing is ever published through this one.
 */
const NO_PUB_SUB = {
  publish(): void {
    throw new Error('subscriptions read the outbox; nothing is published in process');
  },
  subscribe(): AsyncIterable<never> {
    throw new Error('subscriptions read the outbox; nothing is published in process');
  },
};

let built: Promise<GraphQLSchema> | undefined;

/** The schema is built once per process: type-graphql's metadata is global. */
export function getSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({ resolvers: RESOLVERS, validate: false, pubSub: NO_PUB_SUB }).then(auditTouches).then(freshLoadsPerMutation);
  return built;
}

/** Each root mutation field (run one after another) reads afresh what it and the fields after it show (forgetLoaded). */
function freshLoadsPerMutation(schema: GraphQLSchema): GraphQLSchema {
  for (const field of Object.values(schema.getMutationType()?.getFields() ?? {})) {
    const resolve: GraphQLFieldResolver<unknown, Context> = field.resolve ?? defaultFieldResolver;
    field.resolve = (root, args, context: Context, info) => {
      forgetLoaded(context.loaders);
      return resolve(root, args, context, info);
    };
  }
  return schema;
}

/** The SDL checked in at schema/schema.graphql; sorted so that the file changes only when the API does. */
export async function schemaSdl(): Promise<string> {
  return `${printSchema(lexicographicSortSchema(await getSchema()))}\n`;
}
