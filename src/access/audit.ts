import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import type { EntityManager, Orm } from '../db/orm.js';
import { AuditAction, AuditOutcome } from './audit-event.entity.js';
import type { Caller } from './caller.js';
import { isUuid } from '../domain/errors.js';
import { maskIdentifier } from './identifier-protection.js';

export interface AuditRow {
  action: AuditAction;
  what: string;
  patientIds: string[];
  outcome: AuditOutcome;
}

/**
 * A search parameter whose values are identifiers, whatever the resource or chain: `identifier`, `identifier:of-type`,
 * `patient.identifier`, `subject:Patient.identifier`, …
 */
const IDENTIFIER_PARAMETER = /(?:^|[.:])identifier(?::[A-Za-z-]+)?$/i;
/** `name=value` in a query string; a value ends at `&`, `#`, `;` (between Bundle entries in `what`) or white space. */
const QUERY_PARAMETER = /([?&])([^=&#;\s]+)=([^&#;\s]*)/g;
/** A run shaped like a resident ID: 17 digits and a check digit or X, or any 15 digits or more (the old 15-digit cards). */
const RESIDENT_ID_RUN = /(?<!\d)(?:\d{17}[\dXx](?![\dXx])|\d{15,})/g;

/** A query string's text decoded, for reading — control characters (a `%00`) shown as U+FFFD: no text column holds a NUL. */
const decoded = (text: string): string => {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' ')).replace(/[\u0000-\u001f\u007f]/g, '\ufffd');
  } catch {
    return text;
  }
};

/** `system|value,…` with each value masked (maskIdentifier), the systems kept: which kind of identifier was asked for is not secret. */
function maskIdentifierValues(raw: string): string {
  return decoded(raw)
    .split(',')
    .map((v) => {
      const bar = v.lastIndexOf('|');
      return bar < 0 ? maskIdentifier(v) : `${v.slice(0, bar + 1)}${maskIdentifier(v.slice(bar + 1))}`;
    })
    .join(',');
}

/**
 * What the audit trail stores of a request's text (`what`, the request id): every value of an identifier
 * search parameter, and every resident-ID-shaped run of digits anywhere, masked with the identifiers' own mask.
 * The audit trail is read by more people than may see resident IDs; what was asked for must not give one away.
 */
export function maskAuditText(text: string): string {
  return text
    .replace(QUERY_PARAMETER, (whole, sep: string, name: string, value: string) => (IDENTIFIER_PARAMETER.test(decoded(name)) ? `${sep}${name}=${maskIdentifierValues(value)}` : whole))
    .replace(RESIDENT_ID_RUN, (run) => maskIdentifier(run));
}

/** No PostgreSQL text holds the NUL character: shown as U+FFFD, so that nothing a client sent can make the audit fail. */
const textColumn = (text: string) => text.replace(/\u0000/g, '\ufffd');

/** audit_event.what is cut to this length (after masking). */
const WHAT_LENGTH = 2000;

/** `a; b; c; … and 12 more`: whole items only, up to about `length` characters (a 5,000-entry Bundle's `what`). */
function joinUpTo(items: string[], length: number): string {
  let out = '';
  for (const [i, item] of items.entries()) {
    if (out.length + item.length > length) return `${out}; … and ${items.length - i} more`;
    out += i ? `; ${item}` : item;
  }
  return out;
}

/** A part of a request that is an interaction of its own (a Bundle entry): its action, what it asked, whom it touched. */
interface AuditPart {
  action: AuditAction;
  what: string;
  patients: Set<string>;
  outcome?: AuditOutcome;
  denied: boolean;
}

/**
 * The part running, for every request: ONE AsyncLocalStorage for the process. (Node 22's AsyncLocalStorage keeps every
 * instance that ever ran in a global list until disable(), and every promise created anywhere copies a slot for each:
 * one per request made every await slower, by the number of requests the process had served.)
 */
const currentPart = new AsyncLocalStorage<{ audit: RequestAudit; part: AuditPart }>();

/**
 * Collects, during one request, every patient whose data was read or written, and writes one audit record
 * for the request when it ends — one row however many patients a search returned, in the INSERT it shares with the
 * requests ending at the same time (AuditRecorder). A Bundle's entries are parts of their own (`part`), each
 * recorded under its own interaction — a GET entry as a READ or SEARCH, a POST as a CREATE — in one row per action
 * and outcome, with the patients of those entries, in the same INSERT.
 */
