import type { CodesIn } from '../../lib/errors.js';

/**
 * The codes of the state reporter's errors, with what each means (docs/errors.md is made from this list).
 * A non-2xx answer is `HTTP_<status>` (the outbox list).
 */
export const STATE_ERROR_CODES = {
  STATE_POST_TIMEOUT: 'The state server gave no answer to POST /state in time; the next report tries again.',
  STATE_POST_FAILED: 'POST /state failed before an answer (network, DNS, TLS); the next report tries again.',
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry {
    state: CodesIn<typeof STATE_ERROR_CODES>;
  }
}
