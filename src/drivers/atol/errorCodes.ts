import type { CodesIn } from '../../lib/errors.js';
import { EXTENDED_ERRORS, PROTOCOL_ERRORS, UNKNOWN_DEVICE_ERROR } from './protocol/deviceErrors.js';
import { DRIVER_ONLY_ERRORS, UNKNOWN_DRIVER_ERROR } from './web/driverErrors.js';

/** What each code of a table row means: the row's message (the tables are the list for their codes). */
function meaningsOf<Code extends string>(
  ...tables: Iterable<{ code: Code; message: string }>[]
): Readonly<Record<Code, string>> {
  const meanings: Partial<Record<Code, string>> = {};
  for (const table of tables) for (const row of table) meanings[row.code] ??= row.message;
  return meanings as Record<Code, string>;
}

/**
 * The codes of the ATOL driver's errors, with what each means (docs/errors.md is made from this list).
 * The register's own error bytes and the driver-10 codes keep their tables (`protocol/deviceErrors.ts`,
 * `web/driverErrors.ts`), whose rows are part of this list.
 */
export const ATOL_ERROR_CODES = {
  KKT_OUTCOME_UNKNOWN:
    'The register may have done the operation but did not confirm it. The job is reconciled against the register, never retried blindly.',
  KKT_NOT_CONNECTED: 'The link to the register is not open; nothing was sent. Check the cable or network.',
  KKT_NOT_ANSWERING:
    'The register stopped answering on an open link; the link is being reopened. Check that it is on and not stuck on a menu.',
  KKT_LINK_DOWN: 'The connection to the register dropped. Check the cable or network and its power.',
  KKT_NO_ANSWER: 'The register did not answer in time. Check that it is switched on and connected.',
  KKT_TASK_BUFFER:
    "The register's task buffer refused the command (protocol v3 layer); the command did not run.",
  KKT_MALFORMED_ANSWER:
    'The register sent an answer the driver cannot decode. Save a wire trace and report it.',
  KKT_DEFERRED_FAILURE: 'A command sent without waiting for its result failed on the register.',
  KKT_UNSUPPORTED_MODEL:
    'The register model is not a platform 2.5 model the protocol driver speaks; use the driver-10 backend.',
  KKT_TAX_RATE_UNKNOWN:
    'No tax byte is known for a VAT rate on this register; set it in the device\'s "taxBytes".',
  KKT_UNSUPPORTED_FFD: 'The register works to an FFD version the driver does not write (only 1.05 and 1.2).',
  WIRE_TRACE_MALFORMED: 'A wire trace file has a line that cannot be read; the message names the line.',
  WIRE_TRACE_OPEN_FAILED: 'The wire trace file cannot be opened for writing; check the path and permissions.',
  USB_BINARY_UNSUPPORTED:
    'The usb package has no binary for this CPU (32-bit ARM needs ARMv7); USB hotplug is off and discovery polls.',
  KKT_WEB_UNREACHABLE:
    'The ATOL driver-10 web server cannot be reached; nothing was sent. Check that it runs and listens.',
  KKT_WEB_AUTH:
    "The ATOL web server refused the credentials; nothing was queued. Check the device's auth settings.",
  KKT_WEB_REJECTED:
    'The ATOL web server refused the request; nothing was queued. The message gives its answer.',
  KKT_WEB_NO_ANSWER:
    'The ATOL web server gave no usable answer; whether the task ran is checked before anything is retried.',
  KKT_WEB_TASK_TIMEOUT:
    'A task on the ATOL web server did not finish in time; its result is looked up again.',
  KKT_WEB_TASK_FAILED: 'A task on the ATOL web server failed without a driver error code.',
  KKT_WEB_TASK_CANCELED: 'The ATOL web server cancelled the task before it ran; nothing was printed.',
  KKT_WEB_REQUEST_CHAIN_EXHAUSTED:
    'The web server refused the same request too many times; it is not submitted again.',
  ...meaningsOf(PROTOCOL_ERRORS.values(), EXTENDED_ERRORS.values(), [UNKNOWN_DEVICE_ERROR]),
  ...meaningsOf(DRIVER_ONLY_ERRORS.values(), [UNKNOWN_DRIVER_ERROR]),
  KKT_MARKING_UNSUPPORTED:
    'Marking codes cannot be checked over protocol v3 (no public source documents the commands); use the driver-10 backend (docs/protocol/atol-v3.md §16).',
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry {
    'drivers/atol': CodesIn<typeof ATOL_ERROR_CODES>;
  }
}
