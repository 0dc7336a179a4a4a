export { INDICATORS, indicatorById } from './registry.js';
export * from './indicator.js';
export * from './engine.js';
export { MAX_PERIOD_YEARS } from './period.js';
