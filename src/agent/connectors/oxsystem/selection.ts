import type { OxSellKind } from './config.js';
import { hasFiscalNote } from './note.js';
import { oxInstant } from './time.js';
import type { OxSellHead } from './wire.js';

/**
 * Which sells are bills (docs/protocol/oxsystem.md §3). The list endpoint has no state filter, so every sell
 * updated since the cursor is read and sorted here. The state is `draft` + `finishedTime`, never `status` (a
 * finished sell in the doc still says `status:"cart"`).
 */

export type OxSellClass =
  | { kind: OxSellKind }
  | { kind: 'other'; reason: 'debt' | 'inconsistent' | 'not-a-cart' };

export function classifySell(
  sell: Pick<OxSellHead, 'draft' | 'finishedTime' | 'isPostpone' | 'isDebt'>,
): OxSellClass {
  if (!sell.draft && sell.finishedTime !== null) return { kind: 'finished' };
  // A finished time on a cart, or neither a cart nor finished: nothing the doc describes.
  if (sell.draft && sell.finishedTime !== null) return { kind: 'other', reason: 'inconsistent' };
  if (sell.isDebt) return { kind: 'other', reason: 'debt' };
  if (sell.isPostpone) return { kind: 'postponed' };
  if (sell.draft) return { kind: 'open' };
  return { kind: 'other', reason: 'not-a-cart' };
}

export type Selection =
  | { select: true; kind: OxSellKind }
  | {
      select: false;
      /** `later`: look again at the next poll (the cursor waits for it); the others are final for this version. */
      why: 'policy' | 'other' | 'noted' | 'later';
      detail: string;
    };

export interface SelectionPolicy {
  kinds: readonly OxSellKind[];
  openSettleSeconds: number;
  timeZone: string;
}

/** Decides on a sell from its head (list row or card). `nowMs` is the agent's clock. */
export function selectSell(head: OxSellHead, policy: SelectionPolicy, nowMs: number): Selection {
  const sellClass = classifySell(head);
  if (sellClass.kind === 'other') return { select: false, why: 'other', detail: sellClass.reason };
  if (!policy.kinds.includes(sellClass.kind)) {
    return { select: false, why: 'policy', detail: `${sellClass.kind} sells are not selected` };
  }
  // A fiscal note means some agent printed it already (maybe one whose journal was lost): never again.
  if (hasFiscalNote(head.note))
    return { select: false, why: 'noted', detail: 'the sell carries a fiscal note' };
  if (sellClass.kind === 'open' && policy.openSettleSeconds > 0) {
    const updated = oxInstant(head.updatedTime, policy.timeZone)?.getTime();
    if (updated === undefined || nowMs - updated < policy.openSettleSeconds * 1000) {
      return { select: false, why: 'later', detail: 'the cart changed too recently' };
    }
  }
  return { select: true, kind: sellClass.kind };
}
