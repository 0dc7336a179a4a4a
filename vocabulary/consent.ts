export enum ConsentPurpose {
  TREATMENT = 'TREATMENT',
  INSURER_SHARING = 'INSURER_SHARING',
  RESEARCH = 'RESEARCH',
}

export enum ConsentDecision {
  PERMIT = 'PERMIT',
  DENY = 'DENY',
}
