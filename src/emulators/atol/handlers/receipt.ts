import { Mode } from '../../../drivers/atol/commands/modes.js';
import {
  beginPosition,
  CORRECTION_RECEIPT_TYPES,
  cancelReceipt,
  closeReceipt,
  MAX_POSITION_NAME_LENGTH,
  OpenReceiptFlags,
  openReceipt,
  PaymentType,
  PositionFlags,
  payment,
  ReceiptType,
  registerPosition,
  Tag,
  writeTag,
} from '../../../drivers/atol/commands/receipt.js';
import { decodeCp866 } from '../../../drivers/atol/protocol/cp866.js';
import { ffdSecondsToWallClock, wallClockToFfdSeconds } from '../../../drivers/atol/protocol/dateTime.js';
import { decodeTlvList } from '../../../drivers/atol/protocol/tlv.js';
import { isFfd12 } from '../../../drivers/atol/receiptForm.js';
import type { AtolDevice, HandlerRegistry } from '../device.js';
import { buildReceiptDocument, FfdTag } from '../fiscalDocuments.js';
import { type JournalEntry, journalItem } from '../journalEntry.js';
import { ErrorCode, ExtendedCode, fail, failExtended, type Outcome, ok } from '../outcome.js';
import { nonCashTotal, paidTotal, positionAmount, receiptTotal, tenderedByType } from '../receiptMath.js';
import type { PrintedCorrection } from '../render.js';
import { type OpenReceiptState, type StoredPayment, tlvToStored } from '../state.js';
import { POSITION_LEVEL_TAGS, RECEIPT_LEVEL_TAGS, tagText } from '../tags.js';
import { vatIncluded } from '../vat.js';
import {
  openShiftIfClosed,
  refuseExpiredShift,
  refuseFnBlocked,
  refuseImplicitShiftOpening,
  refusePrinterBlocked,
  requireMode,
} from './guards.js';

const RECEIPT_TYPES: ReadonlySet<number> = new Set(Object.values(ReceiptType));
const PAYMENT_TYPES: ReadonlySet<number> = new Set(Object.values(PaymentType));
/** Receipt types where the drawer pays cash out (sell return, buy, and their corrections). */
const CASH_OUT_TYPES: ReadonlySet<number> = new Set([
  ReceiptType.SellReturn,
  ReceiptType.Buy,
  ReceiptType.SellReturnCorrection,
  ReceiptType.BuyCorrection,
]);

/**
 * A correction receipt (`92` types 7–10) the FN refuses to close without its type (1173) and basis (1174);
 * a plain receipt has no place for them (docs/protocol/atol-v3.md §17). Refused as a bad tag combination,
 * our reading of the extended code the register reports.
 */
function refuseCorrectionTags(receipt: OpenReceiptState): Outcome<never> | undefined {
  const has = (tag: number) => receipt.tags.some((t) => t.tag === tag);
  const correction = CORRECTION_RECEIPT_TYPES.has(receipt.receiptType);
  if (correction && !(has(Tag.correctionType) && has(Tag.correctionBasis)))
    return failExtended(ExtendedCode.TagCombination);
  if (!correction && (has(Tag.correctionType) || has(Tag.correctionBasis)))
    return failExtended(ExtendedCode.TagCombination);
  return undefined;
}

/** The open receipt in mode 1, or the refusal (`66` outside mode 1, `9A` with no receipt open). */
function openReceiptOrRefusal(device: AtolDevice): OpenReceiptState | Outcome<never> {
  const refusal = requireMode(device, Mode.Registration);
  if (refusal) return refusal;
  return device.state.receipt ?? fail(ErrorCode.ReceiptClosed);
}

const isRefusal = (value: OpenReceiptState | Outcome<never>): value is Outcome<never> => 'errorCode' in value;

/** Tags only FFD 1.2 knows (the position's unit, the buyer's STLV), and the 1.05 buyer tags 1.2 nests. */
const FFD_12_ONLY_TAGS: ReadonlySet<number> = new Set([Tag.measurementUnit, Tag.buyerInfo]);
const FFD_105_ONLY_TAGS: ReadonlySet<number> = new Set([Tag.buyerName, Tag.buyerInn]);

