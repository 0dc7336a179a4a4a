import { readOnly } from '../../db/read-only.js';
import type { EntityManager } from '../../db/orm.js';
import type { IdentifierSystems } from '../../config.js';
import { badInput, conflict, DomainError, isUuid, notFound } from '../errors.js';
import { decodeCursor, encodeCursor, type Page, pageSize } from '../pagination.js';
import { CareTeam } from '../care-team/care-team.entity.js';
import { ConditionKind } from '../../../fhir-mappings/codes.js';
import { Grid, Organization } from '../organization/organization.entity.js';
import { Gender } from './gender.js';
import { type CareStatus, IdentifierKind, ManagementColour, ManagementTier, Patient, PatientIdentifier } from './patient.entity.js';
import { parseResidentId } from './resident-id.js';
import type { IdentifierProtector } from '../../access/identifier-protection.js';
import type { AccessPolicy } from '../../access/policy.js';
import { countyToday } from '../../care-rules/calendar.js';
import { addDays } from '../../care-rules/follow-up-interval.js';
import { COLOUR_OF, TIER_OF } from '../../care-rules/management.js';
import { type CareRules, DEFAULT_CARE_RULES } from '../../care-rules/rules.js';
import { Practitioner } from '../practitioner/practitioner.entity.js';

export interface IdentifierInput {
  system: string;
  value: string;
}

export interface PatientFields {
  name?: string;
  gender?: Gender;
  birthDate?: string | null;
  phone?: string | null;
  address?: string | null;
  gridId?: string | null;
  managingOrganizationId?: string;
  familyDoctorTeamId?: string | null;
  contractSignedOn?: string | null;
  contractExpiresOn?: string | null;
  managementTier?: ManagementTier | null;
  managementColour?: ManagementColour | null;
  managementOverrideReason?: string | null;
  /** Until when an override stands (default: `management.overrideReviewDays` from today); then the rule applies again. */
  managementOverrideReviewOn?: string | null;
  identifiers?: IdentifierInput[];
}

export interface PatientFilter {
  /** Patients managed by this organisation or any of its sub-organisations. */
  organizationId?: string;
  careTeamId?: string;
  gridId?: string;
  conditionKind?: ConditionKind;
  managementTier?: ManagementTier;
  managementColour?: ManagementColour;
  /** Name prefix, or an exact identifier value. */
  search?: string;
  /** Only patients of these programme statuses; every status when not given (a search finds a patient who died too). */
  careStatuses?: CareStatus[];
}

export function identifierKind(system: string, systems: IdentifierSystems): IdentifierKind {
  if (system === systems.residentId) return IdentifierKind.RESIDENT_ID;
  if (system === systems.healthRecord) return IdentifierKind.HEALTH_RECORD;
  if (system === systems.insurance) return IdentifierKind.INSURANCE;
  if (systems.mrn.includes(system)) return IdentifierKind.MRN;
  return IdentifierKind.OTHER;
}

/** Chinese names are written family name first without spaces; other scripts keep single spaces. */
export function normaliseName(raw: string): string {
  const trimmed = raw.trim().replace(/\s+/g, ' ');
  return /[\u3400-\u9fff]/.test(trimmed) ? trimmed.replace(/\s/g, '') : trimmed;
}

/**
 * One patient, one county record: an identifier already held is refused, even when its patient is out of the
 * caller's sight. The answer says neither which identifier matched nor whose record it is, and the attempt is
 * audited against that record, so its managing organisation can see who ran into it.
 */
export const IDENTIFIERS_HELD = 'a record with these identifiers already exists in the county; ask its managing organisation for a transfer';

/** IDENTIFIERS_HELD, with the patients that hold them: for the audit, never for the answer. */
export class IdentifiersHeld extends DomainError {
  constructor(readonly holderIds: string[]) {
    super('CONFLICT', IDENTIFIERS_HELD);
  }
}

/** Where a write comes from: a person through GraphQL, or a hospital's FHIR resource (src/fhir/projection). */
export type Origin = 'MANUAL' | 'FHIR';

/** Where a service notes the patients a request concerned (the request's RequestAudit). */
export interface PatientTouches {
  touch(patientId: string): void;
}

const HEALTH_RECORD_NUMBER = /^\d{6}\d{3}(0\d{2}|1\d{2}|9\d{2})\d{5}$/;

