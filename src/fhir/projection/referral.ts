import { mappings, referralStatusOfRequest, type ReferralShape, type ReferralTaskShape } from '../../../fhir-mappings/index.js';
import { LEVEL_RANK, Organization, OrganizationLevel } from '../../domain/organization/organization.entity.js';
import { Referral, ReferralDirection, ReferralReason, ReferralStatus } from '../../domain/referral/referral.entity.js';
import { ReferralService, type ReferralStep } from '../../domain/referral/referral.service.js';
import { existingRecord, flushUnlessDeferred, idOf, markFromFhir, type ProjectionContext, type ProjectionWarnings, viaService, warning } from './context.js';
import { taskAsSent } from '../domain-resources.js';
import { knownPatient, knownPractitioner, sqlOf } from './links.js';
import { unscopedTasksFocusing } from '../store-sql.js';

/**
 * The Task stored for a referral (its focus), in that patient's record: a Task may come before its
 * ServiceRequest, in an earlier request. Read past the access filter within the record the caller is writing to.
 */
export async function storedTaskOf(ctx: ProjectionContext, referralId: string, patientId: string): Promise<ReferralTaskShape | undefined> {
  const rows = await unscopedTasksFocusing(sqlOf(ctx), [patientId], [`ServiceRequest/${referralId}`]);
  const content = rows.at(-1)?.content;
  if (!content) return undefined;
  return mappings.Task.fromFhir((typeof content === 'string' ? JSON.parse(content) : content) as never).domain;
}

const stepOf = (task: ReferralTaskShape): ReferralStep => {
  const refs = task.resultRefs ?? [];
  const ids = (type: string) => refs.map((r) => idOf(r, type)).filter((id): id is string => !!id);
  return {
    status: task.status,
    reason: task.statusReason,
    outcomeSummary: task.outcomeSummary,
    results: { observationIds: ids('Observation'), conditionIds: ids('Condition') },
    at: { ACCEPTED: task.acceptedAt, COMPLETED: task.completedAt, REJECTED: task.rejectedAt, CANCELLED: task.cancelledAt },
  };
};

/** A warning for each Task output naming a reading or diagnosis the care record could not link to the referral. */
function unlinkedResults(task: ReferralTaskShape, unlinked: string[]): ProjectionWarnings {
  const named = (task.resultRefs ?? []).filter((r) => !idOf(r, 'Observation') && !idOf(r, 'Condition'));
  return [...named, ...unlinked].map((what) =>
    warning('incomplete', `Task.output ${what} is not a reading or diagnosis of this patient's in the care record (send it before the Task, or earlier in the Bundle): not linked to the referral`, ['Task.output']),
  );
}

/**
 * A ServiceRequest that is a referral (its code or category says so) → a referral, through ReferralService:
 * between two organisations of the county, the direction their levels give when the request does not say it.
 * One whose organisations are not known or outside the county stays in the FHIR store only, with a warning;
 * orders (a lab test, physiotherapy) are not referrals and stay there too. Its status is the Task's to move.
 */
