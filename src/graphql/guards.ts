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
  type ValidationContext,
  type ValueNode,
  type ArgumentNode,
  defaultFieldResolver,
  type GraphQLFieldResolver,
  type GraphQLResolveInfo,
  isCompositeType,
  visit,
} from 'graphql';
import { DEFAULT_PAGE_SIZE } from '../domain/pagination.js';
import { AuditAction, AuditOutcome } from '../access/audit-event.entity.js';
import { Patient } from '../domain/patient/patient.entity.js';
import type { Context } from './context.js';
import { RequestRefusal } from './errors.js';

/** The query limits (graphql-armor, and graphql-js's own token limit), checked before any resolver or SQL runs. */
export const QUERY_LIMITS = {
  /**
   * graphql-armor's cost: 2 per object field, 1 per scalar, ×1.5 for each level of nesting, a selection multiplied
   * by its literal `first` (a `$first` variable counts as 1: estimateRows below counts variables); a fragment costs
   * what its fields would inline. A worklist page of 100 passes: the README's query ≈ 16,200, the front ends'
   * PatientsPage (conditions, latest readings, active plans with their activities) ≈ 21,100. Pages of 200 of
   * either worklist (≈ 32,400, ≈ 42,200) and the wide page of 200 in the hardening test (≈ 40,500) do not.
   */
  cost: 30_000,
  depth: 10,
  aliases: 15,
  directives: 20,
  tokens: 3000,
} as const;

/** `… limit of 10 exceeded, found 12.` — what graphql-armor found, from its message (it reports nothing else). */
const found = (err: GraphQLError): number | undefined => {
  const m = /found (\d+(?:\.\d+)?)/.exec(err.message);
  return m ? Math.ceil(Number(m[1])) : undefined;
};

/** A graphql-armor rejection, reported as a RequestRefusal of its own code (instead of armor's "Syntax Error: …"). */
function refuse(code: string, measure: string, limit: number, describe: (found: number) => string) {
  return {
    n: limit,
    propagateOnRejection: false,
    onReject: [
      (ctx: ValidationContext | null, err: GraphQLError) => {
        const n = found(err);
        const message = n === undefined ? err.message.replace(/^Syntax Error: /, '') : describe(n);
        ctx?.reportError(new RequestRefusal(code, message, { ...(n === undefined ? {} : { [measure]: n }), limit }));
      },
    ],
  };
}

/**
 * Query limits, checked while validating — before any resolver or SQL runs: depth, cost, aliases and directives
 * (graphql-armor, each refused with its own code: QUERY_TOO_DEEP, QUERY_TOO_COSTLY, QUERY_TOO_MANY_ALIASES,
 * QUERY_TOO_MANY_DIRECTIVES), and tokens while parsing (graphql-js; QUERY_TOO_MANY_TOKENS, see errors.ts).
 */
export function graphqlArmor() {
  const { cost, depth, aliases, directives, tokens } = QUERY_LIMITS;
  const armor = new ApolloArmor({
    maxDepth: refuse('QUERY_TOO_DEEP', 'depth', depth, (n) => `The query is nested ${n} levels deep, over the limit of ${depth}.`),
    costLimit: {
      ...refuse('QUERY_TOO_COSTLY', 'cost', cost, (n) => `The query's estimated cost is ${n}, over the limit of ${cost}: ask for smaller pages (first) or fewer fields.`),
      maxCost: cost,
      objectCost: 2,
      scalarCost: 1,
      depthCostFactor: 1.5,
      flattenFragments: true,
    },
    maxAliases: refuse('QUERY_TOO_MANY_ALIASES', 'aliases', aliases, (n) => `The query uses ${n} aliases, over the limit of ${aliases}.`),
    maxDirectives: refuse('QUERY_TOO_MANY_DIRECTIVES', 'directives', directives, (n) => `The query uses ${n} directives, over the limit of ${directives}.`),
    // graphql-armor's token plugin throws from a parsing hook, which Apollo answers with a 500: graphql-js counts instead.
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: true },
  });
  const protection = armor.protect();
  return {
    validationRules: protection.validationRules,
    plugins: protection.plugins as ApolloServerPlugin<Context>[],
    parseOptions: { maxTokens: tokens },
    allowBatchedHttpRequests: false,
  };
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
            throw new RequestRefusal('QUERY_TOO_COMPLEX', `Query too large: about ${Math.round(rows)} rows asked for, at most ${MAX_ESTIMATED_ROWS}. Ask for smaller pages.`, {
              estimatedRows: Math.round(rows),
              maxRows: MAX_ESTIMATED_ROWS,
            });
          }
        },
      };
    },
  };
}