export class PatientService {
  constructor(
    private readonly em: EntityManager,
    private readonly systems: IdentifierSystems,
    private readonly protector: IdentifierProtector,
    private readonly policy: AccessPolicy,
    private readonly audit?: PatientTouches,
    private readonly rules: CareRules = DEFAULT_CARE_RULES,
  ) {}

  /** The stored lookup key of an identifier as typed: resident IDs upper-cased and hashed. */
  private lookupKey(system: string, value: string): string {
    const kind = identifierKind(system, this.systems);
    const normalised = kind === IdentifierKind.RESIDENT_ID ? value.trim().toUpperCase() : value.trim();
    return this.protector.lookup(system, kind, normalised);
  }

  async findByIdentifier(system: string, value: string): Promise<Patient | null> {
    const identifier = await this.em.findOne(PatientIdentifier, { system, lookup: this.lookupKey(system, value) });
    return identifier ? this.em.findOne(Patient, { id: identifier.patient.id }) : null;
  }

  async register(input: PatientFields & { name: string; gender: Gender; managingOrganizationId: string }): Promise<Patient> {
    this.policy.assertCan('Patient', 'c');
    return this.em.transactional(async (em) => {
      const patient = new Patient();
      patient.version = 1;
      const registeredBy = this.policy.caller.organizationId;
      if (registeredBy) patient.registeredBy = em.getReference(Organization, registeredBy);
      await this.apply(em, patient, input);
      em.persist(patient);
      await this.replaceIdentifiers(em, patient, input.identifiers ?? []);
      await em.flush();
      return patient;
    });
  }

  async update(id: string, expectedVersion: number, input: PatientFields): Promise<Patient> {
    this.policy.assertCan('Patient', 'u');
    return this.em.transactional(async (em) => {
      const patient = isUuid(id) ? await em.findOne(Patient, { id }) : null;
      if (!patient) throw notFound('Patient', id);
      if (patient.version !== expectedVersion) throw conflict(`Patient ${id} is at version ${patient.version}, not ${expectedVersion}`);
      await this.apply(em, patient, input);
      if (input.identifiers) {
        // Identifiers are part of the patient: replacing them moves its version, so a client holding the old one is stale.
        patient.updatedAt = new Date();
        await this.replaceIdentifiers(em, patient, input.identifiers);
      } else if (input.birthDate) await this.checkBirthDateAgainstResidentIds(em, patient);
      await em.flush();
      return patient;
    });
  }

  /**
   * A patient a hospital or another system sent (a FHIR Patient), created or updated under the resource's id:
   * the same checks as `register` and `update` — names, dates, telephone, resident IDs (GB 11643, agreeing with
   * the birth date), identifiers held by another patient (IdentifiersHeld). The identifiers are the resource's
   * (one per system), merged per system: one the resource gives replaces the patient's identifier of that system,
   * those of systems it does not carry are kept (a hospital's record does not hold the village's health-record
   * number). A field left undefined is left as it is: a resource that says nothing of a telephone does not clear
   * it. Where the patient is managed is set when the record is created,
   * never moved by a resource: staff register patients for their own organisation and below, as `register`;
   * hospital systems send the records of patients managed anywhere in the county (a referral, an admission), so
   * they are not held to it. Flushed at once: the access checks of the resources that follow look it up in SQL.
   */
  async put(
    id: string,
    input: PatientFields & { name: string; gender: Gender; managingOrganizationId: string },
    existing?: Patient | null,
    /** Told of the record before anything is flushed (the projection marks it as the resource's own). */
    claim: (record: object) => void = () => {},
  ): Promise<Patient> {
    this.policy.assertCan('Patient', existing ? 'u' : 'c');
    const em = this.em;
    let patient = existing;
    if (!patient) {
      patient = new Patient();
      patient.id = id;
      patient.version = 1;
    }
    claim(patient);
    if (!existing) patient.registeredBy = em.getReference(Organization, this.policy.caller.organizationId ?? input.managingOrganizationId);
    const { identifiers, managingOrganizationId, ...fields } = input;
    await this.apply(em, patient, existing ? fields : { ...fields, managingOrganizationId }, 'FHIR');
    if (!existing) em.persist(patient);
    const carried = await this.replaceIdentifiers(em, patient, identifiers ?? [], { keepOtherSystems: true });
    // A resident ID kept (the resource carries none) must still agree with the birth date the resource gives.
    if (existing && input.birthDate && !carried.has(IdentifierKind.RESIDENT_ID)) await this.checkBirthDateAgainstResidentIds(em, patient);
    if (existing) patient.updatedAt = new Date();
    await em.flush();
    return patient;
  }

