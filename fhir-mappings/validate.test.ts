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

test('codes of required bindings to FHIR value sets are checked: status, gender, quantity comparator, clinical status', () => {
  const observation = validateFhir({
    resourceType: 'Observation',
    status: 'finalx' as never,
    code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] },
    valueQuantity: { value: 140, comparator: '<<' as never, system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
  });
  expect(errorsOf(observation)).toEqual([
    expect.objectContaining({ code: 'code-invalid', expression: ['Observation.status'], diagnostics: expect.stringContaining('"finalx"') }),
    expect.objectContaining({ code: 'code-invalid', expression: [expect.stringMatching(/^Observation\.value.*comparator$/)] }),
  ]);
  expect(errorsOf(validateFhir({ resourceType: 'Patient', gender: 'unknown-gender' as never }))).toEqual([
    expect.objectContaining({ code: 'code-invalid', expression: ['Patient.gender'] }),
  ]);
  // A CodeableConcept bound as required: one coding of the value set is enough, other codings may ride along.
  const clinical = (code: string) =>
    errorsOf(
      validateFhir({
        resourceType: 'Condition',
        subject: { reference: 'Patient/1' },
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code }, { system: 'urn:local', code: 'A' }] },
      }),
    );
  expect(clinical('active')).toEqual([]);
  expect(clinical('smouldering')).toEqual([expect.objectContaining({ code: 'code-invalid', expression: ['Condition.clinicalStatus'] })]);
});

test('codes bound to terminologies outside FHIR (SNOMED CT, UCUM) or by preference only are not refused here', () => {
  expect(
    errorsOf(
      validateFhir({
        resourceType: 'Observation',
        status: 'final',
        category: [{ coding: [{ system: 'urn:local', code: 'anything' }] }],
        code: { coding: [{ system: 'http://snomed.info/sct', code: '000000' }] },
        valueQuantity: { value: 1, system: 'http://unitsofmeasure.org', code: 'not-a-unit' },
      }),
    ),
  ).toEqual([]);
});
