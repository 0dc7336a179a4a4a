import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { LocalDateResolver } from 'graphql-scalars';
import { formatYuan, parseYuan } from '../domain/capitation/money.js';

/** Calendar dates (birth date, plan period, due dates) travel as `LocalDate` (YYYY-MM-DD), never as instants. */
export const LocalDate = LocalDateResolver;

/**
 * Money (CNY) travels as a decimal string with two places, "385000000.00": exact at any size, where a GraphQL Int
 * stops at 21 million CNY in fen and a Float cannot hold every fen. Given, it may be a string or a number with at
 * most two decimals. Inside, it is whole fen (src/domain/capitation/money.ts).
 */
export const Money = new GraphQLScalarType<number, string>({
  name: 'Money',
  description: 'An amount of CNY as a decimal string with two places ("5180400.00"); given as such a string or a number with at most two decimals.',
  serialize: (fen) => formatYuan(fen as number),
  parseValue: (value) => moneyOf(value),
  parseLiteral: (ast) => moneyOf(ast.kind === Kind.STRING || ast.kind === Kind.INT || ast.kind === Kind.FLOAT ? ast.value : undefined),
});

function moneyOf(value: unknown): number {
  const fen = parseYuan(value);
  if (fen === undefined) throw new GraphQLError(`${JSON.stringify(value)} is not an amount of CNY with at most two decimals`);
  return fen;
}
