import { LocalDateResolver } from 'graphql-scalars';

/** Calendar dates (birth date, plan period, due dates) travel as `LocalDate` (YYYY-MM-DD), never as instants. */
export const LocalDate = LocalDateResolver;
