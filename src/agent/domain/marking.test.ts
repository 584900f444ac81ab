import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.js';
import { encodeMarkingCodeBase64, GS } from '../../lib/markingCode.js';
import { type Bill, billSchema, buildBill, buildPosition, validateBill } from './bill.js';
import {
  markingOperationProblems,
  markingStatusFor,
  permissiveRequisite,
  permitAttribute,
} from './marking.js';

/** Codes from public sources (src/lib/markingCode.test.ts): a perfume-like piece and a weighed cheese. */
const PIECE_CODE = `0104680029460908215jcmHzLmkdPML${GS}938p9E`;
const WEIGHED_CODE = `010463003022541621Yu7t_HclAYqqD${GS}91006A${GS}92lYF//jixJXUlaO7W`;

function markedBill(): Bill {
  return buildBill({
    source: 'mqtt',
    account: 'shop',
    billId: 'b1',
    number: '1',
    currency: 'RUB',
    positions: [
      buildPosition({
        name: 'Духи',
        priceMinor: 350_000,
        quantityMilli: 1000,
        vat: 'vat22',
        marking: { code: PIECE_CODE },
      }),
      buildPosition({
        name: 'Сыр весовой',
        priceMinor: 120_000,
        quantityMilli: 450,
        unit: 'kilogram',
        vat: 'vat10',
        marking: { code: WEIGHED_CODE },
      }),
    ],
    payments: 'card',
  });
}

const fieldOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return `${error.field}: ${error.details.reason}`;
    throw error;
  }
  throw new Error('expected a ValidationError');
};

describe('marked positions in the bill', () => {
  it('accepts a piece and a weighed position, each with its code as scanned', () => {
    const bill = markedBill();
    expect(bill.positions.map((p) => p.marking?.code)).toEqual([PIECE_CODE, WEIGHED_CODE]);
  });

  it('takes the base64 form as ATOL carries it and keeps the code as scanned', () => {
    const json = JSON.parse(JSON.stringify(markedBill()));
    json.positions[0].marking = { codeBase64: encodeMarkingCodeBase64(PIECE_CODE), status: 'itemPieceSold' };
    const bill = billSchema.parse(json);
    expect(bill.positions[0]?.marking).toEqual({ code: PIECE_CODE, status: 'itemPieceSold' });
  });

  it('refuses what no register could sell, naming the field', () => {
    const bill = () => JSON.parse(JSON.stringify(markedBill())) as Bill & Record<string, never>;
    const with0 = (patch: (b: ReturnType<typeof bill>) => void) => {
      const b = bill();
      patch(b);
      return () => validateBill(b);
    };
    expect(fieldOf(with0((b) => Object.assign(b.positions[0]!, { marking: { code: 'bad code' } })))).toMatch(
      /^positions\[0\]\.marking\.code: .*character/,
    );
    expect(
      fieldOf(
        with0((b) => Object.assign(b.positions[0]!, { marking: { code: PIECE_CODE, codeBase64: 'QQ==' } })),
      ),
    ).toMatch(/^positions\[0\]\.marking: give the code/);
    expect(fieldOf(with0((b) => Object.assign(b.positions[0]!, { marking: { codeBase64: '%%%' } })))).toMatch(
      /^positions\[0\]\.marking\.codeBase64: is not base64/,
    );
    // A piece carries one code: two pieces are two positions.
    expect(
      fieldOf(
        with0((b) =>
          Object.assign(b.positions[0]!, { quantityMilli: 2000, amountMinor: 700_000, vatMinor: 126_230 }),
        ),
      ),
    ).toMatch(/^positions\[0\]\.quantityMilli: a marked piece carries one code/);
    expect(fieldOf(with0((b) => Object.assign(b.positions[1]!.marking!, { code: PIECE_CODE })))).toMatch(
      /^positions\[1\]\.marking\.code: the same code as positions\[0\]/,
    );
    expect(fieldOf(with0((b) => Object.assign(b.positions[0]!, { paymentObject: 'service' })))).toMatch(
      /^positions\[0\]\.paymentObject: a marked position sells goods/,
    );
    expect(
      fieldOf(with0((b) => Object.assign(b.positions[1]!.marking!, { status: 'itemPieceSold' }))),
    ).toMatch(/^positions\[1\]\.marking\.status: itemPieceSold is for a piece/);
    expect(
      fieldOf(
        with0((b) => Object.assign(b.positions[1]!.marking!, { fraction: { numerator: 1, denominator: 2 } })),
      ),
    ).toMatch(/^positions\[1\]\.marking\.fraction: a part of a pack is sold as one piece/);
    expect(
      fieldOf(
        with0((b) => Object.assign(b.positions[0]!.marking!, { fraction: { numerator: 2, denominator: 2 } })),
      ),
    ).toMatch(/numerator must be less/);
    expect(
      fieldOf(
        with0((b) =>
          Object.assign(b.positions[0]!, {
            identificationMarks: [{ kind: 'si', value: 'midom0im20m03223d-2-d' }],
          }),
        ),
      ),
    ).toMatch(/^positions\[0\]\.identificationMarks: .*not both/);
  });

  it('sells part of a pack as one piece by measure', () => {
    const bill = markedBill();
    bill.positions[0]!.marking!.fraction = { numerator: 1, denominator: 4 };
    expect(() => validateBill(bill)).not.toThrow();
    expect(markingStatusFor(bill.positions[0]!, false)).toBe('itemDryForSale');
    expect(markingStatusFor(bill.positions[0]!, true)).toBe('itemDryReturn');
  });
});

