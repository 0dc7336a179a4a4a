import { createHash } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '../db/orm.js';
import { badInput, conflict, isUuid } from '../domain/errors.js';
import { ClientWrite } from './client-write.entity.js';

/**
 * A create sent under the client's own id (ADR 17). A tablet queues what the doctor records while the network is
 * down and sends it later, perhaps twice (an answer lost on the way back): the same request again must change nothing
 * and answer what is stored; the same id asking for something else is refused.
 */
export interface ClientCreate {
  /** The client's id, a UUID (v7 preferred); none: the server picks one and nothing is kept. */
  id?: string | null;
  /** The mutation's name: an id is used by one mutation. */
  operation: string;
  /** What the mutation was sent, less `id`: two sends are the same request when these are equal. */
  args: Record<string, unknown>;
  /** The patient the write is for. */
  patientId?: string | null;
}

/** How an answer holds its record: the answer itself, or one of its fields (the rest kept as they were answered). */
export interface AnswerShape<A> {
  record(answer: A): { id: string; constructor: { name: string } };
  /** The answer again from its record and the other fields kept. */
  rebuild(record: object, kept: Record<string, unknown>): A;
  /** The fields kept besides the record (scalars: recordFollowUp's advice). */
  kept?(answer: A): Record<string, unknown>;
}

/** The answer is the record. */
export const IS_RECORD: AnswerShape<never> = { record: (a) => a, rebuild: (r) => r as never };

const REFUSED = (id: string) => conflict(`id ${id} is already used by another write: send a new id for a new record`);

/**
 * Runs `write` once per client id, in one transaction with the note of it (`client_write`): `write` is given the
 * entity manager of that transaction (services built over it nest in it) and the id the new record takes; without a
 * client id, the entity manager given and no id. Sent again with the same operation, patient
 * and arguments, the stored record is read again (through the access policy) and answered, and nothing is written;
 * anything else under a used id is CONFLICT, with one message that names neither the record nor its patient. A new
 * record under an id some other record already has fails on the primary key: CONFLICT too. Two identical requests
 * at once: the second waits for the first (a lock on the id) and is answered as a repeat.
 */
export async function writeOnce<A>(em: EntityManager, request: ClientCreate, shape: AnswerShape<A>, write: (tx: EntityManager, id: string | undefined) => Promise<A>): Promise<A> {
  const id = request.id ?? undefined;
  if (id === undefined) return write(em, undefined);
  if (!isUuid(id)) throw badInput('id must be a UUID (v7 preferred) the client generated', 'id');
  const key = id.toLowerCase();
  const digest = digestOf(request.operation, request.args);
  try {
    return await em.transactional(async (tx) => {
      // Two sends of one request at once: the second waits here until the first has committed (or rolled back) its
      // record and its note together, then finds the note. Without it, it could fail on the record's key while the
      // note was not yet visible, and be refused as a different write.
      await tx.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`client_write:${key}`]);
      const earlier = await tx.findOne(ClientWrite, { id: key });
      if (earlier) return replay(tx as EntityManager, earlier, request, digest, shape);
      const answer = await write(tx as EntityManager, key);
      const record = shape.record(answer);
      tx.create(ClientWrite, {
        id: key,
        operation: request.operation,
        digest,
        patientId: request.patientId?.toLowerCase(),
        recordType: record.constructor.name,
        recordId: record.id,
        answer: shape.kept?.(answer),
        createdAt: new Date(),
      });
      await tx.flush();
      return answer;
    });
  } catch (err) {
    if (!(err instanceof UniqueConstraintViolationException)) throw err;
    const fresh = em.fork() as EntityManager;
    const earlier = await fresh.findOne(ClientWrite, { id: key });
    if (!earlier) throw REFUSED(key);
    return replay(fresh, earlier, request, digest, shape);
  }
}

async function replay<A>(em: EntityManager, earlier: ClientWrite, request: ClientCreate, digest: string, shape: AnswerShape<A>): Promise<A> {
  if (earlier.operation !== request.operation || earlier.digest !== digest || (earlier.patientId ?? null) !== (request.patientId?.toLowerCase() ?? null)) {
    throw REFUSED(earlier.id);
  }
  const meta = em.getMetadata().getByClassName(earlier.recordType, false);
  // Read as any read is (the access filter): a record since removed, or no longer the caller's to see, is not answered.
  const record = meta ? await em.findOne(meta.class, { id: earlier.recordId } as never) : null;
  if (!record) throw conflict(`id ${earlier.id} was used by an earlier write whose record is no longer there for you: sync, then send a new id`);
  return shape.rebuild(record as object, earlier.answer ?? {});
}

/** sha256 of the arguments as canonical JSON: keys sorted, absent and null alike left out, times as ISO strings. */
export function digestOf(operation: string, args: unknown): string {
  return createHash('sha256').update(`${operation}\n${canonical(args)}`).digest('hex');
}

function canonical(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v != null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
