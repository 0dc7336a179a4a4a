/**
 * The Group of an insurer's covered members (issue 13), computed from the coverage table on every read, so it is
 * always in step with Coverage — there is no stored Group to keep in step:
 *
 *   GET /fhir/Group/{insurer Organization id}
 *   GET /fhir/Group?managing-entity=Organization/{id} | _id={id} | type=person | actual=true
 *
 * Who reads it: the insurer (its own Group, listing only the members it may see: consent, src/access/membership.ts)
 * and platform administrators (every member). Anyone else is refused (403) rather than shown "their" members: the
 * Group is the insurer's member list, a hospital or a clinician reads a patient's Coverage with the patient's record
 * instead, and a Group cut down to one organisation's patients would still say "Members of …" with a quantity that
 * is not the insurer's. Self-management groups are GraphQL records with no FHIR resource; their ids are their own
 * records' and never an insurer's, so `Group/{id}` of one is 404 here, as is any id that is not an insurer's.
 */
import type { Bundle, Group } from '@medplum/fhirtypes';
import type { NextFunction, Response, Router } from 'express';
import { AuditAction } from '../access/audit-event.entity.js';
import { ClientKind } from '../access/caller.js';
import { countyToday } from '../care-rules/calendar.js';
import { coveredMembers, insurerOfGroup } from '../domain/coverage/member-group.js';
import { isUuid } from '../domain/errors.js';
import { OrganizationType } from '../domain/organization/organization.entity.js';
import { insurerMembersGroup } from '../../fhir-mappings/group.js';
import { fhirError } from './outcome.js';
import type { FhirRequest, Reply } from './router.js';

type Audited = (action: AuditAction, handler: (req: FhirRequest) => Promise<Reply>) => (req: FhirRequest, res: Response, next: NextFunction) => Promise<void>;

/** The search parameters a member Group answers to (and the result parameters the search ignores). */
export const GROUP_SEARCH_PARAMS = ['_id', 'managing-entity', 'type', 'actual'] as const;
const IGNORED = new Set(['_format', '_pretty']);

/** Whether the caller reads insurers' Groups at all: 403 for anyone but an insurer and platform administrators. */
function assertReadsMemberGroups(req: FhirRequest, interaction: 'r' | 's'): void {
  const fhir = req.fhir!;
  fhir.store.assertCan('Group', interaction);
  if (fhir.policy.seesEverything || req.caller!.clientKind === ClientKind.INSURER) return;
  throw fhirError(403, 'forbidden', "a Group here is an insurer's covered members: read by the insurer and by platform administrators");
}

/** The Group of one insurer, its members as the caller may see them; every member listed is named in the audit. */
async function groupOf(req: FhirRequest, insurer: { id: string; name: string }): Promise<Group> {
  const members = await coveredMembers(req.fhir!.em, insurer.id, req.fhir!.policy, countyToday());
  for (const m of members) req.audit!.touch(m.patientId);
  return insurerMembersGroup({
    insurerId: insurer.id,
    insurerName: insurer.name,
    members: members.map((m) => ({ patientId: m.patientId, periodStart: m.periodStart, periodEnd: m.periodEnd ?? undefined, inactive: m.inactive })),
  });
}

/** The ids a reference parameter names: `Organization/{id}`, `{id}` or an absolute URL ending in `Organization/{id}`, comma-separated (OR). */
function idsOf(value: string, name: string): string[] {
  return value.split(',').map((v) => {
    if (!v.includes('/')) return v;
    const id = /(?:^|\/)Organization\/([^/]+)$/.exec(v)?.[1];
    if (!id) throw fhirError(400, 'invalid', `${name} must reference an Organization`, [name]);
    return id;
  });
}

/** Which insurers' Groups a search asks for: undefined for all of them; [] when its criteria match none. */
function insurersAsked(params: URLSearchParams): string[] | undefined {
  let ids: string[] | undefined;
  let none = false;
  for (const [name, value] of params) {
    if (IGNORED.has(name)) continue;
    if (name === '_id' || name === 'managing-entity') {
      const more = name === '_id' ? value.split(',') : idsOf(value, name);
      ids = ids ? ids.filter((id) => more.includes(id)) : more;
    } else if (name === 'type') none ||= !value.split(',').includes('person'); // every member Group is a group of persons
    else if (name === 'actual') none ||= value !== 'true'; // … and an actual one
    else throw fhirError(400, 'not-supported', `search parameter "${name}" is not supported for Group (${GROUP_SEARCH_PARAMS.join(', ')})`, [name]);
  }
  return none ? [] : ids;
}

export function addMemberGroupRoutes(router: Router, deps: { baseUrl: string; audited: Audited }): void {
  const { baseUrl, audited } = deps;

  // Writes (here and in Bundles) are 405 for everyone: READ_ONLY_TYPES, read-only.ts.

  router.get(
    '/Group',
    audited(AuditAction.SEARCH, async (req) => {
      assertReadsMemberGroups(req, 's');
      const params = new URLSearchParams(req.url.split('?')[1] ?? '');
      let asked = insurersAsked(params);
      const caller = req.caller!;
      // An insurer's search finds its own Group only; an administrator's, every insurer's.
      if (!req.fhir!.policy.seesEverything) asked = (asked ?? [caller.organizationId ?? '']).filter((id) => id === caller.organizationId);
      const wanted = asked?.filter(isUuid);
      const insurers =
        wanted?.length === 0
          ? []
          : ((await req.fhir!.em.execute(
              `select id, name from organization where type = ?${wanted ? ' and id = any(?::uuid[])' : ''} order by name, id`,
              [OrganizationType.INSURER, ...(wanted ? [`{${wanted.join(',')}}`] : [])],
            )) as Array<{ id: string; name: string }>);
      const groups: Group[] = [];
      for (const insurer of insurers) groups.push(await groupOf(req, insurer));
      const bundle: Bundle = {
        resourceType: 'Bundle',
        type: 'searchset',
        total: groups.length,
        link: [{ relation: 'self', url: `${baseUrl}/Group${params.size ? `?${params}` : ''}` }],
        entry: groups.map((g) => ({ fullUrl: `${baseUrl}/Group/${g.id}`, resource: g, search: { mode: 'match' } })),
      };
      return { status: 200, body: bundle };
    }),
  );

  router.get(
    '/Group/:id',
    audited(AuditAction.READ, async (req) => {
      assertReadsMemberGroups(req, 'r');
      const id = String(req.params.id);
      const insurer = await insurerOfGroup(req.fhir!.em, id);
      if (!insurer) throw fhirError(404, 'not-found', `Group/${id} not found: a Group here is an insurer's covered members, under the insurer Organization's id`);
      const caller = req.caller!;
      if (!req.fhir!.policy.seesEverything && caller.organizationId !== insurer.id) throw fhirError(403, 'forbidden', `Group/${id} is another insurer's members`);
      return { status: 200, body: await groupOf(req, insurer) };
    }),
  );
}
