import { type Bill, changeMinor } from '../../domain/bill.js';
import { currencyOf } from '../../domain/money.js';
import type { PaymentType } from '../../domain/payment.js';
import { formatQuantity } from '../../domain/quantity.js';
import { RECEIPT_KIND_TITLES, type ReceiptKind } from '../../domain/receiptKind.js';
import { VAT_TYPES } from '../../domain/vat.js';

/**
 * The plain-text receipt of the non-fiscal device. It says in its first lines that it is not a fiscal
 * document, and ends with a machine-readable trailer that a reconcile reads back:
 *
 *   #kkt-agent device=np1 job=mb1x2k3l4abc receipt=17 time=2025-06-01T10:00:00+05:00 total=120000 currency=UZS
 *
 * (`total` in the currency's minor units: whole so'm for UZS, kopecks for RUB.) No customer contact data
 * is printed.
 */

export interface ReceiptTextInput {
  bill: Bill;
  /** The receipt's kind: anything but a sale says so under the title. */
  kind?: ReceiptKind;
  deviceId: string;
  jobId: string;
  receiptNumber: number;
  /** ISO 8601 with offset. */
  dateTime: string;
  header: readonly string[];
  lineWidth: number;
}

export interface ReceiptTrailer {
  device: string;
  job: string;
  receipt: number;
  time: string;
  totalMinor: number;
  currency: string;
}

const TRAILER_PREFIX = '#kkt-agent ';

const PAYMENT_LABELS: Record<PaymentType, string> = {
  cash: 'Cash / Наличные',
  card: 'Card / Безналичные',
  prepaid: 'Prepaid / Аванс',
  credit: 'Credit / Кредит',
  other: 'Other / Иное',
};

/** Minor units as major-unit text with grouped thousands: 120000 UZS → "120 000", 344271 RUB → "3 442.71". */
export function formatAmount(minor: number, currency: string): string {
  const digits = currencyOf(currency).minorDigits;
  const negative = minor < 0;
  const text = String(Math.abs(minor)).padStart(digits + 1, '0');
  const whole = text.slice(0, text.length - digits).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
  const fraction = digits > 0 ? `.${text.slice(text.length - digits)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

function center(text: string, width: number): string {
  if (text.length >= width) return text;
  return `${' '.repeat(Math.floor((width - text.length) / 2))}${text}`;
}

/** Left text and right text on one line, the right one flush right. */
function spread(left: string, right: string, width: number): string {
  const gap = width - left.length - right.length;
  return gap >= 1
    ? `${left}${' '.repeat(gap)}${right}`
    : `${left}\n${' '.repeat(Math.max(0, width - right.length))}${right}`;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let rest = text.trim();
  while (rest.length > width) {
    const cut = rest.lastIndexOf(' ', width);
    const at = cut > width / 2 ? cut : width;
    lines.push(rest.slice(0, at).trimEnd());
    rest = rest.slice(at).trimStart();
  }
  if (rest.length > 0) lines.push(rest);
  return lines;
}

export function renderReceipt(input: ReceiptTextInput): string {
  const { bill, lineWidth: width } = input;
  const rule = '-'.repeat(width);
  const money = (minor: number) => formatAmount(minor, bill.currency);
  const lines: string[] = [];
  for (const line of input.header) lines.push(...wrap(line, width).map((l) => center(l, width)));
  lines.push(
    center('NON-FISCAL RECEIPT', width),
    center('НЕФИСКАЛЬНЫЙ ЧЕК', width),
    center('Not a fiscal document', width),
  );
  if (input.kind !== undefined && input.kind !== 'sell')
    lines.push(center(RECEIPT_KIND_TITLES[input.kind], width));
  lines.push(rule);
  lines.push(
    spread(`Receipt No. ${input.receiptNumber}`, input.dateTime.slice(0, 19).replace('T', ' '), width),
  );
  lines.push(`Bill ${bill.number}`);
  lines.push(rule);
  for (const position of bill.positions) {
    lines.push(...wrap(position.name, width));
    const unit = position.unit === 'piece' ? '' : ` ${position.unit}`;
    lines.push(
      spread(
        `  ${formatQuantity(position.quantityMilli)}${unit} x ${money(position.priceMinor)}`,
        money(position.amountMinor),
        width,
      ),
    );
    if (position.vat !== 'none') {
      lines.push(
        spread(`  incl. VAT ${VAT_TYPES[position.vat].ratePercent}%`, money(position.vatMinor), width),
      );
    }
  }
  lines.push(rule);
  lines.push(spread('TOTAL', `${money(bill.totalMinor)} ${bill.currency}`, width));
  for (const payment of bill.payments)
    lines.push(spread(PAYMENT_LABELS[payment.type], money(payment.amountMinor), width));
  const change = changeMinor(bill);
  if (change > 0) lines.push(spread('Change / Сдача', money(change), width));
  lines.push(rule);
  const trailer: ReceiptTrailer = {
    device: input.deviceId,
    job: input.jobId,
    receipt: input.receiptNumber,
    time: input.dateTime,
    totalMinor: bill.totalMinor,
    currency: bill.currency,
  };
  lines.push(formatTrailer(trailer));
  return `${lines.join('\n')}\n`;
}

export function formatTrailer(t: ReceiptTrailer): string {
  return `${TRAILER_PREFIX}device=${t.device} job=${t.job} receipt=${t.receipt} time=${t.time} total=${t.totalMinor} currency=${t.currency}`;
}

/** The trailer of a receipt text; undefined when it is missing or unreadable. */
export function parseTrailer(text: string): ReceiptTrailer | undefined {
  const line = text
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(TRAILER_PREFIX));
  if (!line) return undefined;
  const values = new Map(
    line
      .slice(TRAILER_PREFIX.length)
      .split(' ')
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] as const),
  );
  const receipt = Number(values.get('receipt'));
  const totalMinor = Number(values.get('total'));
  const [device, job, time, currency] = [
    values.get('device'),
    values.get('job'),
    values.get('time'),
    values.get('currency'),
  ];
  if (
    !device ||
    !job ||
    !time ||
    !currency ||
    !Number.isSafeInteger(receipt) ||
    !Number.isSafeInteger(totalMinor)
  ) {
    return undefined;
  }
  return { device, job, receipt, time, totalMinor, currency };
}
