import { EventEmitter } from 'node:events';

/**
 * "The outbox may have grown": said in this process after a write has committed (a GraphQL or FHIR request that
 * changed something has answered; a consumer has handled events and may have written derived state). The event
 * worker and the urgent-alert feed then look at once instead of at their next poll, so an urgent reading's alert
 * reaches its subscribers in a fraction of a second. Only a hint: polling still finds what other processes write.
 */
const signal = new EventEmitter();
signal.setMaxListeners(0);

export function outboxWritten(): void {
  signal.emit('written');
}

/** Calls `listener` on each hint; returns the function that stops it. */
export function onOutboxWritten(listener: () => void): () => void {
  signal.on('written', listener);
  return () => signal.off('written', listener);
}
