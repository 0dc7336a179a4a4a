import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { Organization } from '../../domain/organization/organization.entity.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import { Practitioner } from '../../domain/practitioner/practitioner.entity.js';
import { idOf, type ProjectionContext, warning } from './context.js';

/**
 * A record a reference names, looked up once per unit of work: a Synthea transaction names its patient, its
 * hospital and a handful of practitioners hundreds of times, and the identity map answers all but the first.
 */
async function byId<T extends object>(ctx: ProjectionContext, entity: new () => T, id: string): Promise<T | null> {
  const loaded = ctx.em.getUnitOfWork().getById<T>(entity, id as never);
  if (loaded) return loaded;
  return (await ctx.em.findOne(entity, { id } as never)) as T | null;
}

/** The patient a resource is about, as the caller sees it (the store has checked the caller may write its record). */
export async function knownPatient(ctx: ProjectionContext, ref: string | undefined): Promise<Patient | null> {
  const id = idOf(ref, 'Patient');
  return id ? byId(ctx, Patient, id) : null;
}

async function known<T extends { id: string }>(
  ctx: ProjectionContext,
  entity: new () => T,
  type: string,
  ref: string | undefined,
  expression: string,
  warnings: OperationOutcomeIssue[],
): Promise<string | undefined> {
  if (!ref) return undefined;
  const id = idOf(ref, type);
  const found = id ? await byId(ctx, entity, id) : null;
  if (!found) warnings.push(warning('informational', `${ref} is not in the county's directory: the care record leaves it out`, [expression]));
  return found?.id;
}

/** A practitioner a resource names, if the directory has them; else left out, with a warning. */
export const knownPractitioner = (ctx: ProjectionContext, ref: string | undefined, expression: string, warnings: OperationOutcomeIssue[]) =>
  known(ctx, Practitioner, 'Practitioner', ref, expression, warnings);

/** An organisation a resource names, if the directory has it; else left out, with a warning. */
export const knownOrganization = (ctx: ProjectionContext, ref: string | undefined, expression: string, warnings: OperationOutcomeIssue[]) =>
  known(ctx, Organization, 'Organization', ref, expression, warnings);

/** The unit of work's SQL, for the store's few unscoped reads (store-sql.ts) the projection makes. */
export const sqlOf = (ctx: ProjectionContext) => (sql: string, params: unknown[]) => ctx.em.execute(sql, params) as Promise<Array<Record<string, unknown>>>;