/** U+0000: JSON and GraphQL strings may hold it; no PostgreSQL text (nor jsonb) can. */
const NUL = '\u0000';

/**
 * Refuses text no database column can hold — the NUL character — wherever an operation carries it: in a string
 * literal of an argument, or in a variable's value (at any depth) where the operation uses it. One check, once
 * the operation is known and before any resolver (and so before any SQL); the refusal is BAD_USER_INPUT with
 * `extensions.field` naming the argument, as `filter.search` or `input.name`.
 */
export function inputTextPlugin(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, operation }) {
          if (!operation) return;
          const variables = request.variables ?? {};
          const defaults = new Map(operation.variableDefinitions?.map((d) => [d.variable.name.value, d.defaultValue]) ?? []);
          const inValue = (value: unknown, path: string): string | undefined => {
            if (typeof value === 'string') return value.includes(NUL) ? path : undefined;
            if (Array.isArray(value)) return value.map((v, i) => inValue(v, `${path}[${i}]`)).find(Boolean);
            if (value && typeof value === 'object') return Object.entries(value).map(([k, v]) => (k.includes(NUL) ? path : inValue(v, `${path}.${k}`))).find(Boolean);
            return undefined;
          };
          const inNode = (node: ValueNode | undefined, path: string): string | undefined => {
            switch (node?.kind) {
              case Kind.STRING:
                return node.value.includes(NUL) ? path : undefined;
              case Kind.LIST:
                return node.values.map((v, i) => inNode(v, `${path}[${i}]`)).find(Boolean);
              case Kind.OBJECT:
                return node.fields.map((f) => inNode(f.value, `${path}.${f.name.value}`)).find(Boolean);
              case Kind.VARIABLE: {
                const name = node.name.value;
                return name in variables ? inValue(variables[name], path) : inNode(defaults.get(name), path);
              }
              default:
                return undefined;
            }
          };
          let field: string | undefined;
          const check = { Argument: (arg: ArgumentNode) => void (field ??= inNode(arg.value, arg.name.value)) };
          visit(operation, check);
          for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) visit(d, check);
          if (field) throw new RequestRefusal('BAD_USER_INPUT', `${field}: text may not contain the NUL character (U+0000).`, { field });
        },
      };
    },
  };
}

/** A patient, or a record of one (anything with a `patient`), or a connection's edge of either: whose it is. */
function touchRow(audit: Context['audit'], value: unknown): void {
  if (!value || typeof value !== 'object') return;
  if (value instanceof Patient) return audit.touch(value.id);
  if ('patient' in value) return audit.touch((value as { patient?: { id?: string } | null }).patient?.id);
  // A plan's part (an activity, a goal) is its plan's patient's: a mutation returning one names that patient.
  if ('carePlan' in value) return audit.touch((value as { carePlan?: { patient?: { id?: string } | null } | null }).carePlan?.patient?.id);
  // An edge: its cursor encodes its node's id, so an edge is its node's, asked for or not.
  if ('node' in value && 'cursor' in value) touchRow(audit, (value as { node: unknown }).node);
}

/** What a field's resolver is given and returns, noted in the request's audit (see auditTouches). */
function touchField(audit: Context['audit'], root: unknown, args: Record<string, unknown>, info: GraphQLResolveInfo): void {
  touchRow(audit, root);
  const input = args.input as { patientId?: unknown } | undefined;
  if (input && typeof input.patientId === 'string') audit.touch(input.patientId);
  // A patient asked for by id is named in the record whether or not it was found: a refused look is audited too.
  const asked = PATIENT_ID_ARGUMENT[`${info.parentType.name}.${info.fieldName}`]?.(args);
  if (typeof asked === 'string') audit.touch(asked);
}

