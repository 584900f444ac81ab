import type { CodesIn } from '../../lib/errors.js';

/**
 * The codes of the outbox's delivery errors, with what each means (docs/errors.md is made from this list).
 * A sink's own failures carry the sink's codes (`BRIDGE_DELIVERY_FAILED`…).
 */
export const OUTBOX_ERROR_CODES = {
  DELIVERY_FAILED:
    'A report could not be delivered for a reason the sink did not name; it is retried with backoff.',
  'HTTP_<status>':
    'A server answered a report or the state document with this HTTP status; 5xx and 429 are retried, other 4xx go to the dead letter.',
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry {
    outbox: CodesIn<typeof OUTBOX_ERROR_CODES>;
  }
}
