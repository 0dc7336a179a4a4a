import type { Config } from '../config.js';
import type { CareRules } from '../care-rules/rules.js';
import type { EntityManager } from '../db/orm.js';
import { CarePlanService } from '../domain/care-plan/care-plan.service.js';
import { ConditionService } from '../domain/condition/condition.service.js';
import { FollowUpService } from '../domain/follow-up/follow-up.service.js';
import { ObservationService } from '../domain/observation/observation.service.js';
import { PatientService } from '../domain/patient/patient.service.js';
import { ReferralService } from '../domain/referral/referral.service.js';
import { createLoaders, type Loaders } from './loaders.js';

/** Everything a request needs, built fresh per request: its own unit of work, loaders and services. */
export interface Context {
  em: EntityManager;
  loaders: Loaders;
  services: ReturnType<typeof createServices>;
  requestId: string;
}

function createServices(em: EntityManager, config: Config, rules: CareRules) {
  return {
    patients: new PatientService(em, config.identifierSystems),
    conditions: new ConditionService(em),
    observations: new ObservationService(em, rules),
    carePlans: new CarePlanService(em),
    referrals: new ReferralService(em),
    followUps: new FollowUpService(em, rules),
  };
}

export function createContext(em: EntityManager, config: Config, rules: CareRules, requestId: string): Context {
  return { em, loaders: createLoaders(em), services: createServices(em, config, rules), requestId };
}
