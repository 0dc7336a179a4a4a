import { errorsOf, validateFhir } from './validate.js';

test('a valid resource has no issues', () => {
  expect(validateFhir({ resourceType: 'Patient', name: [{ text: '张三' }], gender: 'male' })).toEqual([]);
});

test('structural errors come back as issues with FHIRPath expressions, not as exceptions', () => {
  const issues = validateFhir({ resourceType: 'Patient', foo: 1 } as never);
  expect(errorsOf(issues)).toEqual([expect.objectContaining({ severity: 'error', expression: ['Patient.foo'] })]);
});

test('invariants are checked (con-5: no clinical status on an entered-in-error condition)', () => {
  const issues = validateFhir({
    resourceType: 'Condition',
    subject: { reference: 'Patient/1' },
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' }] },
  });
  expect(errorsOf(issues)[0]).toMatchObject({ code: 'invariant', expression: ['Condition'] });
  expect(errorsOf(issues)[0]?.details?.text).toContain('con-5');
});

test('a missing required element is an error', () => {
  const issues = validateFhir({ resourceType: 'Observation', code: { text: 'x' } } as never);
  expect(errorsOf(issues)[0]?.expression?.[0]).toMatch(/^Observation/);
});
