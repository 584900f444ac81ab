import { createHash, randomInt } from 'node:crypto';
import type { BillKey, JobOperation } from './job.js';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** Tag 1192 holds at most 16 characters (docs/fiscalization.md, "The marker"). */
export const MARKER_LENGTH = 16;
/** Versioned, so a later derivation can never produce an earlier one's markers by accident. */
const DERIVATION = 'kkt-agent/marker/v1';
const MARKER_SPACE = 36n ** BigInt(MARKER_LENGTH);

/**
 * The job id of a bill, derived from its key: 16 base-36 characters of SHA-256 over the key's parts (and
 * the operation when it is not a sale, so a return never carries its sale's marker). It is the receipt's
 * marker (tag 1192), the SmartX operationId and the driver-10 request uuid, so a receipt found on the
 * register can be tied to its bill without the agent's store (docs/fiscalization.md, "The marker"):
 * ~82.7 bits, so two of a box's bills share one with odds far below one in 10^12 over its life, and a
 * receipt found by its marker is still compared with the bill (total, positions) before it counts.
 */
export function jobIdFor(key: BillKey, operation: JobOperation = 'sell'): string {
  const parts = [DERIVATION, key.source, key.account, key.billId];
  if (operation !== 'sell') parts.push(operation);
  // JSON keeps the parts apart: no separator inside an id can make two keys hash alike.
  const digest = createHash('sha256').update(JSON.stringify(parts), 'utf8').digest();
  let value = BigInt(`0x${digest.toString('hex')}`) % MARKER_SPACE;
  let id = '';
  for (let i = 0; i < MARKER_LENGTH; i++) {
    id = ALPHABET[Number(value % 36n)] + id;
    value /= 36n;
  }
  return id;
}

/**
 * A random job id (8 base-36 characters of time plus 4 random ones): only when a bill's derived id is
 * already taken by another bill's job, which a rebuild then cannot tie to its bill (it blocks instead).
 * Jobs made before markers were derived carry ids of this form too.
 */
export function newJobId(now = Date.now()): string {
  let random = '';
  for (let i = 0; i < 4; i++) random += ALPHABET[randomInt(36)];
  return now.toString(36).padStart(8, '0').slice(-8) + random;
}
