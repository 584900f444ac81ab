import { randomInt } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * A short job id: 8 base-36 characters of time plus 4 random ones, 12 printable ASCII characters in all.
 * It fits tag 1192 (16 characters), which is how a reconcile recognises our receipt on the register.
 */
export function newJobId(now = Date.now()): string {
  let random = '';
  for (let i = 0; i < 4; i++) random += ALPHABET[randomInt(36)];
  return now.toString(36).padStart(8, '0').slice(-8) + random;
}
