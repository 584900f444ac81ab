import { createHash, randomBytes } from 'node:crypto';
import { resultCodeInfo } from '../../drivers/intent/resultCodes.js';
import { moneyToWire } from '../../drivers/intent/wireDecimal.js';
import type {
  WireAuthResponse,
  WireErrorResponse,
  WirePayment,
  WireSaleSuccessResponse,
} from '../../drivers/intent/wireResponse.js';
import type { ParsedWireSale } from '../../drivers/intent/wireSale.js';
import { type ComputedSale, type ComputedSaleLine, checkSale } from './saleRules.js';

/**
 * The emulated SmartX register, without HTTP: PIN and tokens, the shift, the unfinished-sale lock, the
 * receipt counter and the journal of completed sales. The server decides when to call what; faults live
 * there too, so this class stays a faithful model of the documented behaviour.
 */

export interface EmulatedSale {
  numberCheck: string;
  uid: string;
  operationId: string | undefined;
  cashier: string;
  dateTime: string;
  totalMinor: number;
  changeMinor: number;
  underpaidMinor: number;
  cashMinor: number;
  cashlessMinor: number;
  certificateMinor: number;
  printCheque: boolean;
  items: ComputedSaleLine[];
}

/** A sale whose payment was taken but whose receipt was never completed (the cause of resultCode 410). */
export interface UnfinishedSale {
  operationId: string | undefined;
  computed: ComputedSale | undefined;
  printCheque: boolean;
}

/** Everything that survives a restart when a state file is used. */
export interface EmulatedTerminalState {
  nextNumberCheck: number;
  shiftOpen: boolean;
  sales: EmulatedSale[];
  unfinishedSale: UnfinishedSale | undefined;
}

export interface EmulatedTerminalOptions {
  /** The PIN AUTH expects. */
  pin: string;
  /** Refuse requests without a valid token (401 / 405). */
  requireToken: boolean;
  /** Tokens stop working after this long; undefined keeps them until expireTokens(). */
  tokenTtlMs: number | undefined;
  registerNumberSKO: string;
  strictPayment: boolean;
  now: () => Date;
}

export interface EmulatorAnswer {
  httpStatus: number;
  body: WireErrorResponse | WireSaleSuccessResponse | WireAuthResponse;
}

export type SaleDecision =
  | { kind: 'refused'; answer: EmulatorAnswer }
  | { kind: 'accepted'; computed: ComputedSale; request: ParsedWireSale };

const TITLE_OK = 'Успех';
const TITLE_ERROR = 'Ошибка';

/** The documented answer for a resultCode, with the terminal's text unless a more specific one is given. */
export function errorAnswer(
  type: string,
  resultCode: number,
  messageDetail?: string,
  httpStatus = 200,
): EmulatorAnswer {
  return {
    httpStatus,
    body: {
      messageDetail: messageDetail ?? resultCodeInfo(resultCode)?.terminalText ?? 'Общая ошибка',
      messageTitle: TITLE_ERROR,
      resultCode,
      type,
    },
  };
}

export class EmulatedTerminal {
  private readonly tokens = new Map<string, number>();

  constructor(
    private readonly options: EmulatedTerminalOptions,
    private readonly state: EmulatedTerminalState,
    private readonly onChange: () => void,
  ) {}

  get sales(): readonly EmulatedSale[] {
    return this.state.sales;
  }

  get shiftOpen(): boolean {
    return this.state.shiftOpen;
  }

  get unfinishedSale(): UnfinishedSale | undefined {
    return this.state.unfinishedSale;
  }

  // --- AUTH ------------------------------------------------------------------------------------------------

  auth(body: { pin?: unknown; returnToken?: unknown }): EmulatorAnswer {
    // String() also reads a PIN sent as a JSON number (a LosslessNumber prints its digits).
    if (body.pin === undefined || body.pin === null || String(body.pin) !== this.options.pin) {
      return errorAnswer('AUTH', 401, 'Неверный PIN-код');
    }
    const token = randomBytes(16).toString('hex');
    this.tokens.set(token, this.options.now().getTime());
    return {
      httpStatus: 200,
      body: {
        token: body.returnToken === false ? '' : token,
        messageDetail: 'Авторизация выполнена',
        messageTitle: TITLE_OK,
        resultCode: 200,
        type: 'AUTH',
      },
    };
  }

  /** undefined when the request may proceed; otherwise the refusal (HTTP 401 without a token, 405 for a bad one). */
  checkToken(type: string, token: string | undefined): EmulatorAnswer | undefined {
    if (!this.options.requireToken) return undefined;
    if (token === undefined || token === '') return errorAnswer(type, 401, undefined, 401);
    const issuedAt = this.tokens.get(token);
    const ttl = this.options.tokenTtlMs;
    if (issuedAt === undefined || (ttl !== undefined && this.options.now().getTime() - issuedAt > ttl)) {
      return errorAnswer(type, 405);
    }
    return undefined;
  }

