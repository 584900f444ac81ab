import { MAX_POSITION_NAME_LENGTH } from '../../../drivers/atol/commands/receipt.js';
import type { ReceiptInput } from '../../../drivers/atol/receipt.js';
import type { ReceiptPaymentType } from '../../../drivers/atol/vocabulary.js';
import { type PaymentObject, PERMISSIVE_MODE_REQUISITE } from '../../../lib/ffd.js';
import { CP866_REPERTOIRE } from '../../../lib/printableText.js';
import type { Bill, BillCashier, Position } from '../../domain/bill.js';
import { markingStatusFor, permitAttribute } from '../../domain/marking.js';
import type { PaymentType, TaxationSystem } from '../../domain/payment.js';
import { assertVatRatesAllowed, DEFAULT_VAT_POLICY, type VatPolicy } from '../../domain/vatRules.js';
import type { Job } from '../../jobs/job.js';
import { PrintRefusedError } from '../device.js';
import type { Feature } from '../doctorReport.js';
import { type RegisterTextLimits, registerTexts } from '../registerText.js';

const PAYMENT_TYPE: Record<PaymentType, ReceiptPaymentType> = {
  cash: 'cash',
  card: 'electronically',
  prepaid: 'prepaid',
  credit: 'credit',
  other: 'other',
};

export interface AtolReceiptDefaults {
  /** The cashier (tags 1021, 1203) of every receipt whose bill names none; the config requires one. */
  operator: { name: string; vatin?: string };
  taxationType?: TaxationSystem;
}

/** What a receipt needs besides the job and its bill. */
export interface AtolReceiptContext {
  defaults: AtolReceiptDefaults;
  /** The VAT rate table and any transition; default: the built-in table. */
  vatPolicy?: VatPolicy;
  /** The settlement's calendar date on the register (`YYYY-MM-DD`), for the VAT rules. */
  settlementDate: string;
}

export interface AtolReceiptMapping {
  receipt: Omit<ReceiptInput, 'type'>;
  /** Fields whose printed text differs from the bill's (typography the register lacks); names only. */
  normalisedFields: string[];
}

/** The register's text limits (the `EB` name field, the receipt schema's buyer and cashier fields). */
const ATOL_TEXT_LIMITS: RegisterTextLimits = {
  positionName: MAX_POSITION_NAME_LENGTH,
  customerName: 128,
  customerContact: 64,
  cashierName: 64,
};

const LEGAL_INN = /^(\d{10}|\d{12})$/;
/** Tag 1203 is a person's INN: 12 digits. A cloud's cashier INN of another length is left off, not refused. */
const PERSON_INN = /^\d{12}$/;

/**
 * A bill as an ATOL receipt. The job id goes into tag 1192 so that a reconcile can recognise the receipt
 * on the register. Every text passes through the CP866 normalisation (`registerTexts`); the bill keeps the
 * original names for the reports. The receipt always names a cashier: the bill's own (a cloud that sends
 * one, like MoySklad), else the configured operator. Buyer details go on the receipt only when the bill
 * names a legal buyer (INN). VAT rates are checked against the rate table for the settlement date.
 */
export function billToAtolReceipt(job: Job, bill: Bill, context: AtolReceiptContext): AtolReceiptMapping {
  const { defaults } = context;
  if (bill.currency !== 'RUB') {
    throw new PrintRefusedError(
      'DEVICE_CURRENCY_UNSUPPORTED',
      `An ATOL register fiscalizes roubles only; this bill is in ${bill.currency}. Route it to a device for its country.`,
      false,
      { currency: bill.currency },
    );
  }
  const taxationType = bill.taxationSystem ?? defaults.taxationType;
  assertVatRatesAllowed(bill, {
    policy: context.vatPolicy ?? DEFAULT_VAT_POLICY,
    settlementDate: context.settlementDate,
    taxationSystem: taxationType,
    operation: job.operation,
  });
  const cashier: BillCashier = bill.cashier ?? {
    name: defaults.operator.name,
    ...(defaults.operator.vatin ? { inn: defaults.operator.vatin } : {}),
  };
  const customer = bill.customer;
  const legalInn = customer?.inn && LEGAL_INN.test(customer.inn) ? customer.inn : undefined;
  const texts = registerTexts(bill, {
    repertoire: CP866_REPERTOIRE,
    limits: ATOL_TEXT_LIMITS,
    cashier,
    cashierField: bill.cashier ? 'cashier.name' : 'operator.name',
    customer: { name: legalInn !== undefined, contact: true },
  });
  const clientInfo =
    texts.customerContact !== undefined || legalInn
      ? {
          emailOrPhone: texts.customerContact,
          ...(legalInn ? { vatin: legalInn, name: texts.customerName } : {}),
        }
      : undefined;
  // The configured INN was checked by the config schema; a cloud's may be anything 9–14 digits long.
  const operatorInn = bill.cashier
    ? bill.cashier.inn && PERSON_INN.test(bill.cashier.inn)
      ? bill.cashier.inn
      : undefined
    : defaults.operator.vatin;
  const receipt: Omit<ReceiptInput, 'type'> = {
    taxationType,
    operator: { name: texts.cashier!.name, ...(operatorInn ? { vatin: operatorInn } : {}) },
    clientInfo,
    items: bill.positions.map((position, index) => ({
      type: 'position' as const,
      name: texts.positionNames[index]!,
      priceKop: position.priceMinor,
      quantityMilli: position.quantityMilli,
      amountKop: position.amountMinor,
      tax: { type: position.vat },
      paymentMethod: position.paymentMethod,
      paymentObject: position.marking ? markedPaymentObject(position.paymentObject) : position.paymentObject,
      measurementUnit: position.unit,
      ...(position.marking ? markedFields(position, job.operation === 'sellReturn') : {}),
    })),
    payments: bill.payments.map((payment) => ({
      type: PAYMENT_TYPE[payment.type],
      sumKop: payment.amountMinor,
    })),
    totalKop: bill.totalMinor,
    marker: job.id,
  };
  return { receipt, normalisedFields: texts.changed };
}

