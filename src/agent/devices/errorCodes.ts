import type { CodesIn } from '../../lib/errors.js';

/**
 * The codes of the device adapters' own errors, with what each means (docs/errors.md is made from this
 * list). A driver's errors keep the driver's codes (drivers/atol, drivers/intent), and so do the adapters'
 * errors that mean the same (`INTENT_UNFINISHED_SALE`).
 */
export const DEVICES_ERROR_CODES = {
  DEVICE_OPERATION_UNSUPPORTED:
    'This kind of device does not support the operation asked of it (a shift report on a non-fiscal printer…).',
  DEVICE_CURRENCY_UNSUPPORTED:
    "The bill's currency is not one this device fiscalizes. Route the bill to a device for its country.",
  KKT_REFUSED_IN_SELF_TEST:
    'The last doctor run found that the register refuses what this bill needs. Fix the register, run doctor again.',
  KKT_WEB_REQUEST_PENDING:
    'A request is still queued or running on the ATOL web server; the job waits for its result.',
  NONFISCAL_DIRECTORY: "The non-fiscal device's output directory cannot be used; the message says why.",
  NONFISCAL_NOT_READY: 'The non-fiscal device is not ready (its directory failed); the bill waits.',
  NONFISCAL_WRITE_FAILED: 'A receipt file could not be written; nothing was printed, the job is retried.',
  NONFISCAL_OUTCOME_UNKNOWN:
    'Writing a receipt file failed after it may have been complete; the job is reconciled.',
  DEVICE_MARKING_UNSUPPORTED:
    'The bill has marked goods and this device cannot check marking codes (protocol v3 registers: use the driver-10 backend, docs/marking.md).',
  MARKING_CODE_REFUSED:
    'The register (Честный ЗНАК) refused a marking code: not recognised, not genuine, already sold or withdrawn. Nothing was printed; the message names the code.',
  MARKING_OISM_UNAVAILABLE:
    'The register got no answer from Честный ЗНАК (ОИСМ) in time; nothing was printed. Check its internet and OFD link, then fiscalize the bill again.',
  MARKING_LM_REFUSED:
    "The shop's local module of Честный ЗНАК says a code may not be sold (blocked, already sold, expired, unknown, another product's): nothing was printed; the message names the position and why.",
  MARKING_LM_UNAVAILABLE:
    'The local module of Честный ЗНАК could not vouch for a code (unreachable, not initialised, its database stale, or answering with an error) and `whenUnavailable` is `refuse`: nothing was printed. Check the module, then fiscalize the bill again.',
  MARKING_LM_AUTH_FAILED:
    "The local module of Честный ЗНАК refused the agent's credentials (HTTP 401/403): nothing was printed. Fix the device's `localModule.credentialsFile`.",
  MARKING_LM_CREDENTIALS:
    'The local module\'s credentials file is missing, unreadable or not `{ "username", "password" }`: nothing was printed; the message names the file and the field.',
  MARKING_LM_ANSWER_INVALID:
    'The local module of Честный ЗНАК answered with something the agent cannot read (not JSON, or a field missing or of the wrong type): nothing was printed; the message names the field.',
  MARKING_LM_UNREACHABLE:
    'The doctor could not reach the local module of Честный ЗНАК (connection refused, or no answer within `localModule.timeoutMs`): check that its service runs and `localModule.url`.',
  MARKING_LM_NOT_READY:
    'The doctor found the local module of Честный ЗНАК not ready to check codes (not initialised, initialising, sync error, service mode, or failing with HTTP 5xx): its line says what to do.',
  MARKING_LM_SYNC_STALE:
    'The doctor found that the local module of Честный ЗНАК has not synced within `localModule.maxSyncAgeHours` (or does not say when it did): check its internet access.',
  DEVICE_RECEIPT_KIND_UNSUPPORTED:
    'This device cannot issue this kind of receipt (SmartX: plain sales only); the message names the field. Route the bill to an ATOL register.',
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry {
    devices: CodesIn<typeof DEVICES_ERROR_CODES>;
  }
}
