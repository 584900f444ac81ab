import {
  beginPosition,
  closeReceipt,
  enterMode,
  exitMode,
  openReceipt,
  PaymentType,
  ReceiptType,
  type RegisterPositionParams,
  registerPosition,
  shortStatus,
} from '../../src/drivers/atol/commands/index.js';
import { EMULATOR_TAX_BYTES } from '../../src/emulators/atol/vat.js';
import type { TestHost } from './host.js';

/** A valid `EB` for one piece at `priceKop`, VAT 20 %; override any field. */
export function position(overrides: Partial<RegisterPositionParams> = {}): RegisterPositionParams {
  const priceKop = overrides.priceKop ?? 10_000;
  const quantityMilli = overrides.quantityMilli ?? 1_000;
  return {
    flags: 0,
    priceKop,
    quantityMilli,
    amountKop: Math.floor((priceKop * quantityMilli + 500) / 1000),
    taxCode: EMULATOR_TAX_BYTES.vat20,
    taxSumKop: 0,
    department: 1,
    paymentObject: 1,
    paymentMethod: 4,
    discountSign: 0,
    discountKop: 0,
    name: 'Товар',
    ...overrides,
  };
}

/** Enters a mode the way the driver does: leave the current one first, unless it is the one wanted. */
export async function ensureMode(host: TestHost, mode: number, password = 30): Promise<void> {
  const status = await host.ok(shortStatus, undefined);
  if (status.mode === mode) return;
  if (status.mode !== 0) await host.ok(exitMode, undefined);
  await host.ok(enterMode, { mode, password });
}

/** Mode 1 and an open sell receipt with one position of `priceKop`. */
export async function openSellWithPosition(
  host: TestHost,
  priceKop = 10_000,
  receiptType: number = ReceiptType.Sell,
) {
  await ensureMode(host, 1);
  await host.ok(openReceipt, { flags: 0, receiptType });
  await host.ok(beginPosition, undefined);
  await host.ok(registerPosition, position({ priceKop }));
}

/** A whole sell receipt paid in cash, exact amount. */
export async function sell(host: TestHost, priceKop = 10_000): Promise<void> {
  await openSellWithPosition(host, priceKop);
  await host.ok(closeReceipt, { flags: 0, paymentType: PaymentType.Cash, sumKop: 0 });
}

/** Polls `45` (as a driver does) until the register is in mode.submode; returns every state seen. */
export async function pollUntilMode(
  host: TestHost,
  mode: number,
  submode: number,
  timeoutMs = 5000,
): Promise<string[]> {
  const seen: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await host.ok(shortStatus, undefined);
    const state = `${status.mode}.${status.submode}`;
    if (seen.at(-1) !== state) seen.push(state);
    if (status.mode === mode && status.submode === submode) return seen;
    if (Date.now() > deadline) throw new Error(`still in ${state} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
