import type { Logger } from 'pino';
import {
  IntentError,
  IntentResultError,
  type IntentSale,
  IntentTerminal,
} from '../../../drivers/intent/index.js';
import { type KktAgentError, ValidationError } from '../../../lib/errors.js';
import { UNICODE_REPERTOIRE } from '../../../lib/printableText.js';
import { fiscalTimes } from '../../../lib/time.js';
import { BILL_LIMITS, type Bill } from '../../domain/bill.js';
import type { FiscalData, Job, ShiftEvent } from '../../jobs/job.js';
import {
  type DeviceSnapshot,
  FiscalDevice,
  firstMarkedPosition,
  MarkingUnsupportedError,
  OperationNotSupportedError,
  PrintOutcomeUnknownError,
  PrintRefusedError,
  type ReconcileOutcome,
} from '../device.js';
import { type RegisterTextLimits, registerTexts } from '../registerText.js';

export interface IntentDeviceOptions {
  id: string;
  baseUrl?: string;
  pin?: string;
  cashier: string;
  printCheque: boolean;
  saleTimeoutMs: number;
  authTimeoutMs: number;
  discoveryTimeoutMs: number;
  timeZone: string;
  logger: Logger;
}

/** An unfinished sale on the terminal (410) may be ours: only a person at the terminal can tell. */

/**
 * The terminal takes UTF-8 JSON and documents no narrower character set or length (docs/intent.md, "Text
 * on the receipt"): names keep their typography; control characters are refused, spaces normalised, and
 * names cut at the bill's own limits.
 */
const INTENT_TEXT_LIMITS: RegisterTextLimits = {
  positionName: BILL_LIMITS.positionNameLength,
  customerName: BILL_LIMITS.customerNameLength,
  customerContact: BILL_LIMITS.emailOrPhoneLength,
  cashierName: BILL_LIMITS.cashierNameLength,
};

/** A bill as a SmartX sale: amounts in kopecks of BYN, paid in cash or by card. */
/**
 * What a SALE has no field for (docs/protocol/smartx-intent.md §5): 54-FZ's settlement methods (advances,
 * credit: tag 1214), an e-receipt to the buyer's contact, an internet settlement. Sending the sale anyway
 * would make a receipt that says something else, so the bill is refused naming the field; nothing is sent.
 */
function refuseRussianKinds(bill: Bill): void {
  const unsupported = (field: string, what: string) =>
    new PrintRefusedError(
      'DEVICE_RECEIPT_KIND_UNSUPPORTED',
      `${field}: the SmartX terminal's SALE cannot express ${what}; route the bill to an ATOL register.`,
      false,
      { field },
    );
  bill.positions.forEach((position, index) => {
    if (position.paymentMethod !== 'fullPayment')
      throw unsupported(`positions[${index}].paymentMethod`, `a ${position.paymentMethod} (tag 1214)`);
  });
  if (bill.electronicOnly) throw unsupported('electronicOnly', 'an electronic-only receipt');
  if (bill.customer?.emailOrPhone !== undefined)
    throw unsupported('customer.emailOrPhone', "sending the receipt to the buyer's contact");
  if (bill.internet) throw unsupported('internet', 'a settlement on the internet (tag 1125)');
}

export function billToIntentSale(bill: Bill, options: { cashier: string; printCheque: boolean }): IntentSale {
  if (bill.currency !== 'BYN') {
    throw new PrintRefusedError(
      'DEVICE_CURRENCY_UNSUPPORTED',
      `A SmartX terminal fiscalizes Belarusian roubles only; this bill is in ${bill.currency}.`,
      false,
      { currency: bill.currency },
    );
  }
  refuseRussianKinds(bill);
  let cashMinor = 0;
  let cashlessMinor = 0;
  for (const [index, payment] of bill.payments.entries()) {
    if (payment.type === 'cash') cashMinor += payment.amountMinor;
    else if (payment.type === 'card') cashlessMinor += payment.amountMinor;
    else
      throw new ValidationError(
        `payments[${index}].type`,
        `the SmartX terminal takes cash or card, not ${payment.type}`,
      );
  }
  const texts = registerTexts(bill, {
    repertoire: UNICODE_REPERTOIRE,
    limits: INTENT_TEXT_LIMITS,
    cashier: bill.cashier ?? { name: options.cashier },
    cashierField: bill.cashier ? 'cashier.name' : 'cashier',
  });
  return {
    cashier: texts.cashier!.name,
    itemList: bill.positions.map((position, index) => ({
      nameTitle: texts.positionNames[index]!,
      codeNumber: position.code ?? String(index + 1),
      typeCode: '0',
      priceMinor: position.priceMinor,
      quantityMilli: position.quantityMilli,
      // The SALE example's marked item: each mark one object, `si` or `ukz` (docs/protocol/smartx-intent.md).
      ...(position.identificationMarks
        ? {
            markings: position.identificationMarks.map((mark) =>
              mark.kind === 'si' ? { si: mark.value } : { ukz: mark.value },
            ),
          }
        : {}),
    })),
    cashMinor,
    cashlessMinor,
    certificateMinor: 0,
    printCheque: options.printCheque,
  };
}

/**
 * The SmartX software register as a fiscal device. The terminal offers no way to ask what became of an
 * unanswered sale, so such a job is never resent: it is blocked for a technician to resolve.
 */
export class IntentDevice extends FiscalDevice {
  readonly id: string;
  readonly kind = 'intent';
  readonly currencies = ['BYN'] as const;
  /** The terminal cannot be asked what it sold (docs/protocol/smartx-intent.md §7): held after a lost store. */
  readonly readBack = 'none' as const;
  private readonly terminal: IntentTerminal;
  private readonly lastAmbiguity = new Map<string, string>();

