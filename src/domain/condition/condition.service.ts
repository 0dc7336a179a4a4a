import type { EntityManager } from '../../db/orm.js';
import type { AccessPolicy } from '../../access/policy.js';
import { classifyCondition, isIcd10System, isKnownConditionSystem, isWellFormedConditionCode, CONDITION_DISPLAY } from '../../../fhir-mappings/codes.js';
import { badInput } from '../errors.js';
import { Organization } from '../organization/organization.entity.js';
import { mustFind } from '../patient/patient.service.js';
import { Patient } from '../patient/patient.entity.js';
import { ClinicalStatus, Condition, VerificationStatus } from './condition.entity.js';
import { countyToday } from '../../care-rules/calendar.js';

export interface AddConditionInput {
  patientId: string;
  code: string;
  system: string;
  display?: string | null;
  onsetDate?: string | null;
  clinicalStatus?: ClinicalStatus | null;
  verificationStatus?: VerificationStatus | null;
  confirmedByOrganizationId?: string | null;
}

export class ConditionService {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
  ) {}

  async add(input: AddConditionInput): Promise<Condition> {
    this.policy.assertCan('Condition', 'c');
    return this.em.transactional(async (em) => {
      const condition = await this.write(em, undefined, input);
      await em.flush();
      return condition;
    });
  }

  /**
   * A diagnosis a hospital sent (a FHIR Condition), created or updated under the resource's id in the caller's
   * unit of work (the caller flushes): the same checks as `add`. `confirmedAt` is the resource's.
   */
  async put(id: string, input: AddConditionInput & { confirmedAt?: Date | null }, existing?: Condition | null): Promise<Condition> {
    this.policy.assertCan('Condition', existing ? 'u' : 'c');
    return this.write(this.em, existing ?? { id }, input);
  }

  private async write(em: EntityManager, into: Condition | { id: string } | undefined, input: AddConditionInput & { confirmedAt?: Date | null }): Promise<Condition> {
    const patient = await mustFind(em, Patient, input.patientId, 'patientId');
    const system = input.system.trim();
    // ICD-10 codes are upper case by definition; hospitals send them in either case.
    const code = isIcd10System(input.system.trim()) ? input.code.trim().toUpperCase() : input.code.trim();
    if (!isKnownConditionSystem(system)) throw badInput(`unknown condition code system ${system} (SNOMED CT or ICD-10 expected)`, 'system');
    if (!isWellFormedConditionCode(system, code)) throw badInput(`${code} is not a well-formed code of ${system}`, 'code');
    if (input.onsetDate && patient.birthDate && input.onsetDate < patient.birthDate) throw badInput('onsetDate is before the birth date', 'onsetDate');
    if (input.onsetDate && input.onsetDate > today()) throw badInput('onsetDate is in the future', 'onsetDate');
    const verificationStatus = input.verificationStatus ?? VerificationStatus.CONFIRMED;
    const confirmedBy = input.confirmedByOrganizationId
      ? await mustFind(em, Organization, input.confirmedByOrganizationId, 'confirmedByOrganizationId')
      : undefined;
    if (confirmedBy && verificationStatus !== VerificationStatus.CONFIRMED) {
      throw badInput('confirmedByOrganizationId is only for a CONFIRMED diagnosis', 'confirmedByOrganizationId');
    }
    const kind = classifyCondition(system, code);
    const data = {
      patient,
      code,
      system,
      display: input.display ?? (kind === 'OTHER' ? undefined : CONDITION_DISPLAY[kind].zh),
      kind,
      onsetDate: input.onsetDate ?? undefined,
      clinicalStatus: input.clinicalStatus ?? ClinicalStatus.ACTIVE,
      verificationStatus,
      confirmedBy,
      confirmedAt: confirmedBy ? (input.confirmedAt ?? new Date()) : undefined,
    };
    if (into instanceof Condition) return em.assign(into, data as never);
    return em.create(Condition, { ...(into ? { id: into.id } : {}), ...data, version: 1 } as never) as Condition;
  }
}

const today = () => countyToday();
