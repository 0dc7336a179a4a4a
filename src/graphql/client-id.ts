import type { Context } from './context.js';
import { type AnswerShape, IS_RECORD, writeOnce } from '../offline/write-once.js';

/** The `id` field of a create mutation's input a tablet sends offline (ADR 17). */
export const CLIENT_ID = {
  nullable: true,
  description:
    'An id the client generated for the new record (a UUID, v7 preferred), so that it can send the request again safely: the same request again answers the stored record and changes nothing; the same id with anything else is CONFLICT.',
};

type Services = Context['services'];

/**
 * A create mutation under the client's id: `writeOnce` over the request's services, in one transaction with the
 * note of the write. `args` are all the mutation's arguments (the id among them: it is the key, so it never differs).
 */
export function createOnce<A>(
  ctx: Context,
  operation: string,
  request: { id?: string | null; patientId?: string | null; args: Record<string, unknown> },
  write: (services: Services, id: string | undefined) => Promise<A>,
  shape: AnswerShape<A> = IS_RECORD as AnswerShape<A>,
): Promise<A> {
  return writeOnce(ctx.em, { id: request.id, operation, args: request.args, patientId: request.patientId }, shape, (tx, id) => write(ctx.servicesIn(tx), id));
}
