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

/**
 * The worklist questions (issue 12): a township's overdue follow-ups, a village's uncontrolled patients, the first
 * page of 50 of each, with the reason each patient is on the list. PostGraphile is not asked them (bench/README.md).
 */
export const OVERDUE_QUERY = `query OverdueFollowUps($scope: WorklistScopeInput) {
  worklists(scope: $scope) {
    followUpsDue(overdueOnly: true, first: 50) {
      edges { node { daysOverdue dueDate patient { id name } followUp { id plannedDate } } }
    }
  }
}`;

export const UNCONTROLLED_QUERY = `query UncontrolledPatients($scope: WorklistScopeInput) {
  worklists(scope: $scope) {
    uncontrolled(first: 50) {
      edges { node { conditionKind controlStatus decidedAt patient { id name } reading { id systolic diastolic value effectiveAt } } }
    }
  }
}`;

/*
 * The same questions in PostGraphile's generated schema (amber preset; its `id` is a global node id, the column is
 * `rowId`, aliased back to `id`). A latest reading is the first of the
 * patient's plausible readings of that kind, newest first (ties to the larger id, as ours). With no `in` in the
 * amber preset's conditions, the list's "latest glucose, fasting or not" is asked as the latest of each kind, and
 * the newer taken (`peerToOurs`): one more sub-selection for the peer than for us.
 */
const latestPeer = (alias: string, kind: string, fields: string) =>
  `${alias}: observationsByPatientId(condition: {kind: "${kind}", plausibility: "PLAUSIBLE"}, orderBy: [EFFECTIVE_AT_DESC, ROW_ID_DESC], first: 1) { nodes { ${fields} } }`;

export const PEER_PATIENT_CARD_QUERY = `query PatientCard($id: UUID!) {
  patientByRowId(rowId: $id) {
    id: rowId name gender birthDate
    conditionsByPatientId { nodes { kind code clinicalStatus } }
    ${latestPeer('bp', 'BLOOD_PRESSURE', 'systolic diastolic effectiveAt')}
    ${latestPeer('fasting', 'FASTING_GLUCOSE', 'value unit effectiveAt')}
    carePlansByPatientId(condition: {status: "ACTIVE"}) { nodes { id: rowId title carePlanActivitiesByCarePlanId { nodes { category description } } } }
    followUpsByPatientId { nodes { id: rowId type plannedDate doneDate } }
  }
}`;

export const PEER_PATIENT_LIST_QUERY = `query PatientList {
  allPatients(first: 50, orderBy: PRIMARY_KEY_ASC) {
    nodes {
      id: rowId name
      conditionsByPatientId { nodes { kind code } }
      ${latestPeer('bp', 'BLOOD_PRESSURE', 'systolic diastolic effectiveAt')}
      ${latestPeer('fasting', 'FASTING_GLUCOSE', 'id: rowId value unit effectiveAt')}
      ${latestPeer('random', 'GLUCOSE', 'id: rowId value unit effectiveAt')}
      carePlansByPatientId(condition: {status: "ACTIVE"}) { nodes { id: rowId title carePlanActivitiesByCarePlanId { nodes { category } } } }
    }
  }
}`;

type Json = Record<string, unknown>;
type Nodes = { nodes: Json[] };
type Reading = Json & { id?: string; effectiveAt: string };

const first = (c: Nodes) => c.nodes[0] ?? null;
const newer = (a: Reading | null, b: Reading | null): Reading | null => {
  if (!a || !b) return a ?? b;
  const [ta, tb] = [Date.parse(a.effectiveAt), Date.parse(b.effectiveAt)];
  return ta > tb || (ta === tb && a.id! > b.id!) ? a : b;
};
const withoutId = (r: Reading | null) => r && Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'id'));

function peerPatient(p: Json & Record<string, unknown>): Json {
  const { conditionsByPatientId, bp, fasting, random, carePlansByPatientId, followUpsByPatientId, ...fields } = p as Record<string, Nodes> & Json;
  return {
    ...fields,
    conditions: conditionsByPatientId!.nodes,
    latestBloodPressure: first(bp!),
    latestGlucose: random ? withoutId(newer(first(fasting!) as Reading | null, first(random) as Reading | null)) : first(fasting!),
    carePlans: carePlansByPatientId!.nodes.map(({ carePlanActivitiesByCarePlanId, ...plan }) => ({ ...plan, activities: (carePlanActivitiesByCarePlanId as Nodes).nodes })),
    ...(followUpsByPatientId ? { followUps: followUpsByPatientId.nodes } : {}),
  };
}

/** A PostGraphile answer in the shape of ours, to be compared with it. */
export function peerToOurs(answer: { data?: { patientByRowId?: Json | null; allPatients?: { nodes: Json[] } } }): unknown {
  const d = answer.data;
  if (d?.allPatients) return { data: { patients: { edges: d.allPatients.nodes.map((n) => ({ node: peerPatient(n) })) } } };
  if (d && 'patientByRowId' in d) return { data: { patient: d.patientByRowId ? peerPatient(d.patientByRowId) : null } };
  return answer;
}