  private async apply(em: EntityManager, patient: Patient, input: PatientFields, origin: Origin = 'MANUAL'): Promise<void> {
    if (input.name !== undefined) {
      const name = normaliseName(input.name);
      if (!name || name.length > 100) throw badInput('name must be 1–100 characters', 'name');
      patient.name = name;
    }
    if (input.gender !== undefined) patient.gender = input.gender;
    if (input.birthDate !== undefined) {
      if (input.birthDate && input.birthDate > countyToday()) throw badInput('birthDate is in the future', 'birthDate');
      patient.birthDate = input.birthDate ?? undefined;
    }
    if (input.phone !== undefined) {
      if (input.phone && !/^\+?[\d\s-]{5,20}$/.test(input.phone)) throw badInput('phone is not a telephone number', 'phone');
      patient.phone = input.phone ?? undefined;
    }
    if (input.address !== undefined) patient.address = input.address ?? undefined;
    if (input.managingOrganizationId !== undefined) {
      const moving = patient.managingOrganization && patient.managingOrganization.id !== input.managingOrganizationId;
      // Moving a patient is for those who manage the organisation they leave, not only the one they join.
      if (moving) this.policy.assertManages((await em.findOneOrFail(Organization, { id: patient.managingOrganization.id })).path);
      patient.managingOrganization = await mustFind(em, Organization, input.managingOrganizationId, 'managingOrganizationId');
      // Hospital systems send patients managed anywhere in the county (put); people register within their own subtree.
      if (origin === 'MANUAL' || this.policy.caller.kind === 'user') this.policy.assertManages(patient.managingOrganization.path);
    }
    if (input.gridId !== undefined) patient.grid = input.gridId ? await mustFind(em, Grid, input.gridId, 'gridId') : undefined;
    if (input.familyDoctorTeamId !== undefined) {
      patient.familyDoctorTeam = input.familyDoctorTeamId ? await mustFind(em, CareTeam, input.familyDoctorTeamId, 'familyDoctorTeamId') : undefined;
    }
    if (input.contractSignedOn !== undefined) patient.contractSignedOn = input.contractSignedOn ?? undefined;
    if (input.contractExpiresOn !== undefined) patient.contractExpiresOn = input.contractExpiresOn ?? undefined;
    if (patient.contractSignedOn && patient.contractExpiresOn && patient.contractExpiresOn <= patient.contractSignedOn) {
      throw badInput('contractExpiresOn must be after contractSignedOn', 'contractExpiresOn');
    }
    if ((patient.contractSignedOn || patient.contractExpiresOn) && !patient.familyDoctorTeam) {
      throw badInput('a family-doctor contract needs a familyDoctorTeamId', 'familyDoctorTeamId');
    }
    this.overrideManagement(patient, input);
  }

  /**
   * A person's override of the derived tier and colour (ADR 16): tier and colour go together (TIER_OF), the reason
   * is required, who made it comes from the token and it stands until its review date (given, or
   * `management.overrideReviewDays` from today) or a newer health assessment; then the rules apply again
   * (src/care/state/). Clearing both (null) ends the override at once.
   */
  private overrideManagement(patient: Patient, input: PatientFields): void {
    const { managementTier: tier, managementColour: colour } = input;
    if (tier === undefined && colour === undefined) {
      if (input.managementOverrideReviewOn !== undefined) throw badInput('managementOverrideReviewOn goes with a managementTier or managementColour', 'managementOverrideReviewOn');
      return;
    }
    if (tier === null || colour === null) {
      if ((tier ?? null) !== null || (colour ?? null) !== null) throw badInput('clear managementTier and managementColour together (the rules then derive both)', 'managementTier');
      Object.assign(patient, { managementTier: undefined, managementColour: undefined, managementOverrideReason: undefined, managementOverriddenBy: undefined, managementOverriddenAt: undefined, managementOverrideReviewOn: undefined });
      return;
    }
    if (tier && colour && TIER_OF[colour] !== tier) throw badInput(`managementColour ${colour} means tier ${TIER_OF[colour]}, not ${tier}`, 'managementTier');
    // A person setting tier or colour overrides the derived value: that choice must be explained.
    if (!input.managementOverrideReason?.trim()) throw badInput('setting managementTier or managementColour needs a managementOverrideReason', 'managementOverrideReason');
    const today = countyToday();
    const reviewOn = input.managementOverrideReviewOn ?? addDays(today, this.rules.management.overrideReviewDays);
    if (reviewOn <= today) throw badInput('managementOverrideReviewOn must be after today', 'managementOverrideReviewOn');
    const by = this.policy.caller.practitionerId;
    Object.assign(patient, {
      managementTier: tier ?? TIER_OF[colour!],
      managementColour: colour ?? COLOUR_OF[tier!],
      managementOverrideReason: input.managementOverrideReason.trim(),
      managementOverriddenBy: by ? this.em.getReference(Practitioner, by) : undefined,
      managementOverriddenAt: new Date(),
      managementOverrideReviewOn: reviewOn,
    });
  }

