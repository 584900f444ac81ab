import type { DeviceDateTime } from '../../drivers/atol/protocol/dateTime.js';
import { decodeTlvList } from '../../drivers/atol/protocol/tlv.js';
import type { ShiftCounters, StoredPosition } from './state.js';
import { positionRate } from './vat.js';

/**
 * What the register prints, as text at its line width: receipts, shift reports, X reports, cash slips
 * and free text. The layout follows the usual Russian fiscal receipt (54-ФЗ) lines.
 */

export interface RegisterHeader {
  organizationName: string;
  address: string;
  inn: string;
  registrationNumber: string;
  serial: string;
  fnSerial: string;
}

export interface FiscalFooter {
  documentNumber: number;
  fiscalSign: number;
  dateTime: DeviceDateTime;
}

export type PrintJob =
  | {
      kind: 'receipt';
      header: RegisterHeader;
      footer: FiscalFooter;
      receiptType: number;
      positions: StoredPosition[];
      /** Tendered per payment type (cash before change). */
      tenderedByType: ReadonlyMap<number, number>;
      changeKop: number;
      totalKop: number;
      taxationSystem: number;
      cashier: string | undefined;
      customerContact: string | undefined;
      shiftNumber: number;
      receiptNumber: number;
      textLines: string[];
    }
  | {
      kind: 'openShift';
      header: RegisterHeader;
      footer: FiscalFooter;
      shiftNumber: number;
      cashier: string | undefined;
    }
  | {
      kind: 'closeShift';
      header: RegisterHeader;
      footer: FiscalFooter;
      shiftNumber: number;
      cashier: string | undefined;
      counters: ShiftCounters;
      cashKop: number;
      receiptsInShift: number;
      documentsInShift: number;
      unsentDocuments: number;
    }
  | {
      kind: 'xReport';
      header: RegisterHeader;
      dateTime: DeviceDateTime;
      shiftNumber: number;
      shiftOpen: boolean;
      cashier: string | undefined;
      counters: ShiftCounters;
      cashKop: number;
      unsentDocuments: number;
    }
  | {
      kind: 'cashIn' | 'cashOut';
      header: RegisterHeader;
      dateTime: DeviceDateTime;
      shiftNumber: number;
      cashier: string | undefined;
      sumKop: number;
      cashKop: number;
    }
  | { kind: 'text'; lines: string[] };

export const RECEIPT_TYPE_TITLES: Readonly<Record<number, string>> = {
  1: 'ПРИХОД',
  2: 'ВОЗВРАТ ПРИХОДА',
  4: 'РАСХОД',
  5: 'ВОЗВРАТ РАСХОДА',
};

const PAYMENT_TITLES: Readonly<Record<number, string>> = {
  1: 'НАЛИЧНЫМИ',
  2: 'БЕЗНАЛИЧНЫМИ',
  3: 'ПРЕДВАРИТЕЛЬНАЯ ОПЛАТА (АВАНС)',
  4: 'ПОСЛЕДУЮЩАЯ ОПЛАТА (КРЕДИТ)',
  5: 'ИНАЯ ФОРМА ОПЛАТЫ',
};

const TAXATION_TITLES: ReadonlyArray<[number, string]> = [
  [0x01, 'ОСН'],
  [0x02, 'УСН доход'],
  [0x04, 'УСН доход - расход'],
  [0x08, 'ЕНВД'],
  [0x10, 'ЕСХН'],
  [0x20, 'ПСН'],
];

/** Tag 2108 codes → the short unit printed after the quantity. */
const UNIT_TITLES: Readonly<Record<number, string>> = {
  0: 'шт',
  10: 'г',
  11: 'кг',
  12: 'т',
  20: 'см',
  21: 'дм',
  22: 'м',
  30: 'кв. см',
  31: 'кв. дм',
  32: 'кв. м',
  40: 'мл',
  41: 'л',
  42: 'куб. м',
  50: 'кВт*ч',
  51: 'Гкал',
  70: 'сут',
  71: 'ч',
  72: 'мин',
  73: 'с',
  80: 'Кбайт',
  81: 'Мбайт',
  82: 'Гбайт',
  83: 'Тбайт',
};

