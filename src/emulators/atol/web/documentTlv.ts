import { decodeCp866 } from '../../../drivers/atol/protocol/cp866.js';
import { type DeviceDateTime, ffdSecondsToWallClock } from '../../../drivers/atol/protocol/dateTime.js';
import { decodeTlvList, decodeVln, type Tlv } from '../../../drivers/atol/protocol/tlv.js';
import { formatMinor } from '../../../lib/decimal.js';
import { LosslessNumber } from '../../../lib/json.js';
import type { DocumentView } from '../deviceView.js';

/**
 * A stored fiscal document as `getFnDocument` reports it: `documentTLV`, an object keyed by tag number
 * with the document type by name. The value types follow the public clients (numbers, text, money in
 * roubles, date-times as ISO 8601 with the register's offset); the real server's exact forms are ⚠.
 */

const DOCUMENT_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'registration',
  2: 'openShift',
  3: 'receipt',
  4: 'bso',
  5: 'closeShift',
  6: 'closeArchive',
  11: 'changeRegistrationParameters',
  21: 'ofdExchangeStatus',
  31: 'receiptCorrection',
  41: 'bsoCorrection',
};

const UINT_TAGS = new Set([1038, 1040, 1042, 1097, 1118]);
const BYTE_TAGS = new Set([1054, 1055, 1212, 1214, 2106, 2108, 2110]);
const VLN_TAGS = new Set([1293, 1294]);
const DATE_TIME_TAGS = new Set([1012, 1098]);
const MONEY_TAGS = new Set([1020, 1031, 1043, 1079, 1081, 1215, 1216, 1217]);
/** Structures: positions (1059), the product code (1163), industry requisites (1260), the part of a pack (1291). */
const STRUCTURE_TAGS = new Set([1059, 1163, 1260, 1291]);
const FISCAL_SIGN_TAG = 1077;
const QUANTITY_TAG = 1023;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** A wall-clock reading with a fixed offset ("+03:00"): ISO 8601. */
export function isoAtOffset(t: DeviceDateTime, offset: string): string {
  return `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}${offset}`;
}

function tlvValue(tlv: Tlv, offset: string): unknown {
  const { tag, value } = tlv;
  if (UINT_TAGS.has(tag)) return value.length === 4 ? value.readUInt32LE(0) : decodeVln(value);
  if (BYTE_TAGS.has(tag)) return value[0] ?? 0;
  if (VLN_TAGS.has(tag)) return decodeVln(value);
  if (DATE_TIME_TAGS.has(tag)) return isoAtOffset(ffdSecondsToWallClock(value.readUInt32LE(0)), offset);
  if (MONEY_TAGS.has(tag)) return new LosslessNumber(formatMinor(decodeVln(value), 2));
  if (tag === QUANTITY_TAG)
    return new LosslessNumber(formatMinor(decodeVln(value.subarray(1)), value[0] ?? 0));
  if (tag === FISCAL_SIGN_TAG) return String(value.readUInt32BE(value.length - 4));
  if (STRUCTURE_TAGS.has(tag)) return tlvObject(decodeTlvList(value), offset);
  return decodeCp866(value);
}

function tlvObject(tlvs: readonly Tlv[], offset: string): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const tlv of tlvs) {
    const key = String(tlv.tag);
    const value = tlvValue(tlv, offset);
    // Repeated tags (positions, 1059) become an array.
    if (STRUCTURE_TAGS.has(tlv.tag)) object[key] = [...((object[key] as unknown[] | undefined) ?? []), value];
    else object[key] = value;
  }
  return object;
}

/** `getFnDocument`'s result for a stored document. `offset` is the register clock's, e.g. "+03:00". */
export function fnDocumentResult(document: DocumentView, offset: string): Record<string, unknown> {
  const body = tlvObject(document.tlvs, offset);
  const qr =
    document.type === 3
      ? `t=${String(body['1012'] ?? '')
          .replace(/[-:]/g, '')
          .slice(
            0,
            13,
          )}&s=${String(body['1020'] ?? '0')}&fn=${String(body['1041'] ?? '')}&i=${document.number}&fp=${String(body['1077'] ?? '')}&n=${String(body['1054'] ?? 1)}`
      : '';
  return {
    documentTLV: {
      fiscalDocumentType: DOCUMENT_TYPE_NAMES[document.type] ?? document.type,
      short: false,
      qr,
      ...body,
    },
  };
}
