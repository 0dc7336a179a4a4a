import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { isOpenPlannedVisit } from '../../care-rules/visits.js';
import { ConditionControl } from '../../care/state/condition-control.entity.js';
import { Condition } from '../../domain/condition/condition.entity.js';
import { FollowUp } from '../../domain/follow-up/follow-up.entity.js';
import { Observation } from '../../domain/observation/observation.entity.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import { Practitioner } from '../../domain/practitioner/practitioner.entity.js';
import type { Context } from '../context.js';

/** The care state the rules derive (src/care/state/, ADR 16), as the patient, condition, visit and reading show it. */
@Resolver(() => ConditionControl)
export class ConditionControlResolver {
  @FieldResolver(() => Observation, { nullable: true, description: 'The reading that decided the status (none for NO_RECENT_READING).' })
  decidedBy(@Root() c: ConditionControl, @Ctx() ctx: Context) {
    return c.observation ? ctx.loaders.observation.load(c.observation.id) : null;
  }
}

@Resolver(() => Condition)
export class ConditionStateResolver {
  @FieldResolver(() => ConditionControl, { nullable: true, description: 'Control status, for a standing hypertension or type 2 diabetes diagnosis (derived by the care rules).' })
  async control(@Root() c: Condition, @Ctx() ctx: Context) {
    const all = await ctx.loaders.conditionControlsByPatient.load(c.patient.id);
    return all.find((cc) => cc.conditionKind === c.kind) ?? null;
  }
}

@Resolver(() => Patient)
export class PatientStateResolver {
  @FieldResolver(() => [ConditionControl], { description: 'Control status of each managed condition (hypertension, type 2 diabetes), derived by the care rules.' })
  controlStatuses(@Root() p: Patient, @Ctx() ctx: Context) {
    return ctx.loaders.conditionControlsByPatient.load(p.id);
  }

  @FieldResolver(() => FollowUp, { nullable: true, description: 'The open planned visit (planned, not done, not cancelled): for a managed patient, the one the follow-up rules keep.' })
  async nextFollowUp(@Root() p: Patient, @Ctx() ctx: Context) {
    const visits = await ctx.loaders.followUpsByPatient.load(p.id);
    const open = visits.filter(isOpenPlannedVisit);
    return open.sort((a, b) => a.plannedDate!.localeCompare(b.plannedDate!) || a.id.localeCompare(b.id))[0] ?? null;
  }

  @FieldResolver(() => Practitioner, { nullable: true, description: 'Who overrode the derived tier/colour (from their sign-in); null when derived.' })
  managementOverriddenBy(@Root() p: Patient, @Ctx() ctx: Context) {
    return p.managementOverriddenBy ? ctx.loaders.practitioner.load(p.managementOverriddenBy.id) : null;
  }
}

@Resolver(() => FollowUp)
export class FollowUpStateResolver {
  @FieldResolver(() => [Observation], { description: 'The readings taken at the visit (linked to it): what its control status is derived from.' })
  readings(@Root() f: FollowUp, @Ctx() ctx: Context) {
    return ctx.loaders.readingsByFollowUp.load(f.id);
  }
}

@Resolver(() => Observation)
export class ObservationStateResolver {
  @FieldResolver(() => FollowUp, { nullable: true, description: 'The visit the reading was taken at.' })
  followUp(@Root() o: Observation, @Ctx() ctx: Context) {
    return o.followUp ? ctx.loaders.followUp.load(o.followUp.id) : null;
  }
}
