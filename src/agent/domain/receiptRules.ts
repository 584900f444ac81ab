import { type ErrorCode, ValidationError } from '../../lib/errors.js';
import { type Bill, changeMinor } from './bill.js';
import type { PaymentMethod } from './payment.js';
import { isCorrection, isReturn, type ReceiptKind } from './receiptKind.js';
import { VAT_TYPES, type VatType, vatTypeFromPercent } from './vat.js';

/**
 * The rules of 54-FZ and FFD 1.2 that a bill must keep for the kind of receipt it becomes, checked at intake
 * so that a bad request is refused naming the field before anything reaches a register
 * (docs/fiscalization.md, "Receipt kinds"; docs/money.md, "Advances, credit and change").
 */

/** A bill breaks a rule of its receipt kind. Nothing was printed. */
export class ReceiptRuleError extends ValidationError {
  constructor(code: ErrorCode, field: string, reason: string, details: Record<string, unknown> = {}) {
    super(field, reason, details, code);
  }
}

/** Tag 1214 values paid before the goods are handed over: 1 full prepayment, 2 prepayment, 3 advance. */
export const ADVANCE_METHODS: ReadonlySet<PaymentMethod> = new Set([
  'fullPrepayment',
  'prepayment',
  'advance',
]);
/** Tag 1214 values that hand over goods not paid for in full: 5 partial payment and credit, 6 credit. */
export const CREDIT_METHODS: ReadonlySet<PaymentMethod> = new Set(['partialPayment', 'credit']);

/** Advances and prepayments carry VAT at the calculated rate (Tax Code art. 164 p. 4): 22 → 22/122; 0 and none stay. */
export function calculatedFormOf(vat: VatType): VatType | undefined {
  const { ratePercent, calculated } = VAT_TYPES[vat];
  if (calculated || ratePercent === 0) return vat;
  try {
    return vatTypeFromPercent(ratePercent, { calculated: true });
  } catch {
    return undefined;
  }
}

function checkCorrection(bill: Bill, kind: ReceiptKind): void {
  if (!isCorrection(kind)) {
    if (bill.correction !== undefined) {
      throw new ReceiptRuleError(
        'CORRECTION_NOT_EXPECTED',
        'correction',
        `a ${kind} receipt is not a correction; send the bill as a correction kind (e.g. sellCorrection)`,
      );
    }
    return;
  }
  if (bill.correction === undefined) {
    throw new ReceiptRuleError(
      'CORRECTION_BASIS_MISSING',
      'correction.baseDate',
      'a correction receipt needs the date of the settlement it corrects (tag 1178)',
    );
  }
  if (bill.correction.type === 'instruction' && bill.correction.baseNumber === undefined) {
    throw new ReceiptRuleError(
      'CORRECTION_BASIS_MISSING',
      'correction.baseNumber',
      "a correction by the tax office's order needs the order's number (tag 1179)",
    );
  }
}

function checkContact(bill: Bill): void {
  if (bill.customer?.emailOrPhone !== undefined) return;
  if (bill.internet) {
    throw new ReceiptRuleError(
      'CUSTOMER_CONTACT_REQUIRED',
      'customer.emailOrPhone',
      "a settlement on the internet (tag 1125) sends the receipt to the buyer, so it needs the buyer's e-mail or phone (tag 1008)",
    );
  }
  if (bill.electronicOnly) {
    throw new ReceiptRuleError(
      'CUSTOMER_CONTACT_REQUIRED',
      'customer.emailOrPhone',
      "an electronic-only receipt is not printed, so it needs the buyer's e-mail or phone (tag 1008)",
    );
  }
}

function checkPositions(bill: Bill): void {
  bill.positions.forEach((position, index) => {
    if (!ADVANCE_METHODS.has(position.paymentMethod)) return;
    const calculated = calculatedFormOf(position.vat);
    if (calculated !== position.vat) {
      throw new ReceiptRuleError(
        'ADVANCE_VAT_NOT_CALCULATED',
        `positions[${index}].vat`,
        `"${position.name}" is a ${position.paymentMethod} (tag 1214) at ${position.vat}; money received before ` +
          `the goods are handed over carries VAT at the calculated rate` +
          (calculated ? ` (${calculated})` : ' (22/122, 10/110, 5/105 or 7/107)'),
        { vat: position.vat, paymentMethod: position.paymentMethod },
      );
    }
    if (position.paymentMethod === 'advance' && position.paymentObject !== 'payment') {
      throw new ReceiptRuleError(
        'ADVANCE_PAYMENT_OBJECT',
        `positions[${index}].paymentObject`,
        `"${position.name}" is an advance (tag 1214 = 3), whose subject is a payment (tag 1212 = 10, "payment"), ` +
          `not ${position.paymentObject}`,
      );
    }
  });
}