  constructor(private readonly options: IntentDeviceOptions) {
    super();
    this.id = options.id;
    this.terminal = new IntentTerminal({
      baseUrl: options.baseUrl,
      discover: options.baseUrl ? undefined : { timeoutMs: options.discoveryTimeoutMs },
      pin: options.pin,
      saleTimeoutMs: options.saleTimeoutMs,
      authTimeoutMs: options.authTimeoutMs,
      logger: options.logger,
    });
  }

  /** A Belarusian terminal: Честный ЗНАК codes are Russian and cannot go on its receipts. */
  override admit(bill: Bill): KktAgentError | undefined {
    const marked = firstMarkedPosition(bill);
    if (!marked) return undefined;
    return new MarkingUnsupportedError(
      this.id,
      this.kind,
      marked,
      'is a Belarusian SmartX terminal: it takes identification marks (СИ, УКЗ), not Russian marking codes',
    );
  }

  /** HTTP per operation: usable whenever configured; an unreachable terminal refuses retryably. */
  get ready(): boolean {
    return true;
  }

  async start(): Promise<void> {
    this.emit('ready');
  }

  async stop(): Promise<void> {}

  async preparePrint(): Promise<Record<string, never>> {
    return {};
  }

  async print(job: Job): Promise<FiscalData> {
    if (!job.bill) throw new ValidationError('bill', 'the job carries no valid bill');
    if (job.operation !== 'sell') {
      // The terminal's protocol has a SALE and nothing else (docs/protocol/smartx-intent.md): a return sent
      // as a SALE would charge the customer instead of paying back.
      throw new PrintRefusedError(
        'DEVICE_RECEIPT_KIND_UNSUPPORTED',
        `The SmartX terminal ${this.id} makes sales only; a ${job.operation} receipt must be made on the terminal itself or routed to another device.`,
        false,
        { kind: job.operation },
      );
    }
    const sale = billToIntentSale(job.bill, this.options);
    let result: Awaited<ReturnType<IntentTerminal['sale']>>;
    try {
      result = await this.terminal.sale(sale, { operationId: job.id });
    } catch (error) {
      throw this.translate(job, error);
    }
    // The sale happened: nothing below may throw it back as a refusal.
    this.lastActivityAt = Date.now();
    return {
      deviceId: this.id,
      deviceKind: this.kind,
      ...fiscalTimes(result.dateTime),
      receiptNumber: result.numberCheck,
      registrationNumber: result.registerNumberSKO,
      totalMinor: result.totalMinor,
      extra: { uid: result.uid, ...(result.rrn ? { rrn: result.rrn } : {}) },
    };
  }

  private translate(job: Job, error: unknown): unknown {
    if (error instanceof IntentResultError && error.resultCode === 410) {
      const reason =
        'the terminal holds an unfinished sale (code 410), possibly this one: finish or cancel it on the terminal, then resolve the job as printed or not printed';
      this.lastAmbiguity.set(job.id, reason);
      return new PrintOutcomeUnknownError('INTENT_UNFINISHED_SALE', reason);
    }
    if (error instanceof IntentResultError && (error.resultCode === 399 || error.category === 'unknown')) {
      // A general error can follow a card payment whose fiscalization failed (the vendor's 410 rule), and an
      // undocumented code proves nothing: a person checks the terminal instead of the agent charging again.
      const reason = `the terminal answered code ${error.resultCode} (${error.terminalMessage ?? 'no text'}), which does not prove the sale did not happen: check the terminal, then resolve the job`;
      this.lastAmbiguity.set(job.id, reason);
      return new PrintOutcomeUnknownError(error.code, reason);
    }
    if (error instanceof IntentError && error.outcome === 'unknown') {
      this.lastAmbiguity.set(job.id, `the sale's answer was lost (${error.message})`);
      return error;
    }
    if (error instanceof IntentError) {
      // Refused for good only when the sale itself is wrong; shift, auth and terminal states can be fixed.
      const category = error instanceof IntentResultError ? error.category : 'terminal';
      return new PrintRefusedError(error.code, error.message, category !== 'request');
    }
    return error;
  }

  async reconcile(job: Job): Promise<ReconcileOutcome> {
    const reason =
      this.lastAmbiguity.get(job.id) ??
      'the agent stopped while the terminal was processing the sale, and the terminal cannot be asked what happened';
    return { kind: 'ambiguous', reason: `${reason}. Check the terminal's receipts for operation ${job.id}.` };
  }

  async snapshot(): Promise<DeviceSnapshot> {
    const status = this.terminal.describe();
    const lastError = status.lastError;
    return {
      id: this.id,
      kind: this.kind,
      online: !(lastError && lastError.outcome === 'not-sent' && lastError.code === 'INTENT_UNREACHABLE'),
      lastError: lastError && { code: lastError.code, message: lastError.message, at: lastError.at },
      details: { endpoint: status.endpoint, busy: status.busy, lastSale: status.lastSale },
    };
  }

  openShift(): Promise<ShiftEvent> {
    return Promise.reject(new OperationNotSupportedError('SmartX', 'open shift'));
  }

  closeShift(): Promise<ShiftEvent> {
    return Promise.reject(new OperationNotSupportedError('SmartX', 'close shift'));
  }

  reportX(): Promise<void> {
    return Promise.reject(new OperationNotSupportedError('SmartX', 'X report'));
  }

  cashIn(): Promise<void> {
    return Promise.reject(new OperationNotSupportedError('SmartX', 'cash in'));
  }

  cashOut(): Promise<void> {
    return Promise.reject(new OperationNotSupportedError('SmartX', 'cash out'));
  }
}