export async function projectServiceRequest(ctx: ProjectionContext, id: string, shape: ReferralShape): Promise<ProjectionWarnings> {
  if (!shape.isReferral) return [];
  const patient = await knownPatient(ctx, shape.patientRef);
  if (!patient) return [warning('incomplete', 'stored; not a referral in the care record: its patient is not one the county knows', ['ServiceRequest.subject'])];
  const fromId = idOf(shape.fromOrganizationRef, 'Organization') ?? (shape.fromOrganizationRef ? undefined : ctx.policy.caller.organizationId);
  const toId = idOf(shape.toOrganizationRef, 'Organization');
  const orgs = fromId || toId ? await ctx.em.find(Organization, { id: { $in: [fromId, toId].filter((x): x is string => !!x) } }) : [];
  const from = orgs.find((o) => o.id === fromId);
  const to = orgs.find((o) => o.id === toId);
  const inCounty = (o: Organization | undefined): o is Organization => !!o && o.level !== OrganizationLevel.EXTERNAL;
  if (!inCounty(from) || !inCounty(to) || from.id === to.id) {
    return [warning('incomplete', 'stored; not a referral in the care record: it does not run between two organisations of the county', ['ServiceRequest.performer'])];
  }
  const direction = shape.direction ?? (LEVEL_RANK[to.level] < LEVEL_RANK[from.level] ? ReferralDirection.UP : LEVEL_RANK[to.level] > LEVEL_RANK[from.level] ? ReferralDirection.DOWN : undefined);
  if (!direction) return [warning('incomplete', 'stored; not a referral in the care record: both organisations are of one level', ['ServiceRequest.performer'])];
  const warnings: ProjectionWarnings = [];
  const fromPractitionerId = await knownPractitioner(ctx, shape.fromPractitionerRef, 'ServiceRequest.requester', warnings);
  const toPractitionerId = await knownPractitioner(ctx, shape.toPractitionerRef, 'ServiceRequest.performer', warnings);
  const existing = await existingRecord(ctx, Referral, id);
  const service = new ReferralService(ctx.em, ctx.policy);
  const requested = referralStatusOfRequest(shape.requestStatus);
  const referral = await viaService('ServiceRequest', async () => {
    const r = await service.put(
      id,
      {
        patientId: patient.id,
        direction,
        fromOrganizationId: from.id,
        toOrganizationId: to.id,
        fromPractitionerId,
        toPractitionerId,
        reason: shape.reason ?? ReferralReason.OTHER,
        reasonText: shape.reasonText,
        urgency: shape.urgency,
        clinicalSummary: shape.clinicalSummary,
        requestedAt: shape.requestedAt,
        status: requested,
        closesReferralId: await knownReferral(ctx, shape.closesRef),
      },
      existing,
    );
    markFromFhir(r);
    // Its Task, if it came first (in this Bundle, or stored before), says where the referral's workflow is.
    const task = existing ? undefined : (ctx.links.tasks.get(id) ?? (await storedTaskOf(ctx, id, patient.id)));
    ctx.links.tasks.delete(id);
    if (task) await service.follow(r, stepOf(task));
    // A request the sender itself ended (completed, revoked) ends the referral, as its Task would.
    else if (existing && requested !== ReferralStatus.REQUESTED && requested !== r.status) await service.follow(r, { status: requested });
    return r;
  });
  markFromFhir(referral);
  await flushUnlessDeferred(ctx);
  return warnings;
}

/**
 * A Task fulfilling a referral (its focus, or basedOn, is the ServiceRequest) moves the referral through its
 * lifecycle (referral-lifecycle.ts), under the rules GraphQL's acceptReferral, rejectReferral, … apply: the
 * receiver accepts, rejects, completes; the sender cancels. A Task whose referral is not (yet) in the domain
 * waits for its ServiceRequest; other Tasks live in the FHIR store only.
 */
export async function projectTask(ctx: ProjectionContext, _id: string, shape: ReferralTaskShape): Promise<ProjectionWarnings> {
  const referralId = idOf(shape.referralRef, 'ServiceRequest');
  if (!referralId) return [];
  const referral =
    ctx.em.getUnitOfWork().getById<Referral>(Referral, referralId) ?? (await ctx.em.findOne(Referral, { id: referralId }, { populate: ['fromOrganization', 'toOrganization'] }));
  if (!referral) {
    ctx.links.tasks.set(referralId, shape);
    return [];
  }
  const unlinked = await viaService('Task', () => new ReferralService(ctx.em, ctx.policy).follow(referral, stepOf(shape)));
  // The Task stays as sent; the referral's ServiceRequest (ours, or the sender's merged) follows its status.
  taskAsSent.add(referral);
  await flushUnlessDeferred(ctx);
  return unlinkedResults(shape, unlinked);
}

/** The referral a ServiceRequest's basedOn names, when it is one the domain has (else an order, or unknown: no link). */
async function knownReferral(ctx: ProjectionContext, ref: string | undefined): Promise<string | undefined> {
  const id = idOf(ref, 'ServiceRequest');
  if (!id) return undefined;
  const found = ctx.em.getUnitOfWork().getById<Referral>(Referral, id) ?? (await ctx.em.findOne(Referral, { id }, { filters: false }));
  return found?.id;
}
