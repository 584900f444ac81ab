import type { CodesIn } from '../../lib/errors.js';

/**
 * The codes of the job store's and the intake's errors, with what each means (docs/errors.md is made from
 * this list).
 */
export const JOBS_ERROR_CODES = {
  BILL_INVALID:
    'The intake refused a bill that is not valid; the message names the field. Nothing was fiscalized.',
  JOB_DUPLICATE: 'A job for this bill already exists: each bill is fiscalized once.',
  JOB_NOT_FOUND: 'No job has the id given.',
  JOB_ILLEGAL_TRANSITION:
    'A job was asked to change to a state it cannot reach from its own (a bug: report it with the log).',
  JOB_INVALID: 'A job that does not fit the stored-record schema was refused; nothing was stored.',
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry {
    jobs: CodesIn<typeof JOBS_ERROR_CODES>;
  }
}
