import type { CodeableConcept, Consent } from '@medplum/fhirtypes';
import { ConsentDecision, ConsentPurpose } from '../vocabulary/index.js';
import { bilingual, CONSENT_PURPOSE_DISPLAY, CONSENT_PURPOSE_OF_USE, HL7, NCD_EXTENSIONS, NCD_FHIR_BASE, NCD_SYSTEMS, SYSTEMS } from './codes.js';
import { coding, datePart, defineMapping, enumFrom, findCodingIn, findExtension, iso, ncdConcept, parseInstant, refOf, toReference } from './common.js';
import type { ConsentShape } from './domain-shapes.js';

/** The rules a decision is made under; ppc-1 requires a policy or policy rule on every Consent. */
const POLICY_URI: Record<ConsentPurpose, string> = {
  TREATMENT: `${NCD_FHIR_BASE}/policy/treatment`,
  INSURER_SHARING: `${NCD_FHIR_BASE}/policy/insurer-data-sharing`,
  RESEARCH: `${NCD_FHIR_BASE}/policy/research`,
};

/** Consent scope (consentscope) by purpose: sharing with an insurer is a privacy consent. */
const SCOPE: Record<ConsentPurpose, { code: string; display: string; text: string }> = {
  TREATMENT: { code: 'treatment', display: 'Treatment', text: '诊疗 Treatment' },
  INSURER_SHARING: { code: 'patient-privacy', display: 'Privacy Consent', text: '隐私 Privacy consent' },
  RESEARCH: { code: 'research', display: 'Research', text: '科研 Research' },
};

const PURPOSE_OF_USE_IN: Record<string, ConsentPurpose> = Object.fromEntries(
  Object.entries(CONSENT_PURPOSE_OF_USE).map(([purpose, { code }]) => [code, purpose as ConsentPurpose]),
);

/** Our purpose: our category coding, else the v3 purpose of use, else what the scope says on its own. */
function purposeOf(c: Consent): ConsentPurpose | undefined {
  const ours = enumFrom(ConsentPurpose, findCodingIn(c.category, NCD_SYSTEMS.consentPurpose)?.code);
  if (ours) return ours;
  const ofUse = c.provision?.purpose?.find((p) => p.system === HL7.actReason && p.code && PURPOSE_OF_USE_IN[p.code]);
  if (ofUse) return PURPOSE_OF_USE_IN[ofUse.code!];
  const scope = c.scope?.coding?.find((x) => x.system === HL7.consentScope)?.code;
  return scope === 'treatment' ? ConsentPurpose.TREATMENT : scope === 'research' ? ConsentPurpose.RESEARCH : undefined;
}

export const consentMapping = defineMapping<Consent, ConsentShape>({
  resourceType: 'Consent',
  read(c) {
    return {
      patientRef: refOf(c.patient, 'Patient'),
      status: c.status,
      purpose: purposeOf(c),
      decision: c.provision?.type === 'deny' ? ConsentDecision.DENY : ConsentDecision.PERMIT,
      periodStart: datePart(c.provision?.period?.start, 'Consent.provision.period.start'),
      periodEnd: datePart(c.provision?.period?.end, 'Consent.provision.period.end'),
      recordedAt: parseInstant(c.dateTime, 'Consent.dateTime'),
      recordedByRef: refOf(findExtension(c.extension, NCD_EXTENSIONS.consentRecordedBy)?.valueReference, 'Practitioner'),
      note: findExtension(c.extension, NCD_EXTENSIONS.consentNote)?.valueString,
    };
  },
  build(s) {
    const scope = SCOPE[s.purpose ?? ConsentPurpose.INSURER_SHARING];
    const category: CodeableConcept[] = [
      ...(s.purpose ? [ncdConcept(NCD_SYSTEMS.consentPurpose, s.purpose, CONSENT_PURPOSE_DISPLAY[s.purpose]!)] : []),
      // LOINC 59284-0 "Patient Consent": the category every receiver understands.
      { coding: [coding(SYSTEMS.loinc, '59284-0', 'Patient Consent')], text: bilingual({ zh: '知情同意书', en: 'Patient consent' }) },
    ];
    const ofUse = s.purpose ? CONSENT_PURPOSE_OF_USE[s.purpose] : undefined;
    return {
      resourceType: 'Consent',
      extension: [
        s.recordedByRef ? { url: NCD_EXTENSIONS.consentRecordedBy, valueReference: toReference(s.recordedByRef, 'Practitioner') } : undefined,
        s.note ? { url: NCD_EXTENSIONS.consentNote, valueString: s.note } : undefined,
      ].filter((e) => e !== undefined),
      status: s.status ?? 'active',
      scope: { coding: [coding(HL7.consentScope, scope.code, scope.display)], text: scope.text },
      category,
      patient: toReference(s.patientRef),
      dateTime: iso(s.recordedAt),
      policy: s.purpose ? [{ uri: POLICY_URI[s.purpose] }] : [{ uri: `${NCD_FHIR_BASE}/policy/consent` }],
      provision: {
        type: s.decision === ConsentDecision.DENY ? 'deny' : 'permit',
        period: { start: s.periodStart, end: s.periodEnd },
        purpose: ofUse ? [coding(HL7.actReason, ofUse.code, ofUse.display)] : undefined,
      },
    };
  },
  merge: { atomic: ['scope', 'provision.purpose'] },
});
