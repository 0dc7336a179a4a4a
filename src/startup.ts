/**
 * What the process is still doing after it started listening. The server answers at once and prepares the demo
 * county in the background (seeding takes seconds, writing it as FHIR longer): `/health` says the process is alive
 * and what it is doing, `/ready` answers 503 until the work is done, so a load balancer or a script waits for it.
 */
export type StartupPhase = 'ready' | 'seeding the demo county' | 'writing the demo county as FHIR' | 'failed';

export class Startup {
  private phase: StartupPhase = 'ready';
  private error?: string;
  private readonly since = Date.now();

  begin(phase: Exclude<StartupPhase, 'ready' | 'failed'>): void {
    this.phase = phase;
  }

  done(): void {
    this.phase = 'ready';
  }

  fail(err: unknown): void {
    this.phase = 'failed';
    this.error = err instanceof Error ? err.message : String(err);
  }

  get ready(): boolean {
    return this.phase === 'ready';
  }

  /** While the demo county is being seeded, the database is busy in one long transaction: do not wait on it. */
  get databaseBusy(): boolean {
    return this.phase === 'seeding the demo county';
  }

  state(): { ready: boolean; phase: StartupPhase; error?: string; uptimeSeconds: number } {
    return { ready: this.ready, phase: this.phase, ...(this.error ? { error: this.error } : {}), uptimeSeconds: Math.round((Date.now() - this.since) / 1000) };
  }
}