export class RequestAudit {
  readonly touched = new Set<string>();
  private denied = false;
  private readonly parts = new Map<number | string, AuditPart>();
  /** The part running: what `touch` and `deny` apply to (async context, so parts may even overlap). */
  private currentPart(): AuditPart | undefined {
    const s = currentPart.getStore();
    return s?.audit === this ? s.part : undefined;
  }

  constructor(
    private readonly recorder: AuditRecorder,
    readonly caller: Caller,
    readonly requestId: string,
    readonly sourceIp: string | undefined,
  ) {}

  touch(patientId: string | undefined | null): void {
    // Ids from client input may be anything; only real ids name a patient.
    if (patientId && isUuid(patientId)) (this.currentPart()?.patients ?? this.touched).add(patientId.toLowerCase());
  }

  /**
   * The request was refused for data that is there but out of the caller's reach — answered as if there were
   * nothing (a 404, or a delete's 204) — and is recorded as DENIED; touch the patient it ran into too.
   */
  deny(): void {
    const part = this.currentPart();
    if (part) part.denied = true;
    else this.denied = true;
  }

  /**
   * Runs `work` as a part of the request with an action of its own (a Bundle entry, keyed by its index: a part run
   * again — a batch retried entry by entry — replaces the earlier run). What it touches is recorded under that
   * action; `failed` says what a failure of the part is (FAILURE unless it says DENIED).
   */
  async part<T>(key: number | string, action: AuditAction, what: string, work: () => Promise<T>, failed: (err: unknown) => AuditOutcome = () => AuditOutcome.FAILURE): Promise<T> {
    const part: AuditPart = { action, what, patients: new Set(), denied: false };
    this.parts.set(key, part);
    try {
      return await currentPart.run({ audit: this, part }, work);
    } catch (err) {
      part.outcome = failed(err);
      throw err;
    }
  }

  async record(action: AuditAction, what: string, outcome: AuditOutcome): Promise<void> {
    const rows: AuditRow[] = [];
    // The request's own row: always without parts; with them, when something outside them touched a patient.
    if (this.parts.size === 0 || this.touched.size > 0) rows.push({ action, what, outcome: this.denied ? AuditOutcome.DENIED : outcome, patientIds: [...this.touched] });
    // The parts, a row per action and outcome. When the request as a whole failed (a transaction rolled back),
    // nothing a part did stands: a part that did not fail itself is a FAILURE too.
    const groups = new Map<string, { action: AuditAction; outcome: AuditOutcome; whats: string[]; patients: Set<string> }>();
    for (const part of this.parts.values()) {
      const own = part.denied ? AuditOutcome.DENIED : (part.outcome ?? (outcome === AuditOutcome.SUCCESS ? AuditOutcome.SUCCESS : AuditOutcome.FAILURE));
      const key = `${part.action} ${own}`;
      const group = groups.get(key) ?? { action: part.action, outcome: own, whats: [], patients: new Set<string>() };
      groups.set(key, group);
      group.whats.push(part.what);
      part.patients.forEach((p) => group.patients.add(p));
    }
    for (const g of groups.values()) rows.push({ action: g.action, what: `${what}: ${joinUpTo(g.whats, WHAT_LENGTH)}`, outcome: g.outcome, patientIds: [...g.patients] });
    await this.recorder.write(this, rows);
  }
}

/** What an `x-request-id` from a client may look like (audit_event.request_id is varchar(255)). */
const REQUEST_ID = /^[A-Za-z0-9._:@\/+=-]{1,200}$/;

/**
 * The one check of a client's request id, for every path (app.ts runs it before any router): kept when it is a
 * plain token the audit record can hold and holds nothing shaped like a resident ID (maskAuditText would change
 * it), else replaced by `fresh()`.
 */
export function requestIdFrom(given: unknown, fresh: () => string): string {
  return typeof given === 'string' && REQUEST_ID.test(given) && maskAuditText(given) === given ? given : fresh();
}

/** Rows per INSERT at most: a bounded statement (MikroORM inlines the values) however many requests finished at once. */
const ROWS_PER_INSERT = 2000;

interface QueuedRows {
  values: unknown[];
  rows: number;
  requestId: string;
  durable: () => void;
  failed: (err: unknown) => void;
}

