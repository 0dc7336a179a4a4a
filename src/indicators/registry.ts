import type { IndicatorDefinition } from './indicator.js';
import { bpControlRate } from './definitions/bp-control-rate.js';

/** Every indicator, in the care model's order (docs/care-model.md, "Quality indicators"). */
export const INDICATORS: readonly IndicatorDefinition[] = Object.freeze([bpControlRate]);

const BY_ID = new Map(INDICATORS.map((d) => [d.id, d]));

export function indicatorById(id: string): IndicatorDefinition | undefined {
  return BY_ID.get(id);
}
