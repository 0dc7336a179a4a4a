import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { CareTeam, CareTeamMember } from '../../domain/care-team/care-team.entity.js';
import { Coverage } from '../../domain/coverage/coverage.entity.js';
import { isUuid, notFound } from '../../domain/errors.js';
import { Grid, Organization, OrganizationLevel } from '../../domain/organization/organization.entity.js';
import { Practitioner, PractitionerRole } from '../../domain/practitioner/practitioner.entity.js';
import type { Context } from '../context.js';
import { PatientConnection } from './patient.resolver.js';

async function load<T>(loader: { load(id: string): Promise<T | null> }, what: string, id: string): Promise<T> {
  const found = isUuid(id) ? await loader.load(id) : null;
  if (!found) throw notFound(what, id);
  return found;
}

@Resolver(() => Organization)
export class OrganizationResolver {
  @Query(() => Organization)
  organization(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return load(ctx.loaders.organization, 'Organization', id);
  }

  @Query(() => [Organization], { description: 'Organisations, optionally the direct children of one, or of one level.' })
  organizations(
    @Ctx() ctx: Context,
    @Arg('parentId', () => ID, { nullable: true }) parentId?: string,
    @Arg('level', () => OrganizationLevel, { nullable: true }) level?: OrganizationLevel,
  ) {
    if (parentId && !isUuid(parentId)) throw notFound('Organization', parentId);
    return ctx.em.find(Organization, { ...(parentId ? { parent: parentId } : {}), ...(level ? { level } : {}) }, { orderBy: { code: 'asc' } });
  }

  @FieldResolver(() => Organization, { nullable: true })
  parent(@Root() o: Organization, @Ctx() ctx: Context) {
    return o.parent ? ctx.loaders.organization.load(o.parent.id) : null;
  }

  @FieldResolver(() => [Organization])
  children(@Root() o: Organization, @Ctx() ctx: Context) {
    return ctx.em.find(Organization, { parent: o.id }, { orderBy: { code: 'asc' } });
  }

  @FieldResolver(() => [Grid])
  grids(@Root() o: Organization, @Ctx() ctx: Context) {
    return ctx.em.find(Grid, { organization: o.id }, { orderBy: { code: 'asc' } });
  }
}

@Resolver(() => Grid)
export class GridResolver {
  @FieldResolver(() => Organization)
  organization(@Root() g: Grid, @Ctx() ctx: Context) {
    return ctx.loaders.organization.load(g.organization.id);
  }
}

@Resolver(() => CareTeam)
export class CareTeamResolver {
  @Query(() => CareTeam)
  careTeam(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return load(ctx.loaders.careTeam, 'CareTeam', id);
  }

  @FieldResolver(() => Organization)
  organization(@Root() t: CareTeam, @Ctx() ctx: Context) {
    return ctx.loaders.organization.load(t.organization.id);
  }

  @FieldResolver(() => Grid, { nullable: true })
  grid(@Root() t: CareTeam, @Ctx() ctx: Context) {
    return t.grid ? ctx.loaders.grid.load(t.grid.id) : null;
  }

  @FieldResolver(() => [CareTeamMember])
  members(@Root() t: CareTeam, @Ctx() ctx: Context) {
    return ctx.loaders.membersByCareTeam.load(t.id);
  }

  @FieldResolver(() => PatientConnection, { description: 'Patients who signed a family-doctor contract with this team.' })
  async patients(
    @Root() t: CareTeam,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', { nullable: true }) after?: string,
  ) {
    return PatientConnection.from(await ctx.services.patients.search({ careTeamId: t.id }, first, after));
  }
}

@Resolver(() => CareTeamMember)
export class CareTeamMemberResolver {
  @FieldResolver(() => Practitioner)
  practitioner(@Root() m: CareTeamMember, @Ctx() ctx: Context) {
    return ctx.loaders.practitioner.load(m.practitioner.id);
  }
}

@Resolver(() => Practitioner)
export class PractitionerResolver {
  @Query(() => Practitioner, { description: 'A practitioner of the county directory, with the roles they hold.' })
  practitioner(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return load(ctx.loaders.practitioner, 'Practitioner', id);
  }

  @FieldResolver(() => [PractitionerRole])
  roles(@Root() p: Practitioner, @Ctx() ctx: Context) {
    return ctx.loaders.rolesByPractitioner.load(p.id);
  }
}

@Resolver(() => PractitionerRole)
export class PractitionerRoleResolver {
  @FieldResolver(() => Organization)
  organization(@Root() r: PractitionerRole, @Ctx() ctx: Context) {
    return ctx.loaders.organization.load(r.organization.id);
  }
}

@Resolver(() => Coverage)
export class CoverageResolver {
  @FieldResolver(() => Organization)
  insurer(@Root() c: Coverage, @Ctx() ctx: Context) {
    return ctx.loaders.organization.load(c.insurer.id);
  }
}
