import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type OperationDefinitionNode } from 'graphql';
import type { MiddlewareFn } from 'type-graphql';
import { AuditAction, AuditOutcome } from '../access/audit-event.entity.js';
import { Patient } from '../domain/patient/patient.entity.js';
import type { Context } from './context.js';

/**
 * Query limits, checked while validating — before any resolver or SQL runs: depth, cost, aliases,
 * directives and tokens (graphql-armor). The nested worklist query the front ends use (README) is depth 6, cost ≈ 5,700.
 */
export function graphqlArmor() {
  const armor = new ApolloArmor({
    maxDepth: { n: 10 },
    costLimit: { maxCost: 20000, objectCost: 2, scalarCost: 1, depthCostFactor: 1.5 },
    maxAliases: { n: 15 },
    maxDirectives: { n: 20 },
    maxTokens: { n: 3000 },
    blockFieldSuggestion: { enabled: true },
  });
  const protection = armor.protect();
  return { validationRules: protection.validationRules, plugins: protection.plugins as ApolloServerPlugin<Context>[], allowBatchedHttpRequests: false };
}

/**
 * Notes every patient whose data a resolver touches: the patient objects themselves and every record that
 * belongs to a patient, whichever query or nested field reached them.
 */
export const auditTouches: MiddlewareFn<Context> = async ({ root, args, context, info }, next) => {
  if (root instanceof Patient) context.audit.touch(root.id);
  else if (root && typeof root === 'object' && 'patient' in root) context.audit.touch((root as { patient?: { id?: string } }).patient?.id);
  const input = (args as { input?: { patientId?: unknown } }).input;
  if (input && typeof input.patientId === 'string') context.audit.touch(input.patientId);
  // A patient asked for by id is named in the record whether or not it was found: a refused look is audited too.
  const asked = PATIENT_ID_ARGUMENT[`${info.parentType.name}.${info.fieldName}`]?.(args as Record<string, unknown>);
  if (typeof asked === 'string') context.audit.touch(asked);
  return next();
};

/** Root fields with an argument that names a patient by id. */
const PATIENT_ID_ARGUMENT: Record<string, (args: Record<string, unknown>) => unknown> = {
  'Query.patient': (a) => a.id,
  'Query.observations': (a) => a.patientId,
  'Query.referrals': (a) => (a.filter as { patientId?: unknown } | undefined)?.patientId,
  'Mutation.updatePatient': (a) => a.id,
};

const PATIENT_DATA_ROOTS = new Set(['patient', 'patientByIdentifier', 'patients', 'observations', 'referral', 'referrals', 'carePlan', 'careTeam']);
const SEARCH_ROOTS = new Set(['patients', 'observations', 'referrals', 'careTeam']);

function classify(operation: OperationDefinitionNode): { action: AuditAction; what: string; patientData: boolean } {
  const roots = operation.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : []));
  const what = `${operation.operation} ${operation.name?.value ?? '(anonymous)'} { ${roots.join(' ')} }`;
  if (operation.operation === 'mutation') {
    const creates = roots.every((r) => /^(register|create|record|add)/.test(r));
    return { action: creates ? AuditAction.CREATE : AuditAction.UPDATE, what, patientData: true };
  }
  const search = roots.some((r) => SEARCH_ROOTS.has(r));
  return { action: search ? AuditAction.SEARCH : AuditAction.READ, what, patientData: roots.some((r) => PATIENT_DATA_ROOTS.has(r)) };
}

/** Writes the request's audit record before the response leaves: a read that left no trace is not served. */
export function auditPlugin(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, operation, errors, response }) {
          if (!operation || !contextValue?.audit) return;
          const { action, what, patientData } = classify(operation);
          if (!patientData && contextValue.audit.touched.size === 0) return;
          const bodyErrors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          const failed = (errors?.length ?? 0) > 0 || (bodyErrors?.length ?? 0) > 0;
          const denied = bodyErrors?.some((e) => e.extensions?.code === 'FORBIDDEN');
          await contextValue.audit.record(action, what, denied ? AuditOutcome.DENIED : failed ? AuditOutcome.FAILURE : AuditOutcome.SUCCESS);
        },
      };
    },
  };
}