  /** A new birth date must agree with the resident ID already on file (its digits 7–14 are the birth date). */
  private async checkBirthDateAgainstResidentIds(em: EntityManager, patient: Patient): Promise<void> {
    const onFile = await em.find(PatientIdentifier, { patient: patient.id, kind: IdentifierKind.RESIDENT_ID });
    for (const identifier of onFile) {
      const parts = identifier.cipher ? parseResidentId(this.protector.reveal(identifier.system, identifier.cipher)) : undefined;
      if (parts && parts.birthDate !== patient.birthDate) {
        throw badInput(`birthDate ${patient.birthDate} differs from the resident ID birth date ${parts.birthDate}`, 'birthDate');
      }
    }
  }

  /**
   * Sets the patient's identifiers to these (one per system): the others are removed, or — keepOtherSystems —
   * only those of the systems given are replaced. Answers the kinds of identifier given.
   */
  private async replaceIdentifiers(em: EntityManager, patient: Patient, inputs: IdentifierInput[], options: { keepOtherSystems?: boolean } = {}): Promise<Set<IdentifierKind>> {
    const seen = new Set<string>();
    const validated = inputs.map((input, i) => {
      const system = input.system.trim();
      const value = input.value.trim();
      if (!system || !value) throw badInput('identifier system and value are required', `identifiers.${i}`);
      if (seen.has(system)) throw badInput(`two identifiers with system ${system}`, `identifiers.${i}`);
      seen.add(system);
      const kind = identifierKind(system, this.systems);
      const checked = this.checkIdentifier(kind, value, i);
      return { system, kind, index: i, checked, ...this.protector.protect(system, kind, checked) };
    });
    // Uniqueness is county-wide, beyond what the caller may see: a duplicate is a conflict either way (IDENTIFIERS_HELD).
    const holders = validated.length
      ? await em.find(PatientIdentifier, { $or: validated.map(({ system, lookup }) => ({ system, lookup })) }, { filters: false })
      : [];
    const others = [...new Set(holders.map((h) => h.patient.id).filter((id) => id !== patient.id))];
    if (others.length > 0) {
      for (const id of others) this.audit?.touch(id);
      throw new IdentifiersHeld(others);
    }
    // Only then whether it agrees with the patient: a held identifier is answered the same whatever the patient says.
    for (const v of validated) if (v.kind === IdentifierKind.RESIDENT_ID) this.agreeWithBirthDate(v.checked, patient, v.index);
    const existing = patient.id ? await em.find(PatientIdentifier, { patient: patient.id }) : [];
    const replaced = (old: PatientIdentifier) => !options.keepOtherSystems || validated.some((v) => v.system === old.system);
    for (const old of existing) if (replaced(old) && !validated.some((v) => v.system === old.system && v.lookup === old.lookup)) em.remove(old);
    for (const v of validated) {
      if (existing.some((old) => old.system === v.system && old.lookup === v.lookup)) continue;
      const { index: _index, checked: _checked, ...row } = v;
      const identifier = em.create(PatientIdentifier, { ...row, patient, version: 1 } as never);
      em.persist(identifier);
    }
    // Remove before insert, so that replacing a value keeps the (system, lookup) constraint satisfied.
    await em.flush();
    return new Set(validated.map((v) => v.kind));
  }

