import { isMappedResourceType, mappingFor, mappings } from './index.js';

test('the registry maps every resource type of the exchange, keyed by resourceType', () => {
  expect(Object.keys(mappings).sort()).toEqual(
    ['CarePlan', 'CareTeam', 'Condition', 'Consent', 'Coverage', 'Encounter', 'Goal', 'Location', 'Medication', 'MedicationRequest', 'MedicationStatement', 'Observation', 'Organization', 'Patient', 'Practitioner', 'PractitionerRole', 'ServiceRequest', 'Task'].sort(),
  );
  for (const [type, mapping] of Object.entries(mappings)) expect(mapping.resourceType).toBe(type);
  expect(mappingFor('Patient')).toBe(mappings.Patient);
  expect(mappingFor('Claim')).toBeUndefined();
  expect(isMappedResourceType('toString')).toBe(false);
});