/**
 * Writes the audit trail by group commit: every request's rows wait in one queue, and while one INSERT is being
 * committed the rows of the requests that finish meanwhile gather for the next — one commit for many requests under
 * load, none added when idle (the first rows go at once). A request is answered only once its rows are durable
 * (`write` resolves after the COMMIT), so "every read audited" holds as with a commit per request.
 */
export class AuditRecorder {
  private queue: QueuedRows[] = [];
  private writing?: Promise<void>;

  constructor(
    private readonly orm: Orm,
    private readonly log: Logger,
  ) {}

  forRequest(caller: Caller, requestId: string, sourceIp: string | undefined): RequestAudit {
    return new RequestAudit(this, caller, requestId, sourceIp);
  }

  /** Audit rows waiting for their INSERT or in it (the metrics' audit queue). */
  get queued(): number {
    return this.queue.reduce((n, q) => n + q.rows, 0) + this.inFlight;
  }
  private inFlight = 0;

  /** Resolves once every row queued so far is durable (graceful shutdown: after the server stopped taking requests). */
  async flush(): Promise<void> {
    while (this.draining) await this.writing?.catch(() => {});
  }

  /** Queues a request's rows and resolves when they are committed. A failure to audit is an error the request must not hide. */
  write(request: RequestAudit, rows: AuditRow[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    const c = request.caller;
    const values: unknown[] = [];
    for (const row of rows) {
      values.push(
        uuidv7(),
        c.kind === 'system' ? 'system' : 'user',
        c.subject,
        c.practitionerId ?? null,
        c.organizationId ?? null,
        c.onBehalfOf ?? null,
        row.action,
        textColumn(maskAuditText(row.what)).slice(0, WHAT_LENGTH),
        `{${row.patientIds.join(',')}}`,
        row.outcome,
        // Checked on the way in (requestIdFrom); masked here too for ids made in-process (the import CLI names its files).
        textColumn(maskAuditText(request.requestId)),
        request.sourceIp ?? null,
      );
    }
    return new Promise<void>((durable, failed) => {
      this.queue.push({ values, rows: rows.length, requestId: request.requestId, durable, failed });
      if (!this.draining) {
        this.draining = true;
        this.writing = this.drain();
      }
    });
  }

  /**
   * Set and cleared synchronously, with the queue found empty in the same step: a write arriving just as the last
   * batch ends starts a drain of its own instead of waiting for one that has finished.
   */
  private draining = false;

  private async drain(): Promise<void> {
    for (;;) {
      if (this.queue.length === 0) {
        this.draining = false;
        return;
      }
      const batch: QueuedRows[] = [];
      let rows = 0;
      while (this.queue.length > 0 && (batch.length === 0 || rows + this.queue[0]!.rows <= ROWS_PER_INSERT)) {
        const next = this.queue.shift()!;
        batch.push(next);
        rows += next.rows;
      }
      this.inFlight = rows;
      try {
        await this.insert(batch);
        batch.forEach((q) => q.durable());
      } catch (err) {
        // A row the database refuses (a data error: SQLSTATE class 22 or 23) must not fail the others' requests: each
        // is tried alone. Anything else (the connection, the server) fails them all at once, not one timeout each.
        const rowError = /^2[23]/.test(String((err as { code?: unknown; sqlState?: unknown }).sqlState ?? (err as { code?: unknown }).code ?? ''));
        for (const q of batch) {
          try {
            if (batch.length > 1 && rowError) await this.insert([q]);
            else throw err;
            q.durable();
          } catch (own) {
            this.log.error({ err: own, requestId: q.requestId }, 'audit write failed');
            q.failed(own);
          }
        }
      } finally {
        this.inFlight = 0;
      }
    }
  }

  private async insert(batch: QueuedRows[]): Promise<void> {
    const tuples = batch.flatMap((q) => Array.from({ length: q.rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?::uuid[], ?, ?, ?)'));
    await (this.orm.em.fork() as EntityManager).getConnection().execute(
      `insert into audit_event (id, actor_type, actor, practitioner_id, organization_id, on_behalf_of, action, what, patient_ids, outcome, request_id, source_ip)
       values ${tuples.join(', ')}`,
      batch.flatMap((q) => q.values),
    );
  }
}
