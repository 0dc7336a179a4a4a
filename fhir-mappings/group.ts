import type { Group, GroupMember } from '@medplum/fhirtypes';


/** One membership of an insurer's Group: a coverage of the patient with this insurer. */
export interface InsurerMemberShape {
  patientId: string;
  /** ISO dates: the coverage's period (no end: open). */
  periodStart: string;
  periodEnd?: string;
  /** The coverage is not in force today (not begun yet, or ended). */
  inactive: boolean;
}

export interface InsurerMembersShape {
  /** The insurer Organization's id: the Group's id too. */
  insurerId: string;
  insurerName: string;
  members: InsurerMemberShape[];
}

/**
 * An insurer's covered members as a FHIR Group (computed, never received): an actual group of persons managed by the
 * insurer, one member per coverage with the coverage's period, `inactive` when it is not in force today. `quantity`
 * counts the persons listed (one person covered twice, two periods, is one). Built by hand, not through
 * `defineMapping`: there is nothing to read back — a Group is not taken in, and 50,000 members go through no merge.
 */
export function insurerMembersGroup(s: InsurerMembersShape): Group {
  const persons = new Set<string>();
  const member: GroupMember[] = s.members.map((m) => {
    persons.add(m.patientId);
    const period = m.periodEnd ? { start: m.periodStart, end: m.periodEnd } : { start: m.periodStart };
    return m.inactive ? { entity: { reference: `Patient/${m.patientId}` }, period, inactive: true } : { entity: { reference: `Patient/${m.patientId}` }, period };
  });
  return {
    resourceType: 'Group',
    id: s.insurerId,
    type: 'person',
    actual: true,
    name: `Members of ${s.insurerName}`,
    managingEntity: { reference: `Organization/${s.insurerId}`, display: s.insurerName },
    quantity: persons.size,
    // FHIR has no empty arrays: an insurer with no member listed has no member element.
    member: member.length ? member : undefined,
  };
}
