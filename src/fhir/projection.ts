import type { Resource } from '@medplum/fhirtypes';
import type { IdentifierSystems } from '../config.js';
import type { EntityManager } from '../db/orm.js';
import type { IdentifierProtector } from '../access/identifier-protection.js';
import type { AccessPolicy } from '../access/policy.js';
import { mappings, type ConditionShape, type ObservationShape, type OrganizationShape, type PatientShape, type PractitionerShape } from '../../fhir-mappings/index.js';
import { ObservationKind } from '../../fhir-mappings/codes.js';
import { Condition } from '../domain/condition/condition.entity.js';
import { Observation } from '../domain/observation/observation.entity.js';
import { normaliseReading } from '../domain/observation/observation.service.js';
import { Organization, OrganizationLevel, OrganizationType } from '../domain/organization/organization.entity.js';
import { identifierKind, normaliseName } from '../domain/patient/patient.service.js';
import { Patient, PatientIdentifier } from '../domain/patient/patient.entity.js';
import { Practitioner } from '../domain/practitioner/practitioner.entity.js';
import { parseResidentId } from '../domain/patient/resident-id.js';
import { DomainError, isUuid } from '../domain/errors.js';
import { fhirError } from './outcome.js';
import { HeldOutOfReach } from './store.js';
import { fromFhir } from './materialise.js';

/** The server id a reference names; a reference this server did not resolve (`Organization/f001`) names none. */
const idOf = (ref: string | undefined, type: string): string | undefined => {
  const m = new RegExp(`^${type}/([^/]+)$`).exec(ref ?? '');
  return m?.[1] && isUuid(m[1]) ? m[1] : undefined;
};

const UNASSIGNED_ID = '00000000-0000-7000-8000-000000000001';

const fullDate = (d: string | undefined) => (d && /^\d{4}-\d{2}-\d{2}$/.test(d) ? d : undefined);

/**
 * Projects FHIR resources of the types the domain models into the domain tables, under the resource's own
 * id, so that what hospitals send is seen by GraphQL, the worklists and the indicators. The FHIR store keeps
 * the resource itself; this keeps the domain's view of it in step. Types not listed here live in the store only.
 */
export class DomainProjection {
  constructor(
    private readonly em: EntityManager,
    private readonly policy: AccessPolicy,
    private readonly protector: IdentifierProtector,
    private readonly systems: IdentifierSystems,
  ) {}

  static readonly PROJECTED = new Set(['Patient', 'Condition', 'Observation', 'Organization', 'Practitioner']);

  /**
   * Set while a transaction Bundle runs: its hundreds of readings are written in one flush at the end (batched
   * inserts) rather than one by one. Patients, organisations and practitioners are still written at once —
   * the access checks of the resources that follow look them up in SQL.
   */
  deferFlush = false;
  /** Whether the resource being projected is new to the store: then it is new to the domain too, no lookup needed. */
  private created = false;

  async project(resource: Resource, created = false): Promise<void> {
    this.created = created;
    switch (resource.resourceType) {
      case 'Patient':
        return this.patient(resource.id!, mappings.Patient.fromFhir(resource).domain);
      case 'Condition':
        return this.condition(resource.id!, mappings.Condition.fromFhir(resource).domain);
      case 'Observation':
        return this.observation(resource.id!, mappings.Observation.fromFhir(resource).domain);
      case 'Organization':
        return this.organization(resource.id!, mappings.Organization.fromFhir(resource).domain);
      case 'Practitioner':
        return this.practitioner(resource.id!, mappings.Practitioner.fromFhir(resource).domain);
      default:
        return;
    }
  }

  private async upsert<T extends object>(entity: new () => T, id: string, data: Record<string, unknown>): Promise<T> {
    const em = this.em;
    const existing = this.created ? null : await em.findOne(entity, { id } as never, { filters: false });
    if (existing) {
      em.assign(existing, data as never);
      fromFhir.add(existing);
      return existing;
    }
    const created = em.create(entity, { id, version: 1, ...data } as never) as T;
    fromFhir.add(created);
    return created;
  }