  expireTokens(): void {
    this.tokens.clear();
  }

  // --- shift and the unfinished-sale lock -------------------------------------------------------------------

  openShift(): void {
    this.state.shiftOpen = true;
    this.onChange();
  }

  closeShift(): void {
    this.state.shiftOpen = false;
    this.onChange();
  }

  /** Leaves a sale half done, as when a card was charged and fiscalisation failed. */
  leaveUnfinished(unfinished: UnfinishedSale): void {
    this.state.unfinishedSale = unfinished;
    this.onChange();
  }

  /** A person completes the unfinished sale on the terminal: its receipt is printed now, if it had one. */
  finishUnfinishedSale(): EmulatedSale | undefined {
    const unfinished = this.state.unfinishedSale;
    if (unfinished === undefined) return undefined;
    this.state.unfinishedSale = undefined;
    if (unfinished.computed === undefined) {
      this.onChange();
      return undefined;
    }
    return this.recordSale(unfinished.computed, unfinished.operationId, unfinished.printCheque).sale;
  }

  /** A person cancels the unfinished sale on the terminal (and refunds the customer there). */
  cancelUnfinishedSale(): void {
    this.state.unfinishedSale = undefined;
    this.onChange();
  }

  // --- SALE ------------------------------------------------------------------------------------------------

  /** Decides whether a well-formed Sale would be fiscalised. Nothing changes yet. */
  decideSale(request: ParsedWireSale): SaleDecision {
    // The cashier check comes first: the vendor's example without a cashier gets 435 whatever else it holds.
    if ((request.cashier?.trim() ?? '') === '') return { kind: 'refused', answer: errorAnswer('SALE', 435) };
    if (this.state.unfinishedSale !== undefined) return { kind: 'refused', answer: errorAnswer('SALE', 410) };
    if (!this.state.shiftOpen) return { kind: 'refused', answer: errorAnswer('SALE', 400) };
    const check = checkSale(request, { strictPayment: this.options.strictPayment });
    if (!check.ok) {
      return { kind: 'refused', answer: errorAnswer('SALE', check.resultCode, check.messageDetail) };
    }
    return { kind: 'accepted', computed: check.sale, request };
  }

  /** Fiscalises an accepted sale: a receipt number, a uid, and an entry in the journal. */
  recordSale(
    computed: ComputedSale,
    operationId: string | undefined,
    printCheque: boolean,
  ): { sale: EmulatedSale; answer: EmulatorAnswer } {
    const numberCheck = String(this.state.nextNumberCheck);
    this.state.nextNumberCheck += 1;
    const digest = createHash('sha256')
      .update(`${this.options.registerNumberSKO}:${numberCheck}`)
      .digest('hex');
    const sale: EmulatedSale = {
      numberCheck,
      uid: digest.slice(0, 24).toUpperCase(),
      operationId,
      cashier: computed.cashier,
      dateTime: formatMinskTime(this.options.now()),
      totalMinor: computed.totalMinor,
      changeMinor: computed.changeMinor,
      underpaidMinor: computed.underpaidMinor,
      cashMinor: computed.cashMinor,
      cashlessMinor: computed.cashlessMinor,
      certificateMinor: computed.certificateMinor,
      printCheque,
      items: computed.lines,
    };
    this.state.sales.push(sale);
    this.onChange();

    const payments: WirePayment[] = [];
    if (sale.cashMinor > 0) payments.push({ type: 'Cash', sum: moneyToWire(sale.cashMinor) });
    if (sale.cashlessMinor > 0) payments.push({ type: 'Cashless', sum: moneyToWire(sale.cashlessMinor) });
    if (sale.certificateMinor > 0) {
      payments.push({ type: 'Certificate', sum: moneyToWire(sale.certificateMinor) });
    }
    const answer: EmulatorAnswer = {
      httpStatus: 200,
      body: {
        dateTime: sale.dateTime,
        messageDetail: 'Успешная оплата',
        messageTitle: TITLE_OK,
        numberCheck,
        registerNumberSKO: this.options.registerNumberSKO,
        resultCode: 200,
        rrn:
          sale.cashlessMinor > 0
            ? String(BigInt(`0x${digest.slice(24, 36)}`) % 1_000_000_000_000n).padStart(12, '0')
            : '',
        type: 'SALE',
        uid: sale.uid,
        total: moneyToWire(sale.totalMinor),
        change: moneyToWire(sale.changeMinor),
        isPrintSuccess: true,
        uuid: uuidFromDigest(digest),
        payments,
      },
    };
    return { sale, answer };
  }
}

/** "2022-01-22T12:00:00+03:00": Minsk time, as in the vendor's example. Belarus has no daylight saving. */
export function formatMinskTime(instant: Date): string {
  const shifted = new Date(instant.getTime() + 3 * 3_600_000);
  return `${shifted.toISOString().slice(0, 19)}+03:00`;
}

function uuidFromDigest(digest: string): string {
  const hex = digest.slice(32, 64);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
