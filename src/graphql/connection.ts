import { type ClassType, Field, Int, ObjectType } from 'type-graphql';
import type { Page } from '../domain/pagination.js';

@ObjectType()
export class PageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field({ nullable: true })
  endCursor?: string;
}

export interface ConnectionShape<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: PageInfo;
  totalCount(): Promise<number>;
}

/** A Relay connection type for `Item`; `totalCount` is only counted when a client asks for it. */
export function Connection<T extends object>(Item: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field()
    cursor!: string;

    @Field(() => Item)
    node!: T;
  }

  @ObjectType(`${name}Connection`)
  class ConnectionType implements ConnectionShape<T> {
    @Field(() => [Edge])
    edges!: Edge[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    count!: () => Promise<number>;

    @Field(() => Int, { description: 'Number of items matching the filter, across all pages.' })
    totalCount(): Promise<number> {
      return this.count();
    }

    static from(page: Page<T>): ConnectionType {
      const connection = new ConnectionType();
      connection.edges = page.items.map((node) => Object.assign(new Edge(), { node, cursor: page.cursorOf(node) }));
      connection.pageInfo = Object.assign(new PageInfo(), {
        hasNextPage: page.hasNextPage,
        endCursor: connection.edges.at(-1)?.cursor,
      });
      connection.count = page.count;
      return connection;
    }
  }
  return ConnectionType;
}