  private checkIdentifier(kind: IdentifierKind, value: string, index: number): string {
    if (kind === IdentifierKind.RESIDENT_ID) {
      if (!parseResidentId(value)) throw badInput('resident ID fails the GB 11643 check (18 characters, valid birth date and check character)', `identifiers.${index}.value`);
      return value.toUpperCase();
    }
    if (kind === IdentifierKind.HEALTH_RECORD && !HEALTH_RECORD_NUMBER.test(value)) {
      throw badInput('health-record number must be 17 digits: county(6) township(3) committee/village(3) serial(5)', `identifiers.${index}.value`);
    }
    return value;
  }

  /** A resident ID's birth date (digits 7–14) is the patient's: it must agree, and fills in one not given. */
  private agreeWithBirthDate(residentId: string, patient: Patient, index: number): void {
    const parts = parseResidentId(residentId)!;
    if (patient.birthDate && patient.birthDate !== parts.birthDate) {
      throw badInput(`resident ID birth date ${parts.birthDate} differs from birthDate ${patient.birthDate}`, `identifiers.${index}.value`);
    }
    patient.birthDate ??= parts.birthDate;
  }

  /** Keyset-paginated search by id (ids are time-ordered, so this is registration order). */
  async search(filter: PatientFilter, first: number | undefined, after: string | undefined): Promise<Page<Patient>> {
    const limit = pageSize(first);
    const [afterId] = (decodeCursor(after, 1) ?? []) as [string?];
    if (afterId !== undefined && (typeof afterId !== 'string' || !isUuid(afterId))) throw badInput('after is not a cursor this API issued', 'after');
    for (const key of ['organizationId', 'careTeamId', 'gridId'] as const) {
      if (filter[key] && !isUuid(filter[key]!)) throw badInput(`${key} is not an id`, key);
    }
    if (filter.conditionKind) this.policy.assertCan('Condition', 's');
    const build = () => {
      const qb = this.em.createQueryBuilder(Patient, 'p');
      this.policy.restrict(qb, 'Patient', 'p');
      if (filter.organizationId) {
        qb.andWhere(
          `p.managing_organization_id in (select o.id from organization o where o.path like (select s.path from organization s where s.id = ?) || '%')`,
          [filter.organizationId],
        );
      }
      if (filter.careTeamId) qb.andWhere({ familyDoctorTeam: filter.careTeamId });
      if (filter.gridId) qb.andWhere({ grid: filter.gridId });
      if (filter.managementTier) qb.andWhere({ managementTier: filter.managementTier });
      if (filter.managementColour) qb.andWhere({ managementColour: filter.managementColour });
      if (filter.careStatuses?.length) qb.andWhere({ careStatus: { $in: filter.careStatuses } });
      if (filter.conditionKind) {
        qb.andWhere(
          `exists (select 1 from condition c where c.patient_id = p.id and c.kind = ? and c.clinical_status in ('ACTIVE','RECURRENCE','RELAPSE') and c.verification_status <> 'ENTERED_IN_ERROR' and c.verification_status <> 'REFUTED')`,
          [filter.conditionKind],
        );
      }
      const search = filter.search?.trim();
      if (search) {
        // Resident IDs are stored upper case (a trailing check character X); people type it either way.
        qb.andWhere(`(p.name like ? or exists (select 1 from patient_identifier i where i.patient_id = p.id and i.lookup in (?, ?)))`, [
          `${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`,
          search,
          this.lookupKey(this.systems.residentId, search),
        ]);
      }
      return qb;
    };
    const qb = build();
    if (afterId) qb.andWhere({ id: { $gt: afterId } });
    qb.orderBy({ id: 'asc' }).limit(limit + 1);
    // A page of patients is only read: records from rows (readOnly), not entities merged into the unit of work.
    const read = readOnly(this.em, Patient);
    const rows = ((await qb.execute('all', false)) as Array<Record<string, unknown>>).map((row) => read.record(row));
    return {
      items: rows.slice(0, limit),
      hasNextPage: rows.length > limit,
      cursorOf: (p) => encodeCursor([p.id]),
      count: () => build().getCount(),
    };
  }
}

export async function mustFind<T extends { id: string }>(
  em: EntityManager,
  entity: new () => T,
  id: string,
  field: string,
): Promise<T> {
  const found = isUuid(id) ? await em.findOne(entity, { id } as never) : null;
  if (!found) throw badInput(`${field}: no ${entity.name} with id ${id}`, field);
  return found as T;
}
