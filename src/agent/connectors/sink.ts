import { type ErrorCode, errorMessage, KktAgentError } from '../../lib/errors.js';
import type { Job } from '../jobs/job.js';
import { DeliveryError } from '../outbox/deliveryError.js';
import { CloudHttpStatusError } from './http/errors.js';

/** What every connector's report sink shares: which jobs are its own, and how a failed delivery is classified. */

/** The job of a bill from this source and account, whether the bill was readable (`bill`) or not (`summary`). */
export function isJobOf(job: Job, source: string, account: string): boolean {
  const jobSource = job.bill?.source ?? job.summary.source;
  const jobAccount = job.bill?.account ?? job.summary.account;
  return jobSource === source && jobAccount === account;
}

/**
 * A failed delivery as the outbox's DeliveryError. An HTTP status is classified by DeliveryError (4xx other
 * than 408/429 are permanent; `Retry-After` is honoured). Anything else is retryable: credentials can be
 * fixed and a proxy's error page passes, so the report is kept; an agent error keeps its code, anything
 * else gets `fallbackCode`. A connector checks its own permanent cases before calling this.
 */
export function deliveryErrorOf(
  error: unknown,
  details: Record<string, unknown>,
  fallbackCode: ErrorCode,
): DeliveryError {
  if (error instanceof DeliveryError) return error;
  if (error instanceof CloudHttpStatusError) {
    return DeliveryError.fromHttpStatus(
      error.status,
      error.message,
      { ...details, endpoint: error.endpoint },
      error.retryAfterMs,
    );
  }
  if (error instanceof KktAgentError) {
    return new DeliveryError(error.code, error.message, { permanent: false, details, cause: error });
  }
  return new DeliveryError(fallbackCode, errorMessage(error), { permanent: false, details, cause: error });
}