describe('planned status (2110)', () => {
  it('derives sold or returned, piece or measured', () => {
    const [piece, weighed] = markedBill().positions;
    expect(markingStatusFor(piece!, false)).toBe('itemPieceSold');
    expect(markingStatusFor(piece!, true)).toBe('itemPieceReturn');
    expect(markingStatusFor(weighed!, false)).toBe('itemDryForSale');
    expect(markingStatusFor(weighed!, true)).toBe('itemDryReturn');
  });

  it('keeps a source status and flags one that contradicts the operation', () => {
    const bill = markedBill();
    bill.positions[0]!.marking!.status = 'itemPieceReturn';
    expect(markingStatusFor(bill.positions[0]!, false)).toBe('itemPieceReturn');
    expect(markingOperationProblems(bill.positions, false)).toEqual([
      { path: ['positions', 0, 'marking', 'status'], reason: 'itemPieceReturn does not fit a sale' },
    ]);
    expect(markingOperationProblems(bill.positions, true)).toEqual([]);
  });
});

describe('permissive mode requisite (1260)', () => {
  it('writes 1265 as UUID and time, with instance and version for an offline check', () => {
    const online = { uuid: '35499265-dab8-4a6d-8700-7e8d3c319f0e', timestampMs: 1_710_391_776_278 };
    expect(permitAttribute(online)).toBe('UUID=35499265-dab8-4a6d-8700-7e8d3c319f0e&Time=1710391776278');
    // The local module's offline answer quoted in public clients (docs/protocol/chestny-znak-local-module.md §4).
    const offline = {
      uuid: 'c9188551-817a-85a7-93e4-7042d907ab13',
      timestampMs: 1_757_681_987_579,
      instance: '4679b3db-da6a-44e0-a2e6-a684437bafb0',
      version: '6e7f1224-0e08-41ed-844c-d386675f4e50',
    };
    expect(permissiveRequisite(offline)).toEqual({
      fois: '030',
      documentDate: '21.11.2023',
      documentNumber: '1944',
      attribute:
        'UUID=c9188551-817a-85a7-93e4-7042d907ab13&Time=1757681987579' +
        '&Inst=4679b3db-da6a-44e0-a2e6-a684437bafb0&Ver=6e7f1224-0e08-41ed-844c-d386675f4e50',
    });
  });
});