export const MEASUREMENT_UNIT_TAG = 2108;
/** The product code of a position (FFD 1.2), and its GS1.М child: GTIN and serial of a marked item. */
const PRODUCT_CODE_TAG = 1163;
const GS1M_TAG = 1305;

/** Kopecks as roubles with two decimals, no float arithmetic. */
export function formatMoney(kop: number): string {
  const sign = kop < 0 ? '-' : '';
  const abs = Math.abs(kop);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** Thousandths as a decimal quantity without trailing zeros: 2000 → "2", 350 → "0.35". */
export function formatQuantity(milli: number): string {
  const whole = Math.floor(milli / 1000);
  const fraction = String(milli % 1000)
    .padStart(3, '0')
    .replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : String(whole);
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** The date-time line of a receipt: DD.MM.YY HH:MM. */
export function formatReceiptDateTime(t: DeviceDateTime): string {
  return `${pad2(t.day)}.${pad2(t.month)}.${pad2(t.year % 100)} ${pad2(t.hour)}:${pad2(t.minute)}`;
}

export function taxationTitle(mask: number): string {
  return TAXATION_TITLES.filter(([bit]) => (mask & bit) !== 0)
    .map(([, title]) => title)
    .join(', ');
}

/** Builds the lines of one printout at a fixed width. */
class Paper {
  readonly lines: string[] = [];
  constructor(readonly width: number) {}

  /** Words wrapped to the width; words longer than a line are cut. */
  text(text: string): void {
    for (const paragraph of text.split('\n')) {
      let line = '';
      for (const word of paragraph.split(/\s+/).filter(Boolean)) {
        let rest = word;
        while (rest.length > this.width) {
          if (line) this.lines.push(line);
          line = '';
          this.lines.push(rest.slice(0, this.width));
          rest = rest.slice(this.width);
        }
        if (!rest) continue;
        if (!line) line = rest;
        else if (line.length + 1 + rest.length <= this.width) line += ` ${rest}`;
        else {
          this.lines.push(line);
          line = rest;
        }
      }
      this.lines.push(line);
    }
  }

  center(text: string): void {
    if (text.length >= this.width) {
      this.text(text);
      return;
    }
    this.lines.push(' '.repeat(Math.floor((this.width - text.length) / 2)) + text);
  }

  /** Left text and right text on one line, the right one flush right; wrapped when they do not fit. */
  pair(left: string, right: string): void {
    if (left.length + 1 + right.length <= this.width) {
      this.lines.push(left + ' '.repeat(this.width - left.length - right.length) + right);
      return;
    }
    this.text(left);
    this.lines.push(right.padStart(this.width));
  }

  rule(): void {
    this.lines.push('-'.repeat(this.width));
  }

  toString(): string {
    return `${this.lines.map((l) => l.trimEnd()).join('\n')}\n`;
  }
}

const amount = (kop: number) => `=${formatMoney(kop)}`;

function header(paper: Paper, h: RegisterHeader): void {
  paper.center(h.organizationName);
  if (h.address) paper.center(h.address);
  paper.rule();
}

function registerLines(paper: Paper, h: RegisterHeader): void {
  paper.pair('РН ККТ', h.registrationNumber);
  paper.pair('ЗН ККТ', h.serial);
  paper.pair('ИНН', h.inn);
  paper.pair('ФН', h.fnSerial);
}

function fiscalLines(paper: Paper, f: FiscalFooter): void {
  paper.pair(`ФД ${f.documentNumber}`, `ФП ${f.fiscalSign}`);
  paper.text(formatReceiptDateTime(f.dateTime));
}

function unitOf(position: StoredPosition): string {
  const tag = position.tags.find((t) => t.tag === MEASUREMENT_UNIT_TAG);
  if (!tag) return '';
  return UNIT_TITLES[Buffer.from(tag.hex, 'hex')[0] ?? 255] ?? '';
}

/** The product code (1163 → 1305, GTIN and serial) of a marked position, printed short, or undefined. */
function markedShortForm(position: StoredPosition): string | undefined {
  const code = position.tags.find((t) => t.tag === PRODUCT_CODE_TAG);
  if (!code) return undefined;
  const gs1m = decodeTlvList(Buffer.from(code.hex, 'hex')).find((t) => t.tag === GS1M_TAG);
  if (!gs1m) return 'КМ';
  const text = gs1m.value.toString('latin1');
  return `КМ ${text.slice(2, 16)} ${text.slice(18)}`;
}

function renderReceipt(paper: Paper, job: Extract<PrintJob, { kind: 'receipt' }>): void {
  header(paper, job.header);
  paper.center('КАССОВЫЙ ЧЕК');
  paper.center(RECEIPT_TYPE_TITLES[job.receiptType] ?? `ТИП ${job.receiptType}`);
  paper.rule();
  const vatTotals = new Map<string, { vatKop: number; amountKop: number; percent: number | undefined }>();
  for (const position of job.positions) {
    const marked = markedShortForm(position);
    // A marked item's line starts with the [М] sign, and its code's short form follows (docs/marking.md).
    paper.text(marked === undefined ? position.name : `[М] ${position.name}`);
    if (marked !== undefined) paper.text(marked);
    const unit = unitOf(position);
    const quantity = `${formatQuantity(position.quantityMilli)}${unit ? ` ${unit}` : ''}`;
    paper.pair(`${quantity} x ${formatMoney(position.priceKop)}`, amount(position.amountKop));
    if (position.discountKop > 0) {
      paper.pair(position.discountSign === 0 ? 'СКИДКА' : 'НАДБАВКА', amount(position.discountKop));
    }
    const rate = positionRate(position);
    if (rate) {
      const total = vatTotals.get(rate.label) ?? { vatKop: 0, amountKop: 0, percent: rate.percent };
      total.vatKop += position.taxSumKop;
      total.amountKop += position.totalKop;
      vatTotals.set(rate.label, total);
      paper.pair(rate.label, rate.percent === undefined ? '' : amount(position.taxSumKop));
    }
  }
  for (const line of job.textLines) paper.text(line);
  paper.rule();
  paper.pair('ИТОГ', amount(job.totalKop));
  for (const type of [1, 2, 3, 4, 5]) {
    const tendered = job.tenderedByType.get(type) ?? 0;
    if (type <= 2 || tendered > 0) paper.pair(PAYMENT_TITLES[type]!, amount(tendered));
  }
  if (job.changeKop > 0) paper.pair('СДАЧА', amount(job.changeKop));
  for (const [label, total] of vatTotals) {
    if (total.percent === undefined) paper.pair('СУММА БЕЗ НДС', amount(total.amountKop));
    else if (total.percent === 0) paper.pair('СУММА С НДС 0%', amount(total.amountKop));
    else paper.pair(`СУММА ${label}`, amount(total.vatKop));
  }
  paper.rule();
  paper.pair('СНО', taxationTitle(job.taxationSystem));
  if (job.cashier) paper.pair('КАССИР', job.cashier);
  if (job.customerContact) paper.pair('ЭЛ. АДР. ПОКУПАТЕЛЯ', job.customerContact);
  paper.pair(`СМЕНА ${job.shiftNumber}`, `ЧЕК ${job.receiptNumber}`);
  registerLines(paper, job.header);
  fiscalLines(paper, job.footer);
}

function totalsLines(paper: Paper, counters: ShiftCounters, cashKop: number): void {
  for (const type of [1, 2, 4, 5]) {
    const count = counters.receipts[type] ?? 0;
    paper.pair(`ЧЕКОВ ${RECEIPT_TYPE_TITLES[type]}`, String(count));
    if (count === 0) continue;
    paper.pair(`СУММА ${RECEIPT_TYPE_TITLES[type]}`, amount(counters.totals[type] ?? 0));
    for (const payment of [1, 2, 3, 4, 5]) {
      const sum = counters.payments[`${type}:${payment}`] ?? 0;
      if (sum > 0) paper.pair(`  ${PAYMENT_TITLES[payment]}`, amount(sum));
    }
  }
  paper.pair(`ВНЕСЕНИЙ ${counters.cashInCount}`, amount(counters.cashInKop));
  paper.pair(`ВЫПЛАТ ${counters.cashOutCount}`, amount(counters.cashOutKop));
  paper.pair('НАЛИЧНЫХ В КАССЕ', amount(cashKop));
}

/** Renders one printout as text lines of the model's width (trailing newline included). */
export function renderPrintout(job: PrintJob, lineWidth: number): string {
  const paper = new Paper(lineWidth);
  switch (job.kind) {
    case 'receipt':
      renderReceipt(paper, job);
      break;
    case 'openShift':
      header(paper, job.header);
      paper.center('ОТЧЁТ ОБ ОТКРЫТИИ СМЕНЫ');
      paper.rule();
      paper.pair('СМЕНА', String(job.shiftNumber));
      if (job.cashier) paper.pair('КАССИР', job.cashier);
      registerLines(paper, job.header);
      fiscalLines(paper, job.footer);
      break;
    case 'closeShift':
      header(paper, job.header);
      paper.center('ОТЧЁТ О ЗАКРЫТИИ СМЕНЫ');
      paper.rule();
      paper.pair('СМЕНА', String(job.shiftNumber));
      totalsLines(paper, job.counters, job.cashKop);
      paper.pair('ЧЕКОВ ЗА СМЕНУ', String(job.receiptsInShift));
      paper.pair('ФД ЗА СМЕНУ', String(job.documentsInShift));
      paper.pair('НЕПЕРЕДАННЫХ ФД', String(job.unsentDocuments));
      if (job.cashier) paper.pair('КАССИР', job.cashier);
      registerLines(paper, job.header);
      fiscalLines(paper, job.footer);
      break;
    case 'xReport':
      header(paper, job.header);
      paper.center('X-ОТЧЁТ');
      paper.center('ОТЧЁТ О ТЕКУЩЕМ СОСТОЯНИИ');
      paper.rule();
      paper.pair(`СМЕНА ${job.shiftNumber}`, job.shiftOpen ? 'ОТКРЫТА' : 'ЗАКРЫТА');
      totalsLines(paper, job.counters, job.cashKop);
      paper.pair('НЕПЕРЕДАННЫХ ФД', String(job.unsentDocuments));
      if (job.cashier) paper.pair('КАССИР', job.cashier);
      paper.pair('ЗН ККТ', job.header.serial);
      paper.text(formatReceiptDateTime(job.dateTime));
      break;
    case 'cashIn':
    case 'cashOut':
      header(paper, job.header);
      paper.center(job.kind === 'cashIn' ? 'ВНЕСЕНИЕ' : 'ВЫПЛАТА');
      paper.rule();
      paper.pair('СУММА', amount(job.sumKop));
      paper.pair('НАЛИЧНЫХ В КАССЕ', amount(job.cashKop));
      paper.pair('СМЕНА', String(job.shiftNumber));
      if (job.cashier) paper.pair('КАССИР', job.cashier);
      paper.pair('ЗН ККТ', job.header.serial);
      paper.text(formatReceiptDateTime(job.dateTime));
      break;
    case 'text':
      for (const line of job.lines) paper.text(line);
      break;
  }
  return paper.toString();
}
