import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { IdentifierSystems } from '../../config.js';
import type { CareRules } from '../../care-rules/rules.js';
import type { EntityManager } from '../../db/orm.js';
import type { IdentifierProtector } from '../../access/identifier-protection.js';
import type { AccessPolicy } from '../../access/policy.js';
import { isUuid } from '../../domain/errors.js';
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
