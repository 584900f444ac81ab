import { decodeCp866 } from '../../drivers/atol/protocol/cp866.js';
import { FfdTag } from './fiscalDocuments.js';
import { type StoredTlv, storedValue } from './state.js';

/**
 * Which FFD tags belong to the receipt and which to a position. `E8` routes a tag by where the receipt
 * is (after `EA` → position), and refuses a tag written at the wrong level (docs/protocol/atol-v3.md §6, §12).
 */
export const RECEIPT_LEVEL_TAGS: ReadonlySet<number> = new Set([
  1008, // buyer's phone or e-mail
  1009, // settlement address
  1021, // cashier
  1055, // taxation system
  1060, // FNS site
  1084, // additional user attribute
  1117, // sender's e-mail
  1187, // settlement place
  1192, // additional receipt attribute (the agent's job marker)
  1203, // cashier INN
  1227, // buyer
  1228, // buyer INN
  1256, // buyer information (FFD 1.2)
  1261, // industry attribute of the receipt
  1270, // operational attribute
]);

export const POSITION_LEVEL_TAGS: ReadonlySet<number> = new Set([
  1162, // goods code (FFD 1.05)
  1163, // goods code (FFD 1.2)
  1191, // additional position attribute
  1197, // unit of measure (FFD 1.05)
  1222, // agent attribute
  1223, // agent data
  1224, // supplier data
  1226, // supplier INN
  1229, // excise
  1230, // country of origin
  1231, // customs declaration
  1260, // industry attribute of the position
  1291, // fractional quantity
  2106, // result of the marking code's check (FFD 1.2)
  2108, // measurement unit (FFD 1.2)
  2110, // assigned status of a marked item (FFD 1.2)
]);

/** Cashier tags (1021, 1203) among tags written before a document. */
export const cashierTags = (tags: readonly StoredTlv[]): StoredTlv[] =>
  tags.filter((t) => t.tag === FfdTag.cashierName || t.tag === FfdTag.cashierInn);

export function tagText(tags: readonly StoredTlv[], tag: number): string | undefined {
  const found = tags.find((t) => t.tag === tag);
  return found === undefined ? undefined : decodeCp866(storedValue(found));
}
