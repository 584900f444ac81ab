import type { ReceiptInput } from '../../../drivers/atol/receipt.js';
import type { AtolWebKkt, MarkingRefusal } from '../../../drivers/atol/web/index.js';
import { MARKING_OISM_UNAVAILABLE, PrintRefusedError } from '../device.js';

/**
 * The register's check of each marking code before a marked sale (FFD 1.2, docs/marking.md "Checks"):
 * driver 10 asks the FN and ОИСМ, the answer decides. Nothing fiscal happens here, so a crash in the middle
 * is harmless: the next attempt clears what this one left in the FN's table and checks again.
 */

/** What a cashier does about each refusal; the bill is FAILED with this text (docs/marking.md, "Refusals"). */
const REFUSAL_TEXT: Record<MarkingRefusal, string> = {
  unrecognized: 'the code was not recognised (a misread scan or a wrong GTIN): scan the pack again',
  notGenuine: 'the FN found the code not genuine: do not sell this item',
  notFound: 'Честный ЗНАК does not know this code: do not sell this item',
  statusIncorrect:
    'the code is not in circulation (already sold, or never put on sale): do not sell this item',
  saleStopped: 'the sale of this item is stopped (expired, recalled or blocked): do not sell it',
  oismUnavailable:
    'the register got no answer from Честный ЗНАК (ОИСМ) in time: check its connection and try again',
  notConfirmed: 'the check did not confirm the sale: do not sell this item',
};

/** A marking code the register's check refused: the bill is not printed, and says which item and why. */
export class MarkingCodeRefusedError extends PrintRefusedError {
  constructor(position: number, name: string, refusal: MarkingRefusal, detail: string) {
    super(
      // No answer from ОИСМ is the register's connection, not the item: its own code feeds an alert.
      refusal === 'oismUnavailable' ? MARKING_OISM_UNAVAILABLE : 'MARKING_CODE_REFUSED',
      `positions[${position}] "${name}": ${REFUSAL_TEXT[refusal]} (${detail})`,
      false,
      { position, refusal, detail },
    );
  }
}

export interface MarkingCheckOptions {
  /** How long one code's check waits for ОИСМ before the bill is refused. */
  timeoutMs: number;
}

/**
 * Checks every marked position of the receipt and returns it with each position's 2106 (the register's
 * check result) filled in; throws `MarkingCodeRefusedError` on the first code refused (the codes accepted
 * before it are cleared from the FN's table by the next attempt's reset).
 */
export async function checkMarkedPositions<R extends Omit<ReceiptInput, 'type'>>(
  kkt: AtolWebKkt,
  receipt: R,
  options: MarkingCheckOptions,
): Promise<R> {
  const items = receipt.items ?? [];
  if (!items.some((item) => item.type === 'position' && item.marking)) return receipt;
  await kkt.resetMarkingChecks();
  const checked = [];
  for (const [index, item] of items.entries()) {
    if (item.type !== 'position' || !item.marking) {
      checked.push(item);
      continue;
    }
    const input = {
      marking: item.marking,
      quantityMilli: item.quantityMilli,
      measurementUnit: item.measurementUnit ?? 'piece',
    };
    const outcome = await kkt.checkMarkingCode(input, options);
    if (outcome.kind === 'declined') {
      await kkt.resetMarkingChecks();
      throw new MarkingCodeRefusedError(index, item.name, outcome.refusal, outcome.detail);
    }
    checked.push({ ...item, marking: { ...item.marking, checkResult: outcome.checkResult } });
  }
  return { ...receipt, items: checked };
}