  /** Where a patient is managed: as sent if we know the organisation, else by whoever sent it, else the county lead. */
  private async managingOrganization(ref: string | undefined): Promise<Organization> {
    const em = this.em;
    const sentId = idOf(ref, 'Organization');
    const sent = sentId ? await em.findOne(Organization, { id: sentId }) : null;
    if (sent && sent.level !== OrganizationLevel.EXTERNAL) return sent;
    const callerOrg = this.policy.caller.organizationId;
    if (callerOrg) return em.findOneOrFail(Organization, { id: callerOrg });
    const lead = await em.findOne(Organization, { parent: null, level: OrganizationLevel.COUNTY }, { orderBy: { code: 'asc' } });
    if (lead) return lead;
    // Two first imports at once both find no county: `on conflict` lets the second wait for the first's row.
    await em.execute(
      `insert into organization (id, created_at, updated_at, version, name, code, level, type, path)
       values (?, now(), now(), 1, ?, ?, ?, ?, ?) on conflict do nothing`,
      [UNASSIGNED_ID, '未分配 Unassigned', 'UNASSIGNED', OrganizationLevel.COUNTY, OrganizationType.OTHER, `/${UNASSIGNED_ID}/`],
    );
    return em.findOneOrFail(Organization, { id: UNASSIGNED_ID });
  }

  private async patient(id: string, shape: PatientShape): Promise<void> {
    const em = this.em;
    const existing = await em.findOne(Patient, { id }, { filters: false });
    const managing = existing?.managingOrganization ?? (await this.managingOrganization(shape.managingOrganizationRef));
    // As registerPatient: staff register patients for their own organisation and below. Hospital systems send the
    // records of patients managed anywhere in the county (a referral, an admission), so they are not held to it.
    if (!existing && this.policy.caller.kind === 'user') this.policy.assertManages(managing.path);
    const patient = await this.upsert(Patient, id, {
      name: normaliseName(shape.name ?? '') || '(未登记姓名)',
      gender: shape.gender,
      birthDate: fullDate(shape.birthDate),
      phone: shape.phone,
      address: shape.address,
      managingOrganization: managing,
      ...(existing ? {} : { registeredBy: this.policy.caller.organizationId ?? managing.id }),
    });
    const current = existing ? await em.find(PatientIdentifier, { patient: id }, { filters: false }) : [];
    const seen = new Set<string>();
    for (const [i, ident] of shape.identifiers.entries()) {
      if (seen.has(ident.system)) continue; // the domain keeps one identifier per system; the store keeps them all
      seen.add(ident.system);
      const kind = identifierKind(ident.system, this.systems);
      const value = kind === 'RESIDENT_ID' ? ident.value.trim().toUpperCase() : ident.value.trim();
      if (kind === 'RESIDENT_ID' && !parseResidentId(value)) {
        throw fhirError(422, 'business-rule', 'resident ID fails the GB 11643 check', [`Patient.identifier[${i}].value`]);
      }
      const protectedId = this.protector.protect(ident.system, kind, value);
      const holder = await em.findOne(PatientIdentifier, { system: ident.system, lookup: protectedId.lookup }, { filters: false });
      // Answered as the store answers it: naming neither the record nor the identifier; the audit names the patient.
      if (holder && holder.patient.id !== id) throw new HeldOutOfReach('Patient', holder.patient.id);
      if (holder) continue;
      for (const old of current.filter((c) => c.system === ident.system)) em.remove(old);
      fromFhir.add(em.create(PatientIdentifier, { patient, system: ident.system, kind, ...protectedId, version: 1 } as never));
    }
    await em.flush();
  }

  private async condition(id: string, shape: ConditionShape): Promise<void> {
    const patientId = idOf(shape.patientRef, 'Patient');
    if (!patientId || !shape.code || !shape.system) return; // text-only or patient-less conditions stay in the store
    const confirmedById = idOf(shape.confirmedByRef, 'Organization');
    await this.upsert(Condition, id, {
      patient: this.em.getReference(Patient, patientId),
      code: shape.code,
      system: shape.system,
      display: shape.display,
      kind: shape.kind,
      onsetDate: fullDate(shape.onsetDate),
      clinicalStatus: shape.clinicalStatus,
      verificationStatus: shape.verificationStatus,
      confirmedBy: confirmedById && (await this.em.findOne(Organization, { id: confirmedById })) ? this.em.getReference(Organization, confirmedById) : undefined,
      confirmedAt: shape.confirmedAt,
    });
    if (!this.deferFlush) await this.em.flush();
  }