/** A tag this register's FFD version has no place for: refused as a bad tag combination (our reading). */
function refuseForFfd(device: AtolDevice, tag: number): Outcome<never> | undefined {
  const ffd12 = isFfd12(device.ffdVersion);
  if ((!ffd12 && FFD_12_ONLY_TAGS.has(tag)) || (ffd12 && FFD_105_ONLY_TAGS.has(tag)))
    return failExtended(ExtendedCode.TagCombination);
  return undefined;
}

/** The payments with one more added; a sum of 0 means "whatever is still due" (nothing, when paid up). */
function withPayment(receipt: OpenReceiptState, paymentType: number, sumKop: number): StoredPayment[] {
  const due = Math.max(0, receiptTotal(receipt) - paidTotal(receipt.payments));
  const sum = sumKop === 0 ? due : sumKop;
  return sum === 0 ? [...receipt.payments] : [...receipt.payments, { paymentType, sumKop: sum }];
}

export function registerReceiptHandlers(device: AtolDevice, handle: HandlerRegistry): void {
  handle(openReceipt, ({ flags, receiptType }) => {
    const refusal = requireMode(device, Mode.Registration);
    if (refusal) return refusal;
    if (device.state.receipt) return fail(ErrorCode.ReceiptOpen);
    if (!RECEIPT_TYPES.has(receiptType)) return fail(ErrorCode.BadReceiptType);
    const blocked =
      refuseExpiredShift(device) ?? refuseFnBlocked(device) ?? refuseImplicitShiftOpening(device);
    if (blocked) return blocked;
    openShiftIfClosed(device);
    device.state.receipt = {
      receiptType,
      flags,
      openedAtMs: device.clock.nowMs(),
      tags: [],
      positions: [],
      payments: [],
      positionStarted: false,
      positionTags: [],
      textLines: [],
    };
    return ok();
  });

  handle(beginPosition, () => {
    const receipt = openReceiptOrRefusal(device);
    if (isRefusal(receipt)) return receipt;
    // A second EA restarts the position: tags written for the abandoned one are dropped.
    receipt.positionStarted = true;
    receipt.positionTags = [];
    return ok();
  });

  handle(writeTag, ({ tlv }) => {
    const refusal = requireMode(device, Mode.Registration, Mode.ReportNoClear, Mode.ReportClear);
    if (refusal) return refusal;
    const wrongForm = refuseForFfd(device, tlv.tag);
    if (wrongForm) return wrongForm;
    const stored = tlvToStored(tlv.tag, tlv.value);
    const receipt = device.state.receipt;
    if (receipt?.positionStarted) {
      if (RECEIPT_LEVEL_TAGS.has(tlv.tag)) return failExtended(ExtendedCode.ReceiptTagAfterPosition);
      if (receipt.positionTags.some((t) => t.tag === tlv.tag)) return failExtended(ExtendedCode.TagWritten);
      receipt.positionTags.push(stored);
      return ok();
    }
    if (POSITION_LEVEL_TAGS.has(tlv.tag)) return failExtended(ExtendedCode.NoPositionStart);
    if (receipt) {
      if (receipt.tags.some((t) => t.tag === tlv.tag)) return failExtended(ExtendedCode.TagWritten);
      receipt.tags.push(stored);
      return ok();
    }
    // Outside a receipt the tag waits for the next document (9A, 5A); a rewrite replaces it.
    const pending = device.state.pendingTags.filter((t) => t.tag !== tlv.tag);
    device.state.pendingTags = [...pending, stored];
    return ok();
  });

  handle(registerPosition, (p) => {
    const receipt = openReceiptOrRefusal(device);
    if (isRefusal(receipt)) return receipt;
    if (!receipt.positionStarted) return failExtended(ExtendedCode.NoPositionStart);
    if (p.name.length > MAX_POSITION_NAME_LENGTH) return fail(ErrorCode.BadLength);
    if (p.quantityMilli === 0) return fail(ErrorCode.BadQuantity);
    if (p.amountKop !== positionAmount(p.priceKop, p.quantityMilli)) return fail(ErrorCode.BadAmount);
    const rate = device.faults.refuseTaxCode === p.taxCode ? undefined : device.vat.rateForCode(p.taxCode);
    if (!rate) return failExtended(ExtendedCode.BadTax);
    if (p.paymentMethod < 1 || p.paymentMethod > 7) return failExtended(ExtendedCode.BadItemPaymentMethod);
    if (p.discountSign === 0 && p.discountKop > p.amountKop) return fail(ErrorCode.BadAmount);
    const totalKop = p.discountSign === 0 ? p.amountKop - p.discountKop : p.amountKop + p.discountKop;
    // Without EB flag 0x02 a position of a cash-out receipt needs the drawer to hold the receipt's
    // amount, however it is paid: a card refund is refused with 98 (Crystals' comment on the flag).
    const cashChecked = (p.flags & PositionFlags.NoCashCheck) === 0;
    if (
      cashChecked &&
      CASH_OUT_TYPES.has(receipt.receiptType) &&
      device.state.cashKop < receiptTotal(receipt) + totalKop
    ) {
      return fail(ErrorCode.NoCash);
    }
    receipt.positions.push({
      name: p.name,
      priceKop: p.priceKop,
      quantityMilli: p.quantityMilli,
      amountKop: p.amountKop,
      discountSign: p.discountSign,
      discountKop: p.discountKop,
      totalKop,
      taxCode: p.taxCode,
      taxType: rate.type,
      // 0 asks the register to compute the tax itself.
      taxSumKop: p.taxSumKop || vatIncluded(totalKop, rate.percent),
      department: p.department,
      paymentObject: p.paymentObject,
      paymentMethod: p.paymentMethod,
      tags: receipt.positionTags,
    });
    receipt.positionStarted = false;
    receipt.positionTags = [];
    return ok();
  });

  handle(payment, ({ paymentType, sumKop }) => {
    const receipt = openReceiptOrRefusal(device);
    if (isRefusal(receipt)) return receipt;
    if (!PAYMENT_TYPES.has(paymentType)) return fail(ErrorCode.BadPaymentType);
    const payments = withPayment(receipt, paymentType, sumKop);
    const total = receiptTotal(receipt);
    if (nonCashTotal(payments) > total) return fail(ErrorCode.NonCashExceedsTotal);
    receipt.payments = payments;
    const paid = paidTotal(payments);
    return ok({ remainderKop: Math.max(0, total - paid), changeKop: Math.max(0, paid - total) });
  });

  handle(closeReceipt, ({ paymentType, sumKop }) => {
    const receipt = openReceiptOrRefusal(device);
    if (isRefusal(receipt)) return receipt;
    const blocked = refuseExpiredShift(device) ?? refuseFnBlocked(device);
    if (blocked) return blocked;
    if (!PAYMENT_TYPES.has(paymentType)) return fail(ErrorCode.BadPaymentType);
    const payments = withPayment(receipt, paymentType, sumKop);
    const totalKop = receiptTotal(receipt);
    if (nonCashTotal(payments) > totalKop) return fail(ErrorCode.NonCashExceedsTotal);
    const paid = paidTotal(payments);
    if (paid < totalKop) return fail(ErrorCode.PaymentShort);
    const wrongTags = refuseCorrectionTags(receipt);
    if (wrongTags) return wrongTags;
    // An electronic-only receipt is not printed, so it does not need paper.
    const electronic = (receipt.flags & OpenReceiptFlags.Electronic) !== 0;
    if (!electronic) {
      const printer = refusePrinterBlocked(device);
      if (printer) return printer;
    }
    const changeKop = paid - totalKop;
    const tendered = tenderedByType(payments);
    const cashNet = (tendered.get(PaymentType.Cash) ?? 0) - changeKop;
    const { state } = device;
    const cashOut = CASH_OUT_TYPES.has(receipt.receiptType);
    if (cashOut && state.cashKop < cashNet) return fail(ErrorCode.NoCash);

    const wall = device.wallNow();
    const ffdSeconds = wallClockToFfdSeconds(wall);
    const documentNumber = state.lastDocumentNumber + 1;
    const shiftNumber = device.currentShiftNumber();
    const receiptNumber = state.shift.lastReceiptNumber + 1;
    const paidByType = new Map(tendered);
    paidByType.set(PaymentType.Cash, cashNet);
    const closed: OpenReceiptState = { ...receipt, payments, positionStarted: false, positionTags: [] };
    const built = buildReceiptDocument({
      identity: device.identity,
      documentNumber,
      ffdSeconds,
      shiftNumber,
      receiptNumber,
      receipt: closed,
      totalKop,
      paidByType,
    });
    const journal: JournalEntry = {
      documentNumber,
      documentType: built.document.type,
      kind: 'receipt',
      fiscalSign: String(built.sign.value),
      dateTime: device.iso(wall),
      shiftNumber,
      receiptNumber,
      receiptType: receipt.receiptType,
      items: receipt.positions.map(journalItem),
      payments,
      totalKop,
      changeKop,
    };
    const marker = tagText(receipt.tags, FfdTag.marker);
    if (marker !== undefined) journal.marker = marker;

    state.receipt = undefined;
    state.shift.lastReceiptNumber = receiptNumber;
    state.cashKop += cashOut ? -cashNet : cashNet;
    const counters = state.counters;
    const type = String(receipt.receiptType);
    counters.receipts[type] = (counters.receipts[type] ?? 0) + 1;
    counters.totals[type] = (counters.totals[type] ?? 0) + totalKop;
    for (const [payType, sum] of paidByType) {
      const key = `${type}:${payType}`;
      if (sum > 0) counters.payments[key] = (counters.payments[key] ?? 0) + sum;
    }
    device.storeDocument(built, journal, ffdSeconds);
    if (!electronic) {
      device.print(
        {
          kind: 'receipt',
          header: device.header(),
          footer: { documentNumber, fiscalSign: built.sign.value, dateTime: wall },
          receiptType: receipt.receiptType,
          positions: receipt.positions,
          tenderedByType: tendered,
          changeKop,
          totalKop,
          taxationSystem: taxationOf(closed, device.identity.taxationSystems),
          cashier: tagText(receipt.tags, FfdTag.cashierName),
          customerContact: tagText(receipt.tags, 1008),
          ...correctionLines(receipt),
          shiftNumber,
          receiptNumber,
          textLines: receipt.textLines,
        },
        documentNumber,
      );
    }
    return ok();
  });

  handle(cancelReceipt, () => {
    const receipt = openReceiptOrRefusal(device);
    if (isRefusal(receipt)) return receipt;
    device.state.receipt = undefined;
    return ok();
  });
}

/** What a correction receipt prints of its basis (1173, 1178, 1179). */
function correctionLines(receipt: OpenReceiptState): { correction?: PrintedCorrection } {
  const type = receipt.tags.find((t) => t.tag === Tag.correctionType);
  const basis = receipt.tags.find((t) => t.tag === Tag.correctionBasis);
  if (!type || !basis) return {};
  const inner = decodeTlvList(Buffer.from(basis.hex, 'hex'));
  const date = inner.find((t) => t.tag === Tag.correctionDate);
  const number = inner.find((t) => t.tag === Tag.correctionNumber);
  return {
    correction: {
      byOrder: Buffer.from(type.hex, 'hex')[0] === 1,
      ...(date ? { baseDate: ffdSecondsToWallClock(date.value.readUInt32LE(0)) } : {}),
      ...(number ? { baseNumber: decodeCp866(number.value) } : {}),
    },
  };
}

/** The taxation system of a receipt: its 1055 tag, or the registration's lowest one. */
function taxationOf(receipt: OpenReceiptState, registered: number): number {
  const tag = receipt.tags.find((t) => t.tag === FfdTag.taxationSystem);
  return tag ? (Buffer.from(tag.hex, 'hex')[0] ?? 0) : registered & -registered;
}
