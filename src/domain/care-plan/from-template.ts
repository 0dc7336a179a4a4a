import type { EntityManager } from '../../db/orm.js';
import type { CareRules } from '../../care-rules/rules.js';
import { countyToday } from '../../care-rules/calendar.js';
import { ActivityCategory, ConditionKind, ManagementTier } from '../../../vocabulary/index.js';
import { badInput } from '../errors.js';
import { Patient } from '../patient/patient.entity.js';
import { mustFind } from '../patient/patient.service.js';
import type { CarePlan, CarePlanStatus } from './care-plan.entity.js';
import type { CarePlanInput, CarePlanService } from './care-plan.service.js';
import { type CarePlanTemplate, carePlanTemplate, carePlanTemplates } from './templates.js';

export interface FromTemplateInput {
  patientId: string;
  /** A template's id; or `conditionKind` (and `tier`) to pick one. */
  templateId?: string | null;
  conditionKind?: ConditionKind | null;
  /** The patient's management tier when not given. */
  tier?: ManagementTier | null;
  /** Today (county calendar) when not given. */
  periodStart?: string | null;
  /** A year after the start (the yearly re-assessment), the day before, when not given. */
  periodEnd?: string | null;
  status?: CarePlanStatus | null;
  /** Whether the patient smokes: smoking cessation is prescribed only to one who does. */
  smoker?: boolean | null;
  /** The group the SELF_MANAGEMENT_GROUP activity names. */
  selfManagementGroupId?: string | null;
  authorId?: string | null;
  organizationId?: string | null;
  note?: string | null;
}

/** The day before the same date a year on: a plan's default year. */
function aYearFrom(start: string): string {
  const d = new Date(`${start}T00:00:00Z`);
  d.setUTCFullYear(d.getUTCFullYear() + 1);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

/**
 * A care plan drawn up from a template (templates.ts): its goals, due by the end of the plan's period, and its
 * non-medical prescriptions, which the clinician then changes like any plan's (CarePlanService). It is created by
 * `CarePlanService.create`, with the same checks, attribution and versions as a plan typed in.
 */
export class CarePlanTemplateService {
  constructor(
    private readonly em: EntityManager,
    private readonly rules: CareRules,
    private readonly carePlans: CarePlanService,
  ) {}

  list(conditionKind?: ConditionKind | null, tier?: ManagementTier | null): CarePlanTemplate[] {
    return carePlanTemplates(this.rules, conditionKind, tier);
  }

  async create(input: FromTemplateInput): Promise<CarePlan> {
    const template = await this.templateFor(input);
    const periodStart = input.periodStart ?? countyToday();
    const periodEnd = input.periodEnd ?? aYearFrom(periodStart);
    const plan: CarePlanInput = {
      patientId: input.patientId,
      title: template.title,
      status: input.status,
      addresses: [template.conditionKind],
      periodStart,
      periodEnd,
      authorId: input.authorId,
      organizationId: input.organizationId,
      note: input.note,
      goals: template.goals.map((goal) => ({ ...goal, dueDate: periodEnd })),
      activities: template.activities
        .filter((a) => !a.forSmokersOnly || input.smoker === true)
        .map(({ forSmokersOnly: _, ...a }) => (a.category === ActivityCategory.SELF_MANAGEMENT_GROUP && input.selfManagementGroupId ? { ...a, selfManagementGroupId: input.selfManagementGroupId } : a)),
    };
    return this.carePlans.create(plan);
  }

  /** The template named, or the one of the condition and tier (the patient's own tier when none is given). */
  private async templateFor(input: FromTemplateInput): Promise<CarePlanTemplate> {
    if (input.templateId) {
      const template = carePlanTemplate(this.rules, input.templateId);
      if (!template) throw badInput(`no care-plan template ${input.templateId}`, 'templateId');
      if ((input.conditionKind && input.conditionKind !== template.conditionKind) || (input.tier && input.tier !== template.tier)) {
        throw badInput(`template ${template.id} is for ${template.conditionKind}, ${template.tier}`, 'templateId');
      }
      return template;
    }
    if (!input.conditionKind) throw badInput('name a templateId, or a conditionKind', 'conditionKind');
    const tier = input.tier ?? (await mustFind(this.em, Patient, input.patientId, 'patientId')).managementTier;
    if (!tier) throw badInput('the patient has no management tier: name one', 'tier');
    const [template] = carePlanTemplates(this.rules, input.conditionKind, tier);
    if (!template) throw badInput(`no care-plan template for ${input.conditionKind}`, 'conditionKind');
    return template;
  }
}
