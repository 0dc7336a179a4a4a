import type { EntityManager } from '../../db/orm.js';
import type { AccessPolicy } from '../../access/policy.js';
import { attributeOne } from '../../access/attribution.js';
import { countyToday } from '../../care-rules/calendar.js';
import { PATHWAY_CONDITION_KINDS } from '../../care-rules/pathway.js';
import type { CareRules } from '../../care-rules/rules.js';
import { reassess } from '../../care/index.js';
import { badInput } from '../errors.js';
import { mustFind } from '../patient/patient.service.js';
import { Patient } from '../patient/patient.entity.js';
import type { ConditionKind } from '../../../vocabulary/index.js';
import { Assessment, type AssessmentKind, type Complication, type RiskFactor, type TargetOrganDamage } from './assessment.entity.js';

export interface RecordAssessmentInput {
  patientId: string;
  conditionKind: ConditionKind;
  kind: AssessmentKind;
  /** Today when not given. */
  assessedOn?: string | null;
  riskFactors?: RiskFactor[] | null;
  complications?: Complication[] | null;
  targetOrganDamage?: TargetOrganDamage[] | null;
  note?: string | null;
  /** Who assessed: the caller when not given; else the caller or a colleague (src/access/attribution.ts). */
  assessedById?: string | null;
  organizationId?: string | null;
}

export class AssessmentService {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
    private readonly rules: CareRules,
  ) {}

  /**
   * Records a health assessment and moves the patient's pathway in the same transaction (ADR 16: the answer carries
   * the new step). Only programme conditions are assessed (not OTHER); the day may be neither in the future nor
   * before the birth date.
   */
  async record(input: RecordAssessmentInput): Promise<Assessment> {
    this.policy.assertCan('ClinicalImpression', 'c');
    if (!PATHWAY_CONDITION_KINDS.includes(input.conditionKind)) throw badInput(`${input.conditionKind} is not a programme condition`, 'conditionKind');
    const assessedOn = input.assessedOn ?? countyToday();
    if (assessedOn > countyToday()) throw badInput('assessedOn is in the future', 'assessedOn');
    return this.em.transactional(async (em) => {
      const patient = await mustFind(em, Patient, input.patientId, 'patientId');
      if (patient.birthDate && assessedOn < patient.birthDate) throw badInput('assessedOn is before the birth date', 'assessedOn');
      const by = await attributeOne(em, this.policy, { practitionerId: input.assessedById, organizationId: input.organizationId }, { practitioner: 'assessedById', organization: 'organizationId' });
      const assessment = em.create(Assessment, {
        patient,
        conditionKind: input.conditionKind,
        kind: input.kind,
        assessedOn,
        riskFactors: [...new Set(input.riskFactors ?? [])],
        complications: [...new Set(input.complications ?? [])],
        targetOrganDamage: [...new Set(input.targetOrganDamage ?? [])],
        note: input.note?.trim() || undefined,
        assessedBy: by.practitioner,
        organization: by.organization,
        version: 1,
      } as never) as Assessment;
      await em.flush();
      await reassess(em as EntityManager, { patientIds: [patient.id] }, this.rules, countyToday());
      return assessment;
    });
  }
}
