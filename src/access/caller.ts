/** What a person may do is set by role; the organisation (and its subtree) sets over whom. */
export enum Role {
  VILLAGE_DOCTOR = 'VILLAGE_DOCTOR',
  GENERAL_PRACTITIONER = 'GENERAL_PRACTITIONER',
  NURSE = 'NURSE',
  SPECIALIST = 'SPECIALIST',
  PUBLIC_HEALTH = 'PUBLIC_HEALTH',
  COMMUNITY_ADMIN = 'COMMUNITY_ADMIN',
  PLATFORM_ADMIN = 'PLATFORM_ADMIN',
}

export enum ClientKind {
  HOSPITAL = 'HOSPITAL',
  INSURER = 'INSURER',
}

/**
 * Who is asking, resolved once per request from the bearer token. Every read and write is decided from
 * this object by the policy (`policy.ts`); nothing else looks at tokens.
 */
export interface Caller {
  kind: 'user' | 'system' | 'internal';
  /** Token subject: the user's id at the identity provider, or the client id. */
  subject: string;
  roles: Role[];
  /** System clients: what kind, and its SMART scopes (e.g. `system/Observation.rs`). */
  clientKind?: ClientKind;
  clientId?: string;
  scopes: string[];
  organizationId?: string;
  /** Materialised path of the caller's organisation: its subtree is every path with this prefix. */
  organizationPath?: string;
  practitionerId?: string;
  /** A person acting through a system (e.g. the HIS user behind a hospital client), when the token says. */
  onBehalfOf?: string;
}

/** For migrations, seeding and CLI commands run by an operator: sees everything, is never an API caller. */
export const INTERNAL_CALLER: Caller = { kind: 'internal', subject: 'internal', roles: [Role.PLATFORM_ADMIN], scopes: ['system/*.cruds'] };

export const hasRole = (caller: Caller, ...roles: Role[]) => caller.roles.some((r) => roles.includes(r));
