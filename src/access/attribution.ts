import type { EntityManager } from '../db/orm.js';
import { badInput, DomainError, isUuid } from '../domain/errors.js';
import { Organization } from '../domain/organization/organization.entity.js';
import { Practitioner, PractitionerRole } from '../domain/practitioner/practitioner.entity.js';
import type { AccessPolicy } from './policy.js';

/** Who a write says did the work, as the client named them (ids), if it did. */
export interface Named {
  practitionerId?: string | null;
  organizationId?: string | null;
}

/** Who the stored record will say did the work. */
export interface Attribution {
  practitioner?: Practitioner;
  organization?: Organization;
}

export interface AttributionOptions {
  /** The input fields, for refusals (e.g. `inputs.3.performerId`, `organizationId`). */
  fields: (index: number) => { practitioner: string; organization: string };
  /** Unnamed, the practitioner is the caller's own (default: yes). No for, say, a reading taken at home. */
  defaultPractitioner?: (index: number) => boolean;
  /** Unnamed, the organisation is the caller's own (default: yes). */
  defaultOrganization?: boolean;
}

/**
 * The one rule for who a record says did the work — the performer of a reading, the practitioner of a follow-up
 * visit, the author of a care plan, the sender of a referral — and for the organisation it was done at. A caller
 * cannot say it was someone else's work: a named practitioner is the caller or holds a role at the caller's
 * organisation or one below it, a named organisation is the caller's own or one below it (the reach of
 * `assertManages`), else FORBIDDEN. Unnamed, both are the caller's own, from the token. Platform administrators
 * and the internal caller may name anyone. Unknown ids are bad input, as before.
 *
 * Takes a batch (a device upload names performers per reading) and answers it in three queries at most.
 */
export async function attribute(em: EntityManager, policy: AccessPolicy, named: Named[], options: AttributionOptions): Promise<Attribution[]> {
  const c = policy.caller;
  const fields = options.fields;
  const practitioners = await loadNamed(em, Practitioner, named.map((n) => n.practitionerId), (i) => fields(i).practitioner);
  const organizations = await loadNamed(em, Organization, named.map((n) => n.organizationId), (i) => fields(i).organization);
  const free = policy.seesEverything;
  const colleagues = free || !c.organizationPath ? new Set<string>() : await holdingRoleUnder(em, [...practitioners.keys()].filter((id) => id !== c.practitionerId), c.organizationPath);
  const inSubtree = (path: string) => !!c.organizationPath && path.startsWith(c.organizationPath);

  return named.map((n, i) => {
    if (!free && n.practitionerId && n.practitionerId !== c.practitionerId && !colleagues.has(n.practitionerId)) {
      throw new DomainError('FORBIDDEN', `${fields(i).practitioner} must be you or a practitioner of your own organisation (or one below it)`, fields(i).practitioner);
    }
    if (!free && n.organizationId && !inSubtree(organizations.get(n.organizationId)!.path)) {
      throw new DomainError('FORBIDDEN', `${fields(i).organization} must be your own organisation or one below it`, fields(i).organization);
    }
    const ownPractitioner = c.practitionerId && (options.defaultPractitioner?.(i) ?? true) ? em.getReference(Practitioner, c.practitionerId) : undefined;
    const ownOrganization = c.organizationId && (options.defaultOrganization ?? true) ? em.getReference(Organization, c.organizationId) : undefined;
    return {
      practitioner: n.practitionerId ? practitioners.get(n.practitionerId) : ownPractitioner,
      organization: n.organizationId ? organizations.get(n.organizationId) : ownOrganization,
    };
  });
}

/** One record's attribution (see attribute). */
export async function attributeOne(em: EntityManager, policy: AccessPolicy, named: Named, fields: { practitioner: string; organization: string }, defaults = true): Promise<Attribution> {
  const [one] = await attribute(em, policy, [named], { fields: () => fields, defaultPractitioner: () => defaults, defaultOrganization: defaults });
  return one!;
}

/**
 * A practitioner a write addresses at an organisation (the one a referral goes to, who takes it on): one who holds
 * a role there or below. Addressing a referral to a practitioner lets them see the patient, so naming one who
 * works elsewhere is FORBIDDEN (administrators excepted, as in attribute).
 */
export async function practitionerAt(em: EntityManager, policy: AccessPolicy, practitionerId: string, organization: Organization, field: string): Promise<Practitioner> {
  const practitioner = (await loadNamed(em, Practitioner, [practitionerId], () => field)).get(practitionerId)!;
  if (!policy.seesEverything && !(await holdingRoleUnder(em, [practitionerId], organization.path)).has(practitionerId)) {
    throw new DomainError('FORBIDDEN', `${field} must be a practitioner of ${organization.name} (or an organisation below it)`, field);
  }
  return practitioner;
}

/** The practitioners among `ids` who hold a role at the organisation with this path or one below it. */
async function holdingRoleUnder(em: EntityManager, ids: string[], path: string): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const roles = await em.find(PractitionerRole, { practitioner: { $in: ids }, organization: { path: { $like: `${path}%` } } });
  return new Set(roles.map((r) => r.practitioner.id));
}

/** The distinct named ids in one query; an unknown id is a bad input naming its field. */
async function loadNamed<T extends { id: string }>(em: EntityManager, entity: new () => T, ids: Array<string | null | undefined>, fieldOf: (index: number) => string): Promise<Map<string, T>> {
  const bad = ids.findIndex((id) => id && !isUuid(id));
  if (bad >= 0) throw badInput(`${fieldOf(bad)}: no ${entity.name} with id ${ids[bad]}`, fieldOf(bad));
  const wanted = [...new Set(ids.filter((id): id is string => !!id))];
  const found = wanted.length ? ((await em.find(entity, { id: { $in: wanted } } as never)) as T[]) : [];
  const byId = new Map(found.map((e) => [e.id, e]));
  const missing = ids.findIndex((id) => id && !byId.has(id));
  if (missing >= 0) throw badInput(`${fieldOf(missing)}: no ${entity.name} with id ${ids[missing]}`, fieldOf(missing));
  return byId;
}
