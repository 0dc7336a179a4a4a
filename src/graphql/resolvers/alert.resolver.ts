import { Arg, Ctx, Field, FieldResolver, ID, InputType, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { Alert, AlertKind, AlertSeverity, AlertState } from '../../care/alerts/alert.entity.js';
import { AlertService, type AlertFilter } from '../../care/alerts/alert.service.js';
import type { UrgentAlertFeed } from '../../care/alerts/urgent-feed.js';
import { badInput, isUuid, notFound } from '../../domain/errors.js';
import { Organization } from '../../domain/organization/organization.entity.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import { Practitioner } from '../../domain/practitioner/practitioner.entity.js';
import { ConditionKind } from '../../../vocabulary/index.js';
import { Connection } from '../connection.js';
import type { Context } from '../context.js';
import { forgetLoaded } from '../loaders.js';

export const AlertConnection = Connection(Alert, 'Alert');

@InputType()
export class AlertFilterInput implements AlertFilter {
  @Field(() => ID, { nullable: true, description: 'Alerts concerning this organisation or one below it.' })
  organizationId?: string;

  @Field(() => [ID], { nullable: true })
  patientIds?: string[];

  @Field(() => [AlertSeverity], { nullable: true })
  severities?: AlertSeverity[];

  @Field(() => [AlertState], { nullable: true, description: 'Default: every state.' })
  states?: AlertState[];

  @Field(() => [AlertKind], { nullable: true })
  kinds?: AlertKind[];

  @Field(() => [ConditionKind], { nullable: true })
  conditionKinds?: ConditionKind[];
}

/** What a subscription's context has beyond a request's (src/graphql/subscriptions.ts). */
export interface SubscriptionContext extends Context {
  urgentAlerts: UrgentAlertFeed;
  /** Records that this subscription was shown a patient's alert (the audit, as a request's read). */
  auditPush(patientId: string): Promise<void>;
}

const service = (ctx: Context) => new AlertService(ctx.em, ctx.policy);

@Resolver(() => Alert)
export class AlertResolver {
  @Query(() => Alert, { description: 'NOT_FOUND when there is no such alert or its patient is not yours to see.' })
  alert(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return service(ctx).get(id);
  }

  @Query(() => AlertConnection, { description: 'Alerts of the patients you may see, newest first (docs/care-model.md, "Alerts").' })
  async alerts(
    @Ctx() ctx: Context,
    @Arg('filter', () => AlertFilterInput, { nullable: true }) filter?: AlertFilterInput,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', { nullable: true }) after?: string,
  ) {
    return AlertConnection.from(await service(ctx).search({ ...filter }, first, after));
  }

  @Mutation(() => Alert, { description: 'Seen and being handled, by you. CONFLICT when the version is stale or the alert is no longer open.' })
  acknowledgeAlert(@Arg('id', () => ID) id: string, @Arg('version', () => Int) version: number, @Ctx() ctx: Context) {
    return service(ctx).acknowledge(id, version);
  }

  @Mutation(() => Alert, { description: 'Resolved by you, saying how. CONFLICT when the version is stale or it is resolved already.' })
  resolveAlert(@Arg('id', () => ID) id: string, @Arg('version', () => Int) version: number, @Arg('resolution') resolution: string, @Ctx() ctx: Context) {
    return service(ctx).resolve(id, version, resolution);
  }

  @Subscription(() => Alert, {
    description:
      'Urgent alerts as they are raised (over WebSocket, graphql-ws, at /graphql): those of patients you may see that concern your organisation or one below it — and, with organizationId, that one or below it.',
    subscribe: async ({ args, context }) => {
      const ctx = context as SubscriptionContext;
      let path: string | undefined;
      const organizationId = (args as { organizationId?: string }).organizationId;
      if (organizationId) {
        if (!isUuid(organizationId)) throw badInput('organizationId is not an id', 'organizationId');
        const organization = await ctx.em.findOne(Organization, { id: organizationId });
        if (!organization) throw notFound('Organization', organizationId);
        path = organization.path;
      }
      return ctx.urgentAlerts.subscribe(ctx.policy, path);
    },
  })
  async urgentAlertRaised(@Root() alert: Alert, @Ctx() ctx: Context, @Arg('organizationId', () => ID, { nullable: true }) _organizationId?: string): Promise<Alert> {
    // Each push is shown afresh (a long subscription must not show a patient as first loaded), and audited.
    forgetLoaded(ctx.loaders);
    await (ctx as SubscriptionContext).auditPush(alert.patient.id);
    return alert;
  }

  @FieldResolver(() => Patient, { description: "The alert's patient." })
  async patient(@Root() a: Alert, @Ctx() ctx: Context) {
    const patient = await ctx.loaders.patient.load(a.patient.id);
    if (!patient) throw notFound('Patient', a.patient.id);
    return patient;
  }

  @FieldResolver(() => Organization, { description: "The organisation concerned: the patient's managing organisation when the alert was raised." })
  organization(@Root() a: Alert, @Ctx() ctx: Context) {
    return ctx.loaders.organization.load(a.organization.id);
  }

  @FieldResolver(() => Practitioner, { nullable: true })
  acknowledgedBy(@Root() a: Alert, @Ctx() ctx: Context) {
    return a.acknowledgedBy ? ctx.loaders.practitioner.load(a.acknowledgedBy.id) : null;
  }

  @FieldResolver(() => Practitioner, { nullable: true, description: 'Who resolved it by hand, or whose referral settled it; none when its cause went by itself.' })
  resolvedBy(@Root() a: Alert, @Ctx() ctx: Context) {
    return a.resolvedBy ? ctx.loaders.practitioner.load(a.resolvedBy.id) : null;
  }
}

@Resolver(() => Patient)
export class PatientAlertsResolver {
  @FieldResolver(() => [Alert], { description: "The patient's alerts, newest first; by default those not resolved." })
  async alerts(@Root() p: Patient, @Ctx() ctx: Context, @Arg('states', () => [AlertState], { nullable: true }) states?: AlertState[]) {
    const wanted = new Set(states ?? [AlertState.OPEN, AlertState.ACKNOWLEDGED]);
    return (await ctx.loaders.alertsByPatient.load(p.id)).filter((a) => wanted.has(a.state));
  }
}
