/**
 * Before anything is measured, every server must give the same data for the same question: answers are
 * normalised (time stamps to UTC ISO; lists compared as sets, as the order of a patient's conditions or follow-ups
 * is not what is measured) and compared; the first difference stops the bench.
 */
const INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d/;

export function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, normalise(v)]));
  }
  if (typeof value === 'string' && INSTANT.test(value)) return new Date(value).toISOString();
  return value;
}

/** The first path where two normalised answers differ, with both values there. */
function firstDifference(a: unknown, b: unknown, at = '$'): string | undefined {
  if (JSON.stringify(a) === JSON.stringify(b)) return undefined;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], Array.isArray(a) ? `${at}[${k}]` : `${at}.${k}`);
      if (d) return d;
    }
  }
  return `${at}: ${JSON.stringify(a)?.slice(0, 400)} ≠ ${JSON.stringify(b)?.slice(0, 400)}`;
}

export class WrongAnswerError extends Error {}

/** Throws unless every answer equals the first (after normalising); `labels` name them in the message. */
export function assertSameAnswers(question: string, answers: Array<{ label: string; answer: unknown }>): void {
  const [reference, ...others] = answers.map((a) => ({ ...a, answer: normalise(a.answer) }));
  const errors = JSON.stringify(reference!.answer).includes('"errors"');
  if (errors) throw new WrongAnswerError(`${question}: ${reference!.label} answered an error: ${JSON.stringify(reference!.answer).slice(0, 500)}`);
  for (const o of others) {
    const d = firstDifference(reference!.answer, o.answer);
    if (d) throw new WrongAnswerError(`${question}: ${o.label} does not answer what ${reference!.label} answers, at ${d}`);
  }
}
