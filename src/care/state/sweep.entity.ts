import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/**
 * The day the care rules last reassessed every patient (the daily sweep, src/care/state/sweep.ts), so that a
 * restarted worker, or a second one, does not sweep the same day again.
 */
@Entity({ tableName: 'care_sweep' })
export class CareSweep {
  @PrimaryKey({ columnType: 'text' })
  name!: string;

  @Property({ type: 'date' })
  sweptOn!: string;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  sweptAt!: Date;
}
