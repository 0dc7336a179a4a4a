import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { IdentifierSystems } from '../../config.js';
import type { CareRules } from '../../care-rules/rules.js';
import type { EntityManager } from '../../db/orm.js';
import type { IdentifierProtector } from '../../access/identifier-protection.js';
import type { AccessPolicy } from '../../access/policy.js';
import type { GoalShape, ReferralTaskShape } from '../../../fhir-mappings/index.js';
import { DomainError, isUuid } from '../../domain/errors.js';
import { fhirError } from '../outcome.js';
import { fromFhir } from '../materialise.js';

/** What a projector of one resource type works with: the unit of work, the caller's policy, configuration. */
export interface ProjectionContext {
  em: EntityManager;
  policy: AccessPolicy;
  protector: IdentifierProtector;
  systems: IdentifierSystems;
  rules: CareRules;
  /** Whether the resource is new to the store: then it is new to the domain too, no lookup needed. */
  created: boolean;
  /** Set while a transaction Bundle runs: changes are flushed once at the end (batched inserts). */
  deferFlush: boolean;
  /** What this unit of work (one interaction, one Bundle) has seen of resources that link to each other. */
  links: ProjectionLinks;
}

/**
 * Resources that name each other one way only arrive in any order within a transaction Bundle: a CarePlan's
 * goalRefs name Goals (a Goal names no plan), a Task's focus names its ServiceRequest. What came first waits
 * here for the other (across requests, the FHIR store is asked: see care-plan.ts, referral.ts).
 */
export interface ProjectionLinks {
  /** Goals whose plan was not yet known: Goal id → the goal. */
  goals: Map<string, GoalShape>;
  /** Goals a plan named before they came: Goal id → plan id. */
  planOfGoal: Map<string, string>;
  /** Tasks whose referral was not yet known: ServiceRequest id → the Task. */
  tasks: Map<string, ReferralTaskShape>;
}

export const newLinks = (): ProjectionLinks => ({ goals: new Map(), planOfGoal: new Map(), tasks: new Map() });

/** A warning on the entry of the Bundle response: stored, but not (all) of it in the domain. */
export const warning = (code: 'incomplete' | 'informational' | 'business-rule', diagnostics: string, expression?: string[]): OperationOutcomeIssue => ({
  severity: 'warning',
  code,
  diagnostics,
  ...(expression ? { expression } : {}),
});

/**
 * The domain record under a resource's id, if any. Read past the access filter: the FHIR store has already
 * authorised writing this resource under this id (the caller may write the patient's record it is in, or owns
 * it), and the record under the same id is that resource's domain view — not another record to be hidden.
 */
export async function existingRecord<T extends object>(ctx: ProjectionContext, entity: new () => T, id: string): Promise<T | null> {
  return ctx.created ? null : ((await ctx.em.findOne(entity, { id } as never, { filters: false })) as T | null);
}

/**
 * A domain service's refusal, answered as FHIR answers it: bad input is a business rule the resource breaks
 * (422), the rest as the domain says (403, 404, 409: outcome.ts).
 */
export async function viaService<T>(resourceType: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof DomainError && err.code === 'BAD_USER_INPUT') throw fhirError(422, 'business-rule', err.message, [resourceType]);
    throw err;
  }
}

/**
 * What projecting one resource has to say to its sender: stored, but with these warnings (a value outside the
 * plausible range, a link the domain could not follow) — reported on the entry of the transaction-response.
 */
export type ProjectionWarnings = OperationOutcomeIssue[];

/** Projects one resource (already stored in the FHIR store, in clear) into the domain tables, under its own id. */
export type Projector<S> = (ctx: ProjectionContext, id: string, shape: S) => Promise<ProjectionWarnings | void>;

/** The server id a reference names; a reference this server did not resolve (`Organization/f001`) names none. */
export const idOf = (ref: string | undefined, type: string): string | undefined => {
  const m = new RegExp(`^${type}/([^/]+)$`).exec(ref ?? '');
  return m?.[1] && isUuid(m[1]) ? m[1] : undefined;
};

export const fullDate = (d: string | undefined) => (d && /^\d{4}-\d{2}-\d{2}$/.test(d) ? d : undefined);

/**
 * Marks domain records as written from FHIR: the FHIR materialiser (ADR 6) must not write them back over the
 * resource the sender sent.
 */
export function markFromFhir<T extends object>(entity: T): T {
  fromFhir.add(entity);
  return entity;
}

/** Creates or updates the record under the resource's id, marked as written from FHIR. */
export async function upsert<T extends object>(ctx: ProjectionContext, entity: new () => T, id: string, data: Record<string, unknown>): Promise<T> {
  const em = ctx.em;
  const existing = ctx.created ? null : await em.findOne(entity, { id } as never, { filters: false });
  if (existing) {
    em.assign(existing, data as never);
    return markFromFhir(existing);
  }
  return markFromFhir(em.create(entity, { id, version: 1, ...data } as never) as T);
}

export async function flushUnlessDeferred(ctx: ProjectionContext): Promise<void> {
  if (!ctx.deferFlush) await ctx.em.flush();
}