function checkPayments(bill: Bill, kind: ReceiptKind): void {
  const methods = new Set(bill.positions.map((p) => p.paymentMethod));
  const hasAdvance = [...methods].some((m) => ADVANCE_METHODS.has(m));
  const hasCredit = [...methods].some((m) => CREDIT_METHODS.has(m));
  bill.payments.forEach((payment, index) => {
    const field = `payments[${index}].type`;
    if (payment.type === 'prepaid' && (hasAdvance || methods.has('creditPayment'))) {
      throw new ReceiptRuleError(
        'PAYMENT_TYPE_NOT_ALLOWED',
        field,
        'an earlier prepayment (tag 1215) can only pay for goods handed over now (tag 1214 = 4, 5 or 6), not for ' +
          'another advance or a credit repayment',
      );
    }
    if (payment.type === 'credit' && !hasCredit) {
      throw new ReceiptRuleError(
        'PAYMENT_TYPE_NOT_ALLOWED',
        field,
        'a payment on credit (tag 1216) needs positions handed over on credit (tag 1214 = 5 partialPayment or 6 credit)',
      );
    }
  });
  if (methods.size === 1 && methods.has('credit') && bill.payments.some((p) => p.type !== 'credit')) {
    throw new ReceiptRuleError(
      'PAYMENT_TYPE_NOT_ALLOWED',
      'payments',
      'goods handed over on credit (tag 1214 = 6) are not paid now: the whole total is a credit payment (tag 1216)',
    );
  }
  const needsOrder =
    (bill.payments.some((p) => p.type === 'prepaid') && bill.prepaidElsewhere !== true) ||
    (methods.has('creditPayment') && !isReturn(kind));
  if (needsOrder && bill.order === undefined) {
    throw new ReceiptRuleError(
      'ORDER_REQUIRED',
      'order',
      bill.payments.some((p) => p.type === 'prepaid')
        ? 'a final receipt that offsets a prepayment must name the order the advance was taken for'
        : 'a credit repayment must name the order the credit was given for',
    );
  }
  if (changeMinor(bill) > 0 && kind !== 'sell' && kind !== 'sellCorrection') {
    throw new ReceiptRuleError(
      'CHANGE_NOT_ALLOWED',
      'payments',
      `only a sale can be overpaid in cash (change); a ${kind} receipt's payments must add up to its total`,
    );
  }
}

function checkRelation(bill: Bill, kind: ReceiptKind): void {
  if (bill.relatesTo === undefined || isReturn(kind) || isCorrection(kind)) return;
  throw new ReceiptRuleError(
    'RELATION_NOT_EXPECTED',
    'relatesTo',
    `a ${kind} receipt neither returns nor corrects another receipt`,
  );
}

/**
 * Throws `ReceiptRuleError` (a `ValidationError` with its own code) naming the field when the bill cannot
 * become a receipt of this kind: a correction without its basis, an advance at a plain VAT rate, a payment
 * type the positions do not allow, change on a receipt that is not a sale, an e-receipt without a contact.
 */
export function assertReceiptRules(bill: Bill, kind: ReceiptKind): void {
  checkCorrection(bill, kind);
  checkContact(bill);
  checkPositions(bill);
  checkPayments(bill, kind);
  checkRelation(bill, kind);
}

/** Σ of the positions whose tag 1214 is in `methods`. */
export function amountByMethods(bill: Bill, methods: ReadonlySet<PaymentMethod>): number {
  return bill.positions
    .filter((p) => methods.has(p.paymentMethod))
    .reduce((sum, p) => sum + p.amountMinor, 0);
}

/** Σ of the payments of one type. */
export function paidBy(bill: Bill, type: Bill['payments'][number]['type']): number {
  return bill.payments.filter((p) => p.type === type).reduce((sum, p) => sum + p.amountMinor, 0);
}
