import type { CareDerivation } from '../index.js';

/**
 * The care state (ADR 16): each managed condition's control status, the patient's management tier and colour,
 * and the next planned follow-up — derived set-based from the facts, for the patients in scope.
 */
export const careState: CareDerivation = {
  name: 'care-state',
  async derive() {
    // filled in by the care-state engine (issue 12)
  },
};
