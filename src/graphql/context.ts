import type { Config } from '../config.js';
import type { CareRules } from '../care-rules/rules.js';
import type { EntityManager } from '../db/orm.js';
import type { Security } from '../access/index.js';
import type { RequestAudit } from '../access/audit.js';
import type { AccessPolicy } from '../access/policy.js';
import { CapitationService } from '../domain/capitation/capitation.service.js';
import { CarePlanService } from '../domain/care-plan/care-plan.service.js';
import { CarePlanTemplateService } from '../domain/care-plan/from-template.js';
import { SelfManagementGroupService } from '../domain/self-management-group/self-management-group.service.js';
import { ConditionService } from '../domain/condition/condition.service.js';
import { ConsentService } from '../domain/consent/consent.service.js';
import { AssessmentService } from '../domain/assessment/assessment.service.js';
import { ContactAttemptService } from '../domain/contact-attempt/contact-attempt.service.js';
import { CareStatusService } from '../domain/patient/care-status.js';
import { PathwayService } from '../care/pathway/pathway.service.js';
import { FollowUpService } from '../domain/follow-up/follow-up.service.js';
import { ObservationService } from '../domain/observation/observation.service.js';
import { PatientService } from '../domain/patient/patient.service.js';
import { ReferralService } from '../domain/referral/referral.service.js';
import { createLoaders, type Loaders } from './loaders.js';

/**
 * Everything a request needs, built fresh per request: its own unit of work (which sees only what the
 * caller may see), loaders, services, and the audit of what it touched.
 */
export interface Context {
  em: EntityManager;
  policy: AccessPolicy;
  loaders: Loaders;
  services: ReturnType<typeof createServices>;
  /** The same services over another unit of work: a transaction they nest in (src/offline/write-once.ts). */
  servicesIn(em: EntityManager): ReturnType<typeof createServices>;
  security: Security;
  audit: RequestAudit;
  requestId: string;
  /** The configured care rules (config.careRules): what derived fields such as a goal's progress judge by. */
  rules: CareRules;
}

export interface ContextParts {
  em: EntityManager;
  policy: AccessPolicy;
  config: Config;
  rules: CareRules;
  security: Security;
  audit: RequestAudit;
  requestId: string;
}

function createServices({ em, policy, config, rules, security, audit }: ContextParts) {
  const carePlans = new CarePlanService(em, policy);
  return {
    patients: new PatientService(em, config.identifierSystems, security.protector, policy, audit, rules),
    conditions: new ConditionService(em, policy),
    observations: new ObservationService(em, policy, rules),
    carePlans,
    carePlanTemplates: new CarePlanTemplateService(em, rules, carePlans),
    selfManagementGroups: new SelfManagementGroupService(em, policy),
    referrals: new ReferralService(em, policy),
    followUps: new FollowUpService(em, policy, rules),
    consents: new ConsentService(em, policy),
    // The pathway (src/care/pathway): assessments, overdue contact attempts, the patient's programme status, and its read side.
    assessments: new AssessmentService(em, policy, rules),
    contactAttempts: new ContactAttemptService(em, policy, rules),
    careStatus: new CareStatusService(em, policy, rules),
    pathway: new PathwayService(em, policy, rules),
    // Capitation contracts and their settlement (src/domain/capitation).
    capitation: new CapitationService(em, policy, rules),
  };
}

export function createContext(parts: ContextParts): Context {
  const { em, policy, security, audit, requestId, rules } = parts;
  const services = createServices(parts);
  const servicesIn = (other: EntityManager) => (other === em ? services : createServices({ ...parts, em: other }));
  return { em, policy, loaders: createLoaders(em, policy), services, servicesIn, security, audit, requestId, rules };
}