  private async observation(id: string, shape: ObservationShape): Promise<void> {
    const patientId = idOf(shape.patientRef, 'Patient');
    if (!patientId || !shape.effectiveAt || shape.kind === ObservationKind.OTHER) return;
    if (shape.status === 'entered-in-error' || shape.status === 'cancelled') return;
    if (shape.kind === ObservationKind.BLOOD_PRESSURE ? shape.systolic == null || shape.diastolic == null : shape.value == null) return;
    try {
      // The same plausibility rules as readings recorded through GraphQL.
      normaliseReading({ patientId, kind: shape.kind, value: shape.value, unit: shape.unit, systolic: shape.systolic, diastolic: shape.diastolic, effectiveAt: shape.effectiveAt });
    } catch (err) {
      if (err instanceof DomainError) throw fhirError(422, 'business-rule', err.message, ['Observation.value']);
      throw err;
    }
    const performerId = idOf(shape.performerRef, 'Practitioner');
    await this.upsert(Observation, id, {
      patient: this.em.getReference(Patient, patientId),
      code: shape.code,
      system: shape.system,
      kind: shape.kind,
      value: shape.value,
      unit: shape.unit,
      systolic: shape.systolic,
      diastolic: shape.diastolic,
      receivedValue: shape.receivedValue,
      receivedUnit: shape.receivedUnit,
      effectiveAt: shape.effectiveAt,
      source: shape.source,
      deviceId: shape.deviceId,
      performer: performerId && (await this.em.findOne(Practitioner, { id: performerId })) ? this.em.getReference(Practitioner, performerId) : undefined,
    });
    if (!this.deferFlush) await this.em.flush();
  }

  /**
   * An organisation's code, parent and path are set when it is created and never rewritten from FHIR: tokens
   * resolve callers by the code, and every access rule goes by the path (policy.ts, tokenIdentityOf — the store
   * refuses a write that would change them). An update changes what the organisation is called, where it is,
   * how it is reached; level and type only when it says them.
   */
  private async organization(id: string, shape: OrganizationShape): Promise<void> {
    const existing = this.created ? null : await this.em.findOne(Organization, { id }, { filters: false });
    if (existing) {
      await this.upsert(Organization, id, {
        name: shape.name ?? existing.name,
        level: shape.level ?? existing.level,
        type: shape.type ?? existing.type,
        address: shape.address,
        phone: shape.phone,
      });
    } else {
      const parentId = idOf(shape.parentRef, 'Organization');
      const parent = parentId ? await this.em.findOne(Organization, { id: parentId }) : null;
      const code = shape.code ?? id;
      const taken = await this.em.findOne(Organization, { code, id: { $ne: id } });
      this.created = true; // known to be new: upsert need not look again
      await this.upsert(Organization, id, {
        name: shape.name ?? code,
        code: taken ? id : code,
        level: shape.level ?? OrganizationLevel.EXTERNAL,
        type: shape.type ?? OrganizationType.OTHER,
        parent: parent ?? undefined,
        path: `${parent?.path ?? '/'}${id}/`,
        address: shape.address,
        phone: shape.phone,
      });
    }
    await this.em.flush();
  }

  /** A practitioner's code is set when the record is created, never rewritten from FHIR (see organization). */
  private async practitioner(id: string, shape: PractitionerShape): Promise<void> {
    const existing = this.created ? null : await this.em.findOne(Practitioner, { id }, { filters: false });
    if (existing) {
      await this.upsert(Practitioner, id, { name: shape.name ?? existing.name, gender: shape.gender, phone: shape.phone });
    } else {
      const code = shape.code ?? id;
      const taken = await this.em.findOne(Practitioner, { code, id: { $ne: id } });
      this.created = true; // known to be new
      await this.upsert(Practitioner, id, { name: shape.name ?? code, gender: shape.gender, code: taken ? id : code, phone: shape.phone });
    }
    await this.em.flush();
  }
}
