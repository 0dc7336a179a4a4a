import type { PractitionerShape } from '../../../fhir-mappings/index.js';
import { Practitioner } from '../../domain/practitioner/practitioner.entity.js';
import { type ProjectionContext, upsert } from './context.js';

/** A practitioner's code is set when the record is created, never rewritten from FHIR (see organization.ts). */
export async function projectPractitioner(ctx: ProjectionContext, id: string, shape: PractitionerShape): Promise<void> {
  const existing = ctx.created ? null : await ctx.em.findOne(Practitioner, { id }, { filters: false });
  if (existing) {
    await upsert(ctx, Practitioner, id, { name: shape.name ?? existing.name, gender: shape.gender, phone: shape.phone });
  } else {
    const code = shape.code ?? id;
    const taken = await ctx.em.findOne(Practitioner, { code, id: { $ne: id } });
    await upsert({ ...ctx, created: true }, Practitioner, id, { name: shape.name ?? code, gender: shape.gender, code: taken ? id : code, phone: shape.phone });
  }
  await ctx.em.flush();
}