function touchResult(audit: Context['audit'], root: unknown, result: unknown, info: GraphQLResolveInfo): unknown {
  if (Array.isArray(result)) for (const item of result) touchRow(audit, item);
  else touchRow(audit, result);
  // The end cursor is the last edge's: that edge's node is read whether or not `edges` is asked for.
  if (info.fieldName === 'pageInfo' && root && typeof root === 'object' && Array.isArray((root as { edges?: unknown }).edges)) {
    touchRow(audit, (root as { edges: unknown[] }).edges.at(-1));
  }
  return result;
}

/**
 * Notes every patient whose data a resolver touches, decided from what resolvers are given and return — the
 * patient objects themselves, every record that belongs to a patient, and every edge of a connection of either
 * (a cursor encodes its node's id) — whichever query, nested field, fragment or alias reached them. A connection
 * counted only (`totalCount`) names no one; its page (`edges`, `pageInfo { endCursor }`) names whom it holds.
 *
 * Wraps the resolvers of the fields that can lead to a record — those returning an object (or a list of them) and
 * those with arguments — and no others: every record reaches a client through such a field, where its result is
 * noted. (As a type-graphql global middleware it wrapped every scalar too, making each an async call with three
 * awaits: a third of a 50-patient page's CPU.) Synchronous results stay synchronous.
 */
export function auditTouches(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (!isCompositeType(getNamedType(field.type)) && field.args.length === 0) continue;
      const resolve: GraphQLFieldResolver<unknown, Context> = field.resolve ?? defaultFieldResolver;
      field.resolve = (root, args: Record<string, unknown>, context: Context, info) => {
        touchField(context.audit, root, args, info);
        const result = resolve(root, args, context, info);
        return isPromise(result) ? result.then((value) => touchResult(context.audit, root, value, info)) : touchResult(context.audit, root, result, info);
      };
    }
  }
  return schema;
}

const isPromise = (value: unknown): value is Promise<unknown> => typeof (value as { then?: unknown } | null)?.then === 'function';

/** Root fields with an argument that names a patient by id. */
const PATIENT_ID_ARGUMENT: Record<string, (args: Record<string, unknown>) => unknown> = {
  'Query.patient': (a) => a.id,
  'Query.observations': (a) => a.patientId,
  'Query.referrals': (a) => (a.filter as { patientId?: unknown } | undefined)?.patientId,
  'Mutation.updatePatient': (a) => a.id,
  'Mutation.setPatientCareStatus': (a) => a.patientId,
};

// `indicators`: its figures are counted from patient data, so every request is recorded, naming the patients of
// its lists (IndicatorRow.patients) and none for the figures alone (ADR 18: a count identifies no one). `settlement`
// likewise: its heads and indicators are counted from patient data, and it names no one.
const PATIENT_DATA_ROOTS = new Set(['patient', 'patientByIdentifier', 'patients', 'observations', 'referral', 'referrals', 'referralsWaiting', 'carePlan', 'careTeam', 'worklists', 'followUps', 'changes', 'pathway', 'alert', 'alerts', 'indicators', 'settlement']);
const SEARCH_ROOTS = new Set(['patients', 'observations', 'referrals', 'referralsWaiting', 'careTeam', 'worklists', 'followUps', 'changes', 'pathway', 'alerts', 'indicators']);

/** The operation's root fields, through its fragments (spreads and inline, nested): what it runs, however it is written. */
function rootFields(operation: OperationDefinitionNode, document: DocumentNode): string[] {
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const roots = new Set<string>();
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode) => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) roots.add(s.name.value);
      else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        const fragment = fragments.get(s.name.value);
        if (fragment) walk(fragment.selectionSet);
      }
    }
  };
  walk(operation.selectionSet);
  return [...roots];
}

function classify(operation: OperationDefinitionNode, document: DocumentNode): { action: AuditAction; what: string; patientData: boolean } {
  const roots = rootFields(operation, document);
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
        async willSendResponse({ contextValue, operation, document, errors, response }) {
          if (!operation || !document || !contextValue?.audit) return;
          // Recorded when the operation asks for patient data (its root fields, fragments resolved) or any resolver
          // touched some (auditTouches): either alone is enough.
          const { action, what, patientData } = classify(operation, document);
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
