import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { AuditAction, AuditOutcome } from '../access/audit-event.entity.js';
import type { AuditRecorder } from '../access/audit.js';
import type { Caller } from '../access/caller.js';
import { entityManagerFor, type Security } from '../access/index.js';
import { AuthenticationError, BEARER_CHALLENGE } from '../access/tokens.js';
import type { CareRules } from '../care-rules/rules.js';
import type { Orm } from '../db/orm.js';
import { DomainError } from '../domain/errors.js';
import { Organization } from '../domain/organization/organization.entity.js';
import { rowsWhereAny } from '../graphql/loaders.js';
import { indicatorsCsv, UTF8_BOM } from './csv.js';
import { indicatorTable } from './table.js';

/**
 * GET /indicators.csv — the indicator table for the bureau's spreadsheets, behind the same bearer token, rate limit,
 * policy and audit as /graphql, computed by the same call as GraphQL `indicators` (table.ts):
 *
 *   ?periodStart=YYYY-MM-DD&periodEnd=YYYY-MM-DD   required, both days included
 *   &organizationId= &careTeamId= &gridId=           the scope (none: every patient you may see)
 *   &breakdown=true                                  also a row per organisation directly below the scope's
 *   &only=bp-control-rate,glucose-control-rate       these indicators only (ids, as the FHIR Measures')
 *
 * 200 text/csv, UTF-8 with a byte-order mark (csv.ts). Refusals as /admin answers them, JSON `{ error, message }`:
 * 400 invalid_request (with `field`), 401 unauthenticated, 403 forbidden. Audited as a read naming no patient: the
 * figures are counts, which identify no one (ADR 18).
 */
export interface IndicatorsCsvDeps {
  orm: Orm;
  security: Security;
  rules: CareRules;
  audit: AuditRecorder;
  /** Sets `req.caller`, or passes an AuthenticationError on. */
  authenticate: RequestHandler;
  limiter: RequestHandler;
  logger: Logger;
}

type CsvRequest = Request & { caller?: Caller; requestId?: string };

const PARAMETERS = ['periodStart', 'periodEnd', 'organizationId', 'careTeamId', 'gridId', 'breakdown', 'only'] as const;
type Parameter = (typeof PARAMETERS)[number];

class CsvRefusal extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The query's parameters, each sent at most once (Express would make a repeated one an array). */
function parameters(req: Request): Partial<Record<Parameter, string>> {
  const out: Partial<Record<Parameter, string>> = {};
  for (const [name, value] of Object.entries(req.query)) {
    if (!(PARAMETERS as readonly string[]).includes(name)) throw new CsvRefusal(`unknown parameter ${name}: the parameters are ${PARAMETERS.join(', ')}`, name);
    if (typeof value !== 'string') throw new CsvRefusal(`${name} must be given once`, name);
    out[name as Parameter] = value;
  }
  return out;
}

function breakdownOf(value: string | undefined): boolean {
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new CsvRefusal('breakdown must be true or false', 'breakdown');
}

/** What the GraphQL field is called for each input of the request, so a refusal names this route's parameter. */
const FIELD_OF: Record<string, Parameter> = {
  'scope.organizationId': 'organizationId',
  'scope.careTeamId': 'careTeamId',
  'scope.gridId': 'gridId',
  'period.start': 'periodStart',
  'period.end': 'periodEnd',
  period: 'periodStart',
  only: 'only',
};

export function indicatorsCsvRoute(deps: IndicatorsCsvDeps): RequestHandler[] {
  const { orm, security, rules, logger } = deps;
  const handler = async (req: CsvRequest, res: Response, next: NextFunction) => {
    const caller = req.caller!;
    const audit = deps.audit.forRequest(caller, req.requestId!, req.ip);
    const what = `GET /indicators.csv?${new URLSearchParams(req.query as Record<string, string>).toString()}`.slice(0, 500);
    const refuse = async (status: number, outcome: AuditOutcome, error: string, message: string, field?: string) => {
      await audit.record(AuditAction.READ, what, outcome);
      res.status(status).json({ error, message, ...(field ? { field } : {}) });
    };
    try {
      let csv: string;
      let filename: string;
      try {
        const q = parameters(req);
        if (!q.periodStart || !q.periodEnd) throw new CsvRefusal('periodStart and periodEnd (YYYY-MM-DD) are required', q.periodStart ? 'periodEnd' : 'periodStart');
        const period = { start: q.periodStart, end: q.periodEnd };
        const { em, policy } = entityManagerFor(orm, caller, security.policySettings);
        const ask = {
          scope: { organizationId: q.organizationId || undefined, careTeamId: q.careTeamId || undefined, gridId: q.gridId || undefined },
          period,
          only: q.only ? q.only.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
          breakdown: breakdownOf(q.breakdown),
        };
        const { request, results } = await indicatorTable(em, policy, rules, ask);
        const orgId = request.scope.organizationId ?? undefined;
        const [org] = orgId ? await rowsWhereAny(em, policy, Organization, 'id', [orgId], 't.id') : [];
        csv = indicatorsCsv(results, period, { organizationId: org?.id, organizationName: org?.name });
        filename = `indicators_${period.start}_${period.end}.csv`;
      } catch (err) {
        if (err instanceof CsvRefusal) return await refuse(400, AuditOutcome.FAILURE, 'invalid_request', err.message, err.field);
        if (err instanceof DomainError && err.code === 'BAD_USER_INPUT') return await refuse(400, AuditOutcome.FAILURE, 'invalid_request', err.message, err.field && (FIELD_OF[err.field] ?? err.field));
        if (err instanceof DomainError && err.code === 'FORBIDDEN') return await refuse(403, AuditOutcome.DENIED, 'forbidden', err.message);
        await audit.record(AuditAction.READ, what, AuditOutcome.FAILURE).catch(() => {});
        throw err;
      }
      // Recorded before the figures leave, as every read is (a read that left no trace is not served).
      await audit.record(AuditAction.READ, what, AuditOutcome.SUCCESS);
      res
        .status(200)
        .set({ 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${filename}"`, 'Cache-Control': 'no-store' })
        .send(UTF8_BOM + csv);
    } catch (err) {
      next(err);
    }
  };
  const errors = (err: unknown, req: CsvRequest, res: Response, _next: NextFunction) => {
    if (err instanceof AuthenticationError) {
      res.status(401).set('WWW-Authenticate', BEARER_CHALLENGE).json({ error: 'unauthenticated', message: err.message });
      return;
    }
    logger.error({ err, requestId: req.requestId }, 'GET /indicators.csv failed');
    res.status(500).json({ error: 'server_error', message: 'the request failed' });
  };
  return [deps.authenticate, deps.limiter, handler as RequestHandler, errors as unknown as RequestHandler];
}
