import { Organization } from '../../domain/organization/organization.entity.js';
import { Practitioner } from '../../domain/practitioner/practitioner.entity.js';
import { idOf, type ProjectionContext, type ProjectionLinks } from './context.js';

const LOGICAL = /^(Organization|Practitioner)\?identifier=(?:[^|]*\|)?(.+)$/;

/** Logical references resolved in this unit of work (a directory Bundle names the same few hundred many times over). */
const resolved = new WeakMap<ProjectionLinks, Map<string, string | null>>();

/**
 * The server id of the directory record a reference names: `Organization/<id>`, or a logical reference by
 * identifier (`Practitioner?identifier=<npi system>|<npi>`, as Synthea's PractitionerRoles name their practitioner
 * and organisation — a transaction resolves only conditional reference strings). A logical reference is matched on
 * the record's code, which is its identifier's value (organization.ts, practitioner.ts).
 */
export async function directoryId(ctx: ProjectionContext, ref: string | undefined, type: 'Organization' | 'Practitioner'): Promise<string | undefined> {
  const literal = idOf(ref, type);
  if (literal || !ref) return literal;
  const m = LOGICAL.exec(ref);
  if (!m || m[1] !== type) return undefined;
  let cache = resolved.get(ctx.links);
  if (!cache) resolved.set(ctx.links, (cache = new Map()));
  if (cache.has(ref)) return cache.get(ref) ?? undefined;
  const code = decodeURIComponent(m[2]!);
  const found = type === 'Organization' ? await ctx.em.findOne(Organization, { code }, { fields: ['id'] }) : await ctx.em.findOne(Practitioner, { code }, { fields: ['id'] });
  cache.set(ref, found?.id ?? null);
  return found?.id;
}
