import { ReferenceKind, type EntityMetadata, type EventSubscriber, type FlushEventArgs } from '@mikro-orm/core';
import type { EntityManager } from './orm.js';

export interface ReadOnly<T> {
  meta: EntityMetadata<T>;
  /** The column of a property (a relation: its foreign key). */
  column(property: string): string;
  record(row: Record<string, unknown>): T;
}

const made = new WeakMap<EntityMetadata, ReadOnly<unknown>>();

/** Marks a read-only record (not enumerable: GraphQL, JSON and the ORM's comparisons never see it). */
const READ_ONLY = Symbol('read-only record');

/**
 * Records for reading only, straight from their rows: the ORM's own column-to-property mapping (dates, JSON),
 * each relation a bare reference (`{ id }`, as an unloaded ORM reference), on the entity's prototype (so that
 * `instanceof` and type-graphql take them as they are). No hydration, identity map or unit of work: those were
 * most of a page's CPU (ORM find, create and merge: ~35 % of a 50-patient page, cpu profile in issue 11).
 * Nothing that writes gets these: services load what they change through the entity manager.
 */
export function readOnly<T extends object>(em: EntityManager, entity: new () => T): ReadOnly<T> {
  const meta = em.getMetadata().find(entity)!;
  const known = made.get(meta as EntityMetadata);
  if (known) return known as ReadOnly<T>;
  const references = meta.props.filter((p) => p.kind === ReferenceKind.MANY_TO_ONE || p.kind === ReferenceKind.ONE_TO_ONE).map((p) => p.name as string);
  const driver = em.getDriver();
  const read: ReadOnly<T> = {
    meta,
    column: (property) => meta.properties[property as never]!.fieldNames[0]!,
    record(row) {
      const record = driver.mapResult(row as never, meta) as Record<string, unknown>;
      for (const name of references) {
        const id = record[name];
        record[name] = id == null ? null : { id };
      }
      Object.defineProperty(record, READ_ONLY, { value: true });
      return Object.setPrototypeOf(record, meta.prototype) as T;
    },
  };
  made.set(meta as EntityMetadata, read as ReadOnly<unknown>);
  return read;
}

/**
 * Refuses a flush that would write a read-only record. On its entity's prototype such a record passes for an
 * entity: `em.persist(record)` would queue an INSERT of a copy of its row. Writes load managed entities instead.
 */
export class ReadOnlyRecordGuard implements EventSubscriber {
  onFlush({ uow }: FlushEventArgs): void {
    for (const change of uow.getChangeSets()) {
      if ((change.entity as Record<symbol, unknown>)[READ_ONLY]) {
        throw new Error(`a read-only ${change.meta.className} record (src/db/read-only.ts) cannot be written: load it through the entity manager`);
      }
    }
  }
}
