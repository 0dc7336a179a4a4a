import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ApolloServerPlugin } from '@apollo/server';
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  getArgumentValues,
  getNamedType,
  getNullableType,
  GraphQLError,
  type GraphQLObjectType,
  type GraphQLSchema,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { DEFAULT_PAGE_SIZE } from '../domain/pagination.js';
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

/** The most rows (estimated) one operation may ask for: ≈ 8× the nested `patients(first: 50)` worklist. */
export const MAX_ESTIMATED_ROWS = 50_000;

export function estimateRows(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown>): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: OperationDefinitionNode | undefined;
  for (const d of document.definitions) {
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    else if (d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName)) operation ??= d;
  }
  if (!operation) return 0;
  const root = operation.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
  const walk = (type: GraphQLObjectType, set: SelectionSetNode): number => {
    let total = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.INLINE_FRAGMENT || sel.kind === Kind.FRAGMENT_SPREAD) {
        const frag = sel.kind === Kind.INLINE_FRAGMENT ? sel : fragments.get(sel.name.value);
        const on = frag?.typeCondition ? schema.getType(frag.typeCondition.name.value) : type;
        if (frag && on && isObjectType(on)) total += walk(on, frag.selectionSet);
        continue;
      }
      const field = type.getFields()[sel.name.value];
      if (!field) continue;
      const named = getNamedType(field.type);
      const item = isObjectType(named) && sel.selectionSet ? 1 + walk(named, sel.selectionSet) : isInterfaceType(named) ? 1 : 0;
      // A connection multiplies what each item asks for by its page size, a plain list by 10.
      if (field.args.some((a) => a.name === 'first')) {
        const first = getArgumentValues(field, sel, variables).first;
        total += (typeof first === 'number' ? first : DEFAULT_PAGE_SIZE) * item;
      } else if (isListType(getNullableType(field.type)) && field.name !== 'edges') total += 10 * item;
      else total += item;
    }
    return total;
  };
  return root ? walk(root, operation.selectionSet) : 0;
}

/**
 * Refuses operations that would produce too many rows, counted with their variables. graphql-armor's cost rule
 * runs at validation, without variables, so a page size passed as `$first` would escape it; this runs once the
 * variables are known, still before any resolver (and so before any SQL).
 */
export function queryCostPlugin(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema }) {
          const rows = estimateRows(schema, document, request.operationName, request.variables ?? {});
          if (rows > MAX_ESTIMATED_ROWS) {
            throw new GraphQLError(`Query too large: about ${Math.round(rows)} rows asked for, at most ${MAX_ESTIMATED_ROWS}. Ask for smaller pages.`, {
              extensions: { code: 'QUERY_TOO_COMPLEX', estimatedRows: Math.round(rows), maxRows: MAX_ESTIMATED_ROWS, http: { status: 400 } },
            });
          }
        },
      };
    },
  };
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
