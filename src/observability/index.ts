import express, { type RequestHandler, type Router } from 'express';
import type { Logger } from 'pino';
import type { AuditRecorder } from '../access/audit.js';
import type { Config } from '../config.js';
import type { Orm } from '../db/orm.js';
import type { Startup } from '../startup.js';
import { healthz, readyz } from './health.js';
import { requestLog } from './logging.js';
import { ServiceMetrics } from './metrics.js';

export { operationNamePlugin } from './labels.js';

export interface VitalSigns {
  /** Times, logs and counts every request: mounted before anything else that may answer. */
  requests: RequestHandler;
  /** `/healthz`, `/readyz`, `/metrics`, and the older names `/health` and `/ready` (scripts and tests wait on them). */
  routes: Router;
  metrics: ServiceMetrics;
}

/** The service's vital signs (docs/operations.md): probes, Prometheus metrics, the request log. */
export function vitalSigns(sources: { config: Config; orm: Orm; startup: Startup; audit: Pick<AuditRecorder, 'queued'>; log: Logger }): VitalSigns {
  const metrics = new ServiceMetrics(sources);
  const routes = express.Router();
  const live = healthz(sources);
  const ready = readyz(sources);
  routes.get(['/healthz', '/health'], live);
  routes.get(['/readyz', '/ready'], ready);
  routes.get('/metrics', metrics.handler());
  const requests = requestLog(sources.log, ({ labels, status, seconds }) => metrics.observe(labels, status, seconds));
  return { requests, routes, metrics };
}
