import type { CareTeam, CareTeamParticipant } from '@medplum/fhirtypes';
import { NCD_EXTENSIONS } from './codes.js';
import { defineMapping, findExtension, refOf, toReference } from './common.js';
import type { CareTeamShape } from './domain-shapes.js';
import { roleConcept, roleOf } from './practitioner-role.js';

export const careTeamMapping = defineMapping<CareTeam, CareTeamShape>({
  resourceType: 'CareTeam',
  read(t) {
    return {
      name: t.name,
      status: t.status,
      patientRef: refOf(t.subject, 'Patient'),
      organizationRef: refOf(t.managingOrganization?.[0], 'Organization'),
      gridRef: refOf(findExtension(t.extension, NCD_EXTENSIONS.grid)?.valueReference, 'Location'),
      members: (t.participant ?? []).flatMap((p) => {
        const memberRef = refOf(p.member);
        return memberRef ? [{ memberRef, role: roleOf(p.role) }] : [];
      }),
    };
  },
  build(s) {
    return {
      resourceType: 'CareTeam',
      extension: s.gridRef ? [{ url: NCD_EXTENSIONS.grid, valueReference: toReference(s.gridRef) }] : undefined,
      status: s.status ?? 'active',
      name: s.name,
      subject: toReference(s.patientRef),
      participant: s.members.map((m): CareTeamParticipant => ({ role: m.role ? [roleConcept(m.role)] : undefined, member: toReference(m.memberRef) })),
      managingOrganization: s.organizationRef ? [toReference(s.organizationRef)!] : undefined,
    };
  },
  merge: {
    // A participant is who it is: match them by member, so their period and other roles survive.
    arrays: { participant: (p) => refOf((p as CareTeamParticipant).member) },
    atomic: ['participant.role'],
  },
});
