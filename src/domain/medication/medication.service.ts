import type { AccessPolicy } from '../../access/policy.js';
import type { EntityManager } from '../../db/orm.js';
import { countyToday } from '../../care-rules/calendar.js';
import { classifyMedication } from '../../../fhir-mappings/index.js';
import { badInput, isUuid } from '../errors.js';
import { Organization } from '../organization/organization.entity.js';
import { Patient } from '../patient/patient.entity.js';
import { Unresolved } from '../unresolved.js';
import { DrugClass, type MedicationSource, MedicationStatus, MedicationUse } from './medication.entity.js';

export interface MedicationUseInput {
  patientId: string;
  code?: string;
  system?: string;
  /** The medicine as the sender names it; the code when it names none. */
  name?: string;
  /** Else what the code says (ATC group, the RxNorm table), else OTHER. */
  drugClass?: DrugClass;
  status: MedicationStatus;
  dosage?: string;
  since?: string;
  until?: string;
  sourceType: MedicationSource;
  organizationId?: string;
}

/** The scope a use of a medicine is read and written under (SMART scopes name FHIR types). */
export const MEDICATION_SCOPE_TYPE = 'MedicationRequest';

/**
 * A patient's medicines. Written from what hospitals and clinics send (MedicationRequest, MedicationStatement —
 * the FHIR projection), one record per resource under its id; read as the patient's current medicines.
 */
export class MedicationService {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
  ) {}

  /** Current: active, and not ended in the county's calendar. */
  static isCurrent(m: Pick<MedicationUse, 'status' | 'until'>, today: string = countyToday()): boolean {
    return m.status === MedicationStatus.ACTIVE && (!m.until || m.until >= today);
  }

  /** The rules every use of a medicine is held to, whoever writes it. */
  static check(input: MedicationUseInput): { name: string; drugClass: DrugClass } {
    const name = (input.name ?? '').trim() || input.code?.trim();
    if (!name) throw badInput('a medicine needs a name or a code', 'name');
    if (input.since && input.until && input.until < input.since) throw badInput('until is before since', 'until');
    return { name, drugClass: input.drugClass ?? classifyMedication(input.system, input.code) ?? DrugClass.OTHER };
  }

  /**
   * Creates or updates the record under the sender's id, in the caller's unit of work (not flushed: the caller
   * flushes). A patient the caller cannot see or the domain does not hold leaves it out: Unresolved.
   */
  async saveUnderId(id: string, input: MedicationUseInput, created: boolean): Promise<MedicationUse | Unresolved> {
    const em = this.em;
    const existing = created ? null : await em.findOne(MedicationUse, { id }, { filters: false });
    this.policy.assertCan(MEDICATION_SCOPE_TYPE, existing ? 'u' : 'c');
    const { name, drugClass } = MedicationService.check(input);
    const patient = isUuid(input.patientId) ? await em.findOne(Patient, { id: input.patientId }) : null;
    if (!patient) return new Unresolved(`patient ${input.patientId} is not in the domain`, 'subject');
    const organization = input.organizationId ? em.getReference(Organization, input.organizationId) : undefined;
    const data = {
      patient,
      name,
      code: input.code,
      system: input.system,
      drugClass,
      status: input.status,
      dosage: input.dosage,
      since: input.since,
      until: input.until,
      sourceType: input.sourceType,
      organization: existing?.organization ?? organization,
    };
    if (existing) return em.assign(existing, data as never);
    return em.create(MedicationUse, { id, version: 1, ...data } as never) as MedicationUse;
  }

  /** Removes the record under an id (a resource entered in error, deleted): it said nothing. */
  async removeUnderId(id: string): Promise<void> {
    const existing = await this.em.findOne(MedicationUse, { id }, { filters: false });
    if (!existing) return;
    this.policy.assertCan(MEDICATION_SCOPE_TYPE, 'u');
    this.em.remove(existing);
  }
}
