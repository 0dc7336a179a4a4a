import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import type { Config } from '../config.js';
import { mappings } from '../../fhir-mappings/index.js';
import { REFERENCE_PARAMS } from './indexing.js';
import { GROUP_SEARCH_PARAMS } from './member-groups.js';
import { MEASURE_SEARCH_PARAMS } from './measures.js';

const COMMON_SEARCH = [
  { name: '_id', type: 'token' },
  { name: '_lastUpdated', type: 'date' },
] as const;

const SEARCH: Record<string, Array<{ name: string; type: 'token' | 'date' | 'string' | 'reference' }>> = {
  Patient: [
    { name: 'identifier', type: 'token' },
    { name: 'name', type: 'string' },
    { name: 'family', type: 'string' },
    { name: 'given', type: 'string' },
    { name: 'birthdate', type: 'date' },
    { name: 'gender', type: 'token' },
  ],
  Observation: [
    { name: 'patient', type: 'reference' },
    { name: 'subject', type: 'reference' },
    { name: 'code', type: 'token' },
    { name: 'category', type: 'token' },
    { name: 'date', type: 'date' },
    { name: 'status', type: 'token' },
  ],
  Condition: [
    { name: 'patient', type: 'reference' },
    { name: 'code', type: 'token' },
    { name: 'clinical-status', type: 'token' },
  ],
  // Stored reports (src/fhir/evaluate-measure.ts, persist=true; or sent): `reporter` comes from REFERENCE_PARAMS.
  MeasureReport: [
    { name: 'measure', type: 'reference' },
    { name: 'period', type: 'date' },
    { name: 'date', type: 'date' },
    { name: 'status', type: 'token' },
    { name: 'patient', type: 'reference' },
    { name: 'subject', type: 'reference' },
    { name: 'identifier', type: 'token' },
  ],
};

/** The indicators' Measures (src/fhir/measures.ts): served from code, read and searched only, and evaluated. */
const MEASURE_RESOURCE = {
  type: 'Measure',
  documentation: 'The care model\'s indicators (src/indicators/), one Measure each, read-only: writes are 405. $evaluate-measure counts one over a period and a subject (Organization/[id], CareTeam/[id]) under your access policy; docs/api.md, "Measures".',
  interaction: [{ code: 'read' }, { code: 'search-type' }],
  searchParam: MEASURE_SEARCH_PARAMS.map((name) => ({ name, type: name === 'url' ? 'uri' : name === '_id' || name === 'status' || name === 'version' ? 'token' : 'string' })),
  operation: [{ name: 'evaluate-measure', definition: 'http://hl7.org/fhir/OperationDefinition/Measure-evaluate-measure' }],
};
const BY_PATIENT = [
  { name: 'patient', type: 'reference' },
  { name: 'subject', type: 'reference' },
  { name: 'status', type: 'token' },
  { name: 'date', type: 'date' },
  { name: 'identifier', type: 'token' },
] as const;

/** Resource types stored as they come (no domain model), readable and searchable by patient, type and time. */
export const STORED_ONLY_TYPES = [
  'Procedure', 'MedicationRequest', 'MedicationAdministration', 'Immunization', 'DiagnosticReport', 'Claim', 'ExplanationOfBenefit',
  'ImagingStudy', 'AllergyIntolerance', 'DocumentReference', 'Device', 'SupplyDelivery', 'Provenance', 'Medication', 'Media', 'MeasureReport',
];

/** An insurer's covered members, computed from Coverage on read (src/fhir/member-groups.ts): read and search only. */
const MEMBER_GROUP_RESOURCE: CapabilityStatementRestResource = {
  type: 'Group',
  documentation:
    "An insurer's covered members: Group/[insurer Organization id], computed from Coverage when read (member[] with each coverage's period, inactive when not in force today). " +
    'Read by that insurer (members who withheld consent to share with insurers are not listed) and platform administrators; 403 for others. Writes are 405. Group/[id]/$export exports them.',
  interaction: [{ code: 'read' }, { code: 'search-type' }],
  searchParam: GROUP_SEARCH_PARAMS.map((name) => ({ name, type: name === 'managing-entity' ? 'reference' : 'token' })),
};

