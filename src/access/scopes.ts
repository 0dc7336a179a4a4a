import type { Caller } from './caller.js';
import { ClientKind, Role } from './caller.js';

/**
 * SMART v2 scopes: `system/<ResourceType>.<c r u d s>` (and `*` for every type). People get scopes from
 * their role; system clients get exactly the scopes they were granted and asked for.
 */
export type Interaction = 'c' | 'r' | 'u' | 'd' | 's';

export const CLINICAL_RESOURCE_TYPES = [
  'Patient',
  'Condition',
  'Observation',
  'CarePlan',
  'ServiceRequest',
  'Encounter',
  'Coverage',
  'Consent',
] as const;

const ROLE_SCOPES: Record<Role, string[]> = {
  VILLAGE_DOCTOR: ['user/*.cruds'],
  GENERAL_PRACTITIONER: ['user/*.cruds'],
  NURSE: ['user/*.cruds'],
  SPECIALIST: ['user/*.cruds'],
  PUBLIC_HEALTH: ['user/*.cruds'],
  COMMUNITY_ADMIN: ['user/*.rs', 'user/Consent.cruds', 'user/AuditEvent.rs'],
  PLATFORM_ADMIN: ['user/*.cruds', 'user/AuditEvent.rs'],
};

export function scopesForRoles(roles: Role[]): string[] {
  return [...new Set(roles.flatMap((r) => ROLE_SCOPES[r]))];
}

const SCOPE = /^(system|user|patient)\/([A-Za-z]+|\*)\.([cruds]+|\*|read|write)$/;

export function parseScope(scope: string): { context: string; type: string; interactions: Set<Interaction> } | undefined {
  const m = SCOPE.exec(scope);
  if (!m) return undefined;
  const [, context, type, perms] = m;
  // SMART v1 `read` / `write` are accepted as their v2 equivalents.
  const v2 = perms === 'read' ? 'rs' : perms === 'write' ? 'cud' : perms === '*' ? 'cruds' : perms!;
  return { context: context!, type: type!, interactions: new Set(v2.split('') as Interaction[]) };
}

export function allows(scopes: string[], resourceType: string, interaction: Interaction): boolean {
  return scopes.some((s) => {
    const p = parseScope(s);
    return !!p && (p.type === '*' || p.type === resourceType) && p.interactions.has(interaction);
  });
}

/**
 * A requested scope is within a granted one when it names the same context, the same type (or the grant is `*`),
 * and only interactions the grant has: SMART v2 lets a client ask for less than it was granted
 * (`system/Patient.rs` of a `system/Patient.cruds` grant).
 */
export function scopeWithin(requested: string, granted: string[]): boolean {
  const r = parseScope(requested);
  if (!r) return false;
  return granted.some((g) => {
    const p = parseScope(g);
    return !!p && p.context === r.context && (p.type === '*' || p.type === r.type) && [...r.interactions].every((i) => p.interactions.has(i));
  });
}

/**
 * The resource types the caller's scopes allow an interaction on: `*` for every type, else the list (empty:
 * none). What the store returns is limited by this on every path — a read, a search's matches and includes,
 * $everything, history — not only by the type a request names.
 */
export function typesAllowed(caller: Caller, interaction: Interaction): '*' | string[] {
  if (caller.kind === 'internal') return '*';
  if (caller.clientKind === ClientKind.INSURER && !['r', 's'].includes(interaction)) return [];
  const types = new Set<string>();
  for (const s of caller.scopes) {
    const p = parseScope(s);
    if (!p || !p.interactions.has(interaction)) continue;
    if (p.type === '*') return '*';
    types.add(p.type);
  }
  return [...types].sort();
}

/** Insurers only ever read; whatever scopes a registration lists, writes are not among them. */
export function callerAllows(caller: Caller, resourceType: string, interaction: Interaction): boolean {
  if (caller.kind === 'internal') return true;
  if (caller.clientKind === ClientKind.INSURER && !['r', 's'].includes(interaction)) return false;
  return allows(caller.scopes, resourceType, interaction);
}
