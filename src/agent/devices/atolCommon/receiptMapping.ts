import type { ReceiptInput } from '../../../drivers/atol/receipt.js';
import type { ReceiptPaymentType } from '../../../drivers/atol/vocabulary.js';
import type { Bill } from '../../domain/bill.js';
import type { PaymentType, TaxationSystem } from '../../domain/payment.js';
import type { Job } from '../../jobs/job.js';
import { PrintRefusedError } from '../device.js';

const PAYMENT_TYPE: Record<PaymentType, ReceiptPaymentType> = {
  cash: 'cash',
  card: 'electronically',
  prepaid: 'prepaid',
  credit: 'credit',
  other: 'other',
};

export interface AtolReceiptDefaults {
  operator?: { name: string; vatin?: string };
  taxationType?: TaxationSystem;
}

const LEGAL_INN = /^(\d{10}|\d{12})$/;

/**
 * A bill as an ATOL receipt. The job id goes into tag 1192 so that a reconcile can recognise the receipt
 * on the register. Buyer details go on the receipt only when the bill names a legal buyer (INN).
 */
export function billToAtolReceipt(
  job: Job,
  bill: Bill,
  defaults: AtolReceiptDefaults,
): Omit<ReceiptInput, 'type'> {
  if (bill.currency !== 'RUB') {
    throw new PrintRefusedError(
      'DEVICE_CURRENCY_UNSUPPORTED',
      `An ATOL register fiscalizes roubles only; this bill is in ${bill.currency}. Route it to a device for its country.`,
      false,
      { currency: bill.currency },
    );
  }
  const operator = bill.cashier ? { name: bill.cashier.name, vatin: bill.cashier.inn } : defaults.operator;
  const customer = bill.customer;
  const clientInfo =
    customer && (customer.emailOrPhone || (customer.inn && LEGAL_INN.test(customer.inn)))
      ? {
          emailOrPhone: customer.emailOrPhone,
          ...(customer.inn && LEGAL_INN.test(customer.inn)
            ? { vatin: customer.inn, name: customer.name }
            : {}),
        }
      : undefined;
  return {
    taxationType: bill.taxationSystem ?? defaults.taxationType,
    operator: operator && { name: operator.name, ...(operator.vatin ? { vatin: operator.vatin } : {}) },
    clientInfo,
    items: bill.positions.map((position) => ({
      type: 'position' as const,
      name: position.name,
      priceKop: position.priceMinor,
      quantityMilli: position.quantityMilli,
      amountKop: position.amountMinor,
      tax: { type: position.vat },
      paymentMethod: position.paymentMethod,
      paymentObject: position.paymentObject,
      measurementUnit: position.unit,
    })),
    payments: bill.payments.map((payment) => ({
      type: PAYMENT_TYPE[payment.type],
      sumKop: payment.amountMinor,
    })),
    totalKop: bill.totalMinor,
    marker: job.id,
  };
}
