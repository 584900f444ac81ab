import { v5 as uuidV5 } from 'uuid';

/**
 * The namespace of every id a cloud sees in a report (RFC 9562 §5.5). Fixed forever: changing it changes
 * every id, and a report drafted again after an SD-card swap would reach the clouds as a new one.
 */
const REPORT_ID_NAMESPACE = 'a3d4c1b6-7f0e-4f52-9c1e-5b8e2d7a9f30';
/** Versioned, so that a later derivation can never produce an earlier one's ids by accident. */
const DERIVATION = 'kkt-agent/report/v1';

/**
 * A name-based UUID (version 5) of what a report is: the identity of what it reports (a job id, which is
 * derived from the bill's key, or a shift's device, FN and number) and which of the report's ids it is
 * (sink, kind, role). The same report drafted again, e.g. by a store rebuilt from the register after an SD
 * card died, carries the same ids, so a cloud that deduplicates by them sees it once (docs/operations.md,
 * "Replacing the SD card"). JSON keeps the parts apart: no separator inside a part makes two names alike.
 */
export function reportId(...parts: readonly string[]): string {
  return uuidV5(JSON.stringify([DERIVATION, ...parts]), REPORT_ID_NAMESPACE);
}
