import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Admission } from '../../domain/admission/admission.entity.js';
import { Organization } from '../../domain/organization/organization.entity.js';
import { Patient } from '../../domain/patient/patient.entity.js';
import type { Context } from '../context.js';

@Resolver(() => Admission)
export class AdmissionResolver {
  @FieldResolver(() => Patient)
  patient(@Root() a: Admission, @Ctx() ctx: Context) {
    return ctx.loaders.patient.load(a.patient.id);
  }

  @FieldResolver(() => Organization, { nullable: true, description: 'The hospital.' })
  organization(@Root() a: Admission, @Ctx() ctx: Context) {
    return a.organization ? ctx.loaders.organization.load(a.organization.id) : null;
  }
}