/** 1212 of a marked position: goods with a marking code (33), excise goods with one (31). */
function markedPaymentObject(object: PaymentObject): PaymentObject {
  if (object === 'commodity') return 'commodityWithMarking';
  if (object === 'excise') return 'exciseWithMarking';
  return object;
}

/**
 * The code, its status (2110, from the operation when the source gave none), the part of a pack (1291)
 * and the permissive mode's requisite (1260) of a marked position (docs/marking.md).
 */
function markedFields(position: Position, returning: boolean) {
  const marking = position.marking!;
  const permit = marking.permit;
  return {
    marking: {
      code: marking.code,
      status: markingStatusFor(position, returning),
      ...(marking.fraction ? { fraction: marking.fraction } : {}),
    },
    ...(permit
      ? {
          industryInfo: [
            {
              fois: PERMISSIVE_MODE_REQUISITE.fois,
              date: PERMISSIVE_MODE_REQUISITE.documentDate,
              number: PERMISSIVE_MODE_REQUISITE.documentNumber,
              attribute: permitAttribute(permit),
            },
          ],
        }
      : {}),
  };
}

/** Something the receipt of a bill needs of the register, and the field of the bill (or config) it serves. */
export interface ReceiptNeed {
  feature: Feature;
  field: string;
}

/**
 * What `billToAtolReceipt` will write for this bill, as the self-test's features: the cashier (1021, 1203
 * when there is a person's INN), the taxation system (1055), the customer's contact (1008) and a legal
 * buyer (1227/1228 on FFD 1.05, 1256 on 1.2), our marker (1192), the measurement unit (2108, FFD 1.2), and
 * every position's VAT rate. The buyer and the unit are named for both FFD versions: a self-test finds
 * only the ones its register's version takes.
 */
export function atolReceiptNeeds(bill: Bill, defaults: AtolReceiptDefaults): ReceiptNeed[] {
  const cashierField = bill.cashier ? 'cashier' : 'operator';
  const cashierInn = bill.cashier
    ? bill.cashier.inn !== undefined && PERSON_INN.test(bill.cashier.inn)
    : defaults.operator.vatin !== undefined;
  const needs: ReceiptNeed[] = [
    { feature: 'tag:1021', field: `${cashierField}.name` },
    ...(cashierInn
      ? [{ feature: 'tag:1203' as const, field: bill.cashier ? 'cashier.inn' : 'operator.vatin' }]
      : []),
    ...((bill.taxationSystem ?? defaults.taxationType)
      ? [{ feature: 'tag:1055' as const, field: bill.taxationSystem ? 'taxationSystem' : 'taxationType' }]
      : []),
    ...(bill.customer?.emailOrPhone !== undefined
      ? [{ feature: 'tag:1008' as const, field: 'customer.emailOrPhone' }]
      : []),
    ...(bill.customer?.inn !== undefined && LEGAL_INN.test(bill.customer.inn)
      ? (['tag:1256', 'tag:1227', 'tag:1228'] as const).map((feature) => ({ feature, field: 'customer.inn' }))
      : []),
    { feature: 'tag:1192', field: '(marker)' },
  ];
  bill.positions.forEach((position, index) => {
    needs.push({ feature: 'tag:2108', field: `positions[${index}].unit` });
    needs.push({ feature: `vat:${position.vat}`, field: `positions[${index}].vat` });
  });
  return needs;
}