const UPDATE_CREATE =
  'PUT [type]/[id] with an id of the sender\'s own ([A-Za-z0-9\\-.]{1,64}, not a UUID) creates the resource under a server UUID the first time and updates it after; ' +
  'ids are per sender (two senders\' Patient/1 are two patients), and references to Type/[their id] resolve to it. A UUID is this server\'s id: PUT to an unknown one is 404. ' +
  'A POST matching a resource sent before (by identifier, ifNoneExist, the sender\'s id, or for a resource without any of these its content) updates or leaves it; ' +
  'one whose identifiers disagree with it is 409 conflict, never an overwrite.';

/** What the server really does: the interactions and search parameters implemented, nothing more. */
export function capabilityStatement(config: Config): CapabilityStatement {
  const types = [...new Set([...Object.keys(mappings), ...STORED_ONLY_TYPES])].sort();
  const statement = {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-11-23',
    kind: 'instance',
    name: 'NCDGateway',
    title: 'NCD Gateway FHIR R4 endpoint',
    software: { name: 'NCD Gateway', version: '0.1.0' },
    implementation: { description: 'County chronic-disease collaborative care', url: `${config.auth.publicUrl}/fhir` },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        security: {
          cors: config.http.corsOrigins.length > 0,
          service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
          extension: [
            {
              url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
              extension: [{ url: 'token', valueUri: `${config.auth.publicUrl}/auth/token` }],
            },
          ],
        },
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
        resource: [...types, 'Measure'].sort().map((type) => (type === 'Measure' ? MEASURE_RESOURCE : {
          type,
          versioning: 'versioned',
          readHistory: true,
          // Update-as-create for the sender's own ids (not UUIDs: those are this server's, and a PUT to an unknown
          // one is 404); each sender's ids are its own, stored under a server UUID (ADR 12).
          updateCreate: true,
          documentation: UPDATE_CREATE,
          conditionalCreate: true,
          conditionalUpdate: true,
          conditionalDelete: 'single',
          interaction: [{ code: 'read' }, { code: 'vread' }, { code: 'update' }, { code: 'delete' }, { code: 'create' }, { code: 'search-type' }, { code: 'history-instance' }],
          searchInclude: ['*:patient', '*:subject', ...Object.keys(REFERENCE_PARAMS[type] ?? {}).map((p) => `${type}:${p}`)],
          searchParam: [...COMMON_SEARCH, ...(SEARCH[type] ?? BY_PATIENT), ...Object.keys(REFERENCE_PARAMS[type] ?? {}).map((name) => ({ name, type: 'reference' as const }))].map((p) => ({
            name: p.name,
            type: p.type,
          })),
          ...(type === 'Patient'
            ? { operation: [{ name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' }] }
            : {}),
        })),
      },
    ],
  } as CapabilityStatement;
  const resources = statement.rest![0]!.resource!;
  resources.push(MEMBER_GROUP_RESOURCE);
  resources.sort((a, b) => a.type.localeCompare(b.type));
  return withBulkExport(statement);
}

/**
 * Bulk Data $export (src/fhir/operations/export.ts): the system level (platform administrators), Patient/$export and
 * Group/[insurer]/$export, named on the statement, Patient and Group (whichever way those resources are declared).
 */
function withBulkExport(statement: CapabilityStatement): CapabilityStatement {
  const IG = 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition';
  const rest = statement.rest![0]!;
  rest.operation = [...(rest.operation ?? []), { name: 'export', definition: `${IG}/export` }];
  for (const resource of rest.resource ?? []) {
    const definition = resource.type === 'Patient' ? `${IG}/patient-export` : resource.type === 'Group' ? `${IG}/group-export` : undefined;
    if (definition) resource.operation = [...(resource.operation ?? []), { name: 'export', definition }];
  }
  return statement;
}
