import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { maskAuditText } from '../access/audit.js';
import { labelsOf, pathOf, type RequestLabels } from './labels.js';

export interface FinishedRequest {
  labels: RequestLabels;
  /** The status sent, or `aborted` when the client went away first. */
  status: number | 'aborted';
  seconds: number;
}

/**
 * One log line per request, written as its response finishes (or the client goes away): method, path (no query
 * string, resident-ID-shaped runs masked as the audit masks them), status, duration, the request id the audit
 * record carries, and what was asked (API and operation). Probes and scrapes are logged at debug: they come every
 * few seconds and say nothing new. `observe` hears of every request too (the metrics).
 */
export function requestLog(log: Logger, observe: (finished: FinishedRequest) => void) {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    let done = false;
    const finish = (status: number | 'aborted') => {
      if (done) return;
      done = true;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const labels = labelsOf(req);
      observe({ labels, status, seconds });
      const line = {
        requestId: (req as Request & { requestId?: string }).requestId,
        method: req.method,
        path: maskAuditText(pathOf(req)),
        status,
        ms: Math.round(seconds * 1e4) / 10,
        api: labels.api,
        operation: labels.operation,
      };
      if (status === 'aborted') log.warn(line, 'request aborted by the client');
      else if (status >= 500) log.error(line, 'request failed');
      else if (labels.api === 'ops') log.debug(line, 'request');
      else log.info(line, 'request');
    };
    res.once('finish', () => finish(res.statusCode));
    res.once('close', () => finish(res.writableFinished ? res.statusCode : 'aborted'));
    next();
  };
}
