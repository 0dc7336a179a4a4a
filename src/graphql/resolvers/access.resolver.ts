import { Arg, Ctx, Field, FieldResolver, ID, InputType, Int, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { AuditAction, AuditEvent } from '../../access/audit-event.entity.js';
import { Role } from '../../access/caller.js';
import { isSensitive } from '../../access/identifier-protection.js';
import { Consent, ConsentDecision, ConsentPurpose } from '../../domain/consent/consent.entity.js';
import type { RecordConsentInput as RecordConsent } from '../../domain/consent/consent.service.js';
import { badInput, isUuid } from '../../domain/errors.js';
import { Organization } from '../../domain/organization/organization.entity.js';
import { PatientIdentifier } from '../../domain/patient/patient.entity.js';
import { Practitioner } from '../../domain/practitioner/practitioner.entity.js';
import { decodeCursor, encodeCursor, pageSize } from '../../domain/pagination.js';
import { Connection } from '../connection.js';
import type { Context } from '../context.js';
import { LocalDate } from '../scalars.js';

@Resolver(() => PatientIdentifier)
export class PatientIdentifierResolver {
  @FieldResolver(() => String, { description: 'Resident ID numbers are masked to their area code (330326************) unless your role needs them in full.' })
  value(@Root() identifier: PatientIdentifier, @Ctx() ctx: Context): string {
    if (!isSensitive(identifier.kind) || !identifier.cipher) return identifier.value;
    return ctx.policy.revealsResidentIds ? ctx.security.protector.reveal(identifier.system, identifier.cipher) : identifier.value;
  }
}

@ObjectType()
export class Viewer {
  @Field()
  subject!: string;

  @Field()
  kind!: string;

  @Field(() => [Role])
  roles!: Role[];

  @Field(() => [String])
  scopes!: string[];

  @Field(() => Organization, { nullable: true })
  organization?: Organization | null;

  @Field(() => Practitioner, { nullable: true })
  practitioner?: Practitioner | null;
}

@InputType()
export class RecordConsentInput implements RecordConsent {
  @Field(() => ID)
  patientId!: string;

  @Field(() => ConsentPurpose)
  purpose!: ConsentPurpose;

  @Field(() => ConsentDecision)
  decision!: ConsentDecision;

  @Field(() => LocalDate)
  periodStart!: string;

  @Field(() => LocalDate, { nullable: true })
  periodEnd?: string;

  @Field({ nullable: true })
  note?: string;
}

@InputType()
export class AuditEventFilter {
  @Field(() => ID, { nullable: true, description: 'Events that touched this patient.' })
  patientId?: string;

  @Field({ nullable: true })
  actor?: string;

  @Field(() => AuditAction, { nullable: true })
  action?: AuditAction;

  @Field({ nullable: true })
  from?: Date;

  @Field({ nullable: true })
  to?: Date;
}

export const AuditEventConnection = Connection(AuditEvent, 'AuditEvent');

@Resolver()
export class AccessResolver {
  @Query(() => Viewer, { description: 'Who the bearer token says you are.' })
  async viewer(@Ctx() ctx: Context): Promise<Viewer> {
    const c = ctx.policy.caller;
    return {
      subject: c.subject,
      kind: c.kind,
      roles: c.roles,
      scopes: c.scopes,
      organization: c.organizationId ? await ctx.loaders.organization.load(c.organizationId) : null,
      practitioner: c.practitionerId ? await ctx.loaders.practitioner.load(c.practitionerId) : null,
    };
  }

  @Mutation(() => Consent, { description: "Records a patient's consent decision for one purpose (treatment, insurer data sharing, research)." })
  recordConsent(@Arg('input', () => RecordConsentInput) input: RecordConsentInput, @Ctx() ctx: Context) {
    return ctx.services.consents.record(input);
  }

  @Query(() => AuditEventConnection, { description: 'Audit trail, newest first. Platform administrators see all; community administrators their subtree.' })
  async auditEvents(
    @Ctx() ctx: Context,
    @Arg('filter', () => AuditEventFilter, { nullable: true }) filter?: AuditEventFilter,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', { nullable: true }) after?: string,
  ) {
    ctx.policy.assertCan('AuditEvent', 'r');
    const limit = pageSize(first);
    const cursor = decodeCursor(after, 2) as [string, string] | undefined;
    // A cursor is (recordedAt, id) as this API encoded it; anything else must not reach SQL.
    const issued = (at: unknown) => typeof at === 'string' && !Number.isNaN(Date.parse(at)) && new Date(at).toISOString() === at;
    if (cursor && (!issued(cursor[0]) || typeof cursor[1] !== 'string' || !isUuid(cursor[1]))) {
      throw badInput('after is not a cursor this API issued', 'after');
    }
    if (filter?.patientId && !isUuid(filter.patientId)) throw badInput('patientId is not an id', 'filter.patientId');
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, ...p: unknown[]) => {
      where.push(sql);
      params.push(...p);
    };
    const visible = ctx.policy.auditVisible('a');
    if (visible) add(visible.sql, ...visible.params);
    if (filter?.patientId) add('a.patient_ids @> ?::uuid[]', `{${filter.patientId}}`);
    if (filter?.actor) add('a.actor = ?', filter.actor);
    if (filter?.action) add('a.action = ?', filter.action);
    if (filter?.from) add('a.recorded_at >= ?', filter.from);
    if (filter?.to) add('a.recorded_at <= ?', filter.to);
    const base = [...where];
    const baseParams = [...params];
    if (cursor) add('(a.recorded_at, a.id) < (?, ?)', new Date(cursor[0]), cursor[1]);
    const clause = (w: string[]) => (w.length ? `where ${w.map((x) => `(${x})`).join(' and ')}` : '');
    const rows = (await ctx.em.execute(`select a.* from audit_event a ${clause(where)} order by a.recorded_at desc, a.id desc limit ?`, [...params, limit + 1])) as Record<string, unknown>[];
    const items = rows.slice(0, limit).map((r) => ctx.em.map(AuditEvent, r as never));
    return AuditEventConnection.from({
      items,
      hasNextPage: rows.length > limit,
      cursorOf: (e) => encodeCursor([e.recordedAt.toISOString(), e.id]),
      count: async () => Number(((await ctx.em.execute(`select count(*) as n from audit_event a ${clause(base)}`, baseParams)) as Array<{ n: string }>)[0]!.n),
    });
  }
}

@Resolver(() => Consent)
export class ConsentResolver {
  @FieldResolver(() => Practitioner, { nullable: true })
  recordedBy(@Root() c: Consent, @Ctx() ctx: Context) {
    return c.recordedBy ? ctx.loaders.practitioner.load(c.recordedBy.id) : null;
  }
}
