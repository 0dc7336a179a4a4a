/**
 * The two GraphQL questions the hot-path benchmark asks (issue 11): what a village doctor's tablet asks all day.
 * The peer (PostGraphile) and the hand-written-SQL floor answer the same questions, checked to be the same data.
 */

/** Patient card: one patient, conditions, latest BP, latest fasting glucose, active care plans with activities, follow-ups. */
export const PATIENT_CARD_QUERY = `query PatientCard($id: ID!) {
  patient(id: $id) {
    id name gender birthDate
    conditions { kind code clinicalStatus }
    latestBloodPressure { systolic diastolic effectiveAt }
    latestGlucose(fastingOnly: true) { value unit effectiveAt }
    carePlans(status: ACTIVE) { id title activities { category description } }
    followUps { id type plannedDate doneDate }
  }
}`;

/** Patient list: the first 50 patients with conditions, latest BP and glucose, active care plans. */
export const PATIENT_LIST_QUERY = `query PatientList {
  patients(first: 50) {
    edges { node {
      id name
      conditions { kind code }
      latestBloodPressure { systolic diastolic effectiveAt }
      latestGlucose { value unit effectiveAt }
      carePlans(status: ACTIVE) { id title activities { category } }
    } }
  }
}`;
