import { cashIn, cashOut } from '../../../drivers/atol/commands/cash.js';
import { Mode } from '../../../drivers/atol/commands/modes.js';
import type { AtolDevice, HandlerRegistry } from '../device.js';
import { FfdTag } from '../fiscalDocuments.js';
import { ErrorCode, fail, type Outcome, ok } from '../outcome.js';
import { tagText } from '../tags.js';
import {
  openShiftIfClosed,
  refuseExpiredShift,
  refuseImplicitShiftOpening,
  refusePrinterBlocked,
  requireMode,
} from './guards.js';

/**
 * `49` cash in and `4F` cash out: they move the drawer and print a slip, but are not fiscal documents.
 * Like a receipt, they open a closed shift first.
 */
function cashOperation(device: AtolDevice, kind: 'cashIn' | 'cashOut', sumKop: number): Outcome<void> {
  const refusal = requireMode(device, Mode.Registration);
  if (refusal) return refusal;
  const { state } = device;
  if (state.receipt) return fail(ErrorCode.ReceiptOpen);
  if (sumKop === 0) return fail(ErrorCode.BadAmount);
  const blocked =
    refuseExpiredShift(device) ?? refuseImplicitShiftOpening(device) ?? refusePrinterBlocked(device);
  if (blocked) return blocked;
  if (kind === 'cashOut' && state.cashKop < sumKop) return fail(ErrorCode.NoCash);
  const cashier = tagText(state.pendingTags, FfdTag.cashierName);
  openShiftIfClosed(device);
  if (kind === 'cashIn') {
    state.cashKop += sumKop;
    state.counters.cashInKop += sumKop;
    state.counters.cashInCount++;
  } else {
    state.cashKop -= sumKop;
    state.counters.cashOutKop += sumKop;
    state.counters.cashOutCount++;
  }
  device.print({
    kind,
    header: device.header(),
    dateTime: device.wallNow(),
    shiftNumber: device.currentShiftNumber(),
    cashier,
    sumKop,
    cashKop: state.cashKop,
  });
  return ok();
}

export function registerCashHandlers(device: AtolDevice, handle: HandlerRegistry): void {
  handle(cashIn, ({ sumKop }) => cashOperation(device, 'cashIn', sumKop));
  handle(cashOut, ({ sumKop }) => cashOperation(device, 'cashOut', sumKop));
}
