/**
 * The Russian fiscal data format (FFD 1.2) vocabulary, in ATOL's JSON-task names, with the codes the
 * fiscal storage records. Neutral ground: drivers and the agent's domain both read these tables.
 * Sources: docs/protocol/atol-v3.md §12 and ATOL's driver JSON mapping (PAYMENT_METHODS, PAYMENT_OBJECTS, TAXATION_TYPES,
 * ITEM_UNITS), found in public code.
 */

/** Tag 1214, "признак способа расчёта". */
export const PAYMENT_METHODS = {
  fullPrepayment: 1, // предоплата 100 %
  prepayment: 2, // предоплата
  advance: 3, // аванс
  fullPayment: 4, // полный расчёт
  partialPayment: 5, // частичный расчёт и кредит
  credit: 6, // передача в кредит
  creditPayment: 7, // оплата кредита
} as const;

export type PaymentMethod = keyof typeof PAYMENT_METHODS;
export const PAYMENT_METHOD_NAMES = Object.keys(PAYMENT_METHODS) as [PaymentMethod, ...PaymentMethod[]];

/** Tag 1212, "признак предмета расчёта". Codes 28 and 29 do not exist in FFD 1.2. */
export const PAYMENT_OBJECTS = {
  commodity: 1,
  excise: 2,
  job: 3,
  service: 4,
  gamblingBet: 5,
  gamblingPrize: 6,
  lottery: 7,
  lotteryPrize: 8,
  intellectualActivity: 9,
  payment: 10,
  agentCommission: 11,
  composite: 12,
  another: 13,
  proprietaryLaw: 14,
  nonOperatingIncome: 15,
  otherContributions: 16,
  merchantTax: 17,
  resortFee: 18,
  deposit: 19,
  consumption: 20,
  soleProprietorCPIContributions: 21,
  cpiContributions: 22,
  soleProprietorCMIContributions: 23,
  cmiContributions: 24,
  csiContributions: 25,
  casinoPayment: 26,
  fundsIssuance: 27,
  exciseWithoutMarking: 30,
  exciseWithMarking: 31,
  commodityWithoutMarking: 32,
  commodityWithMarking: 33,
} as const;

export type PaymentObject = keyof typeof PAYMENT_OBJECTS;
export const PAYMENT_OBJECT_NAMES = Object.keys(PAYMENT_OBJECTS) as [PaymentObject, ...PaymentObject[]];

/**
 * Measurement units (FFD 1.2 tag 2108, "мера количества предмета расчёта") with ATOL's JSON-task names.
 * Codes and names checked against ATOL's own driver JSON mapping (ITEM_UNITS → LIBFPTR_IU_*) and the
 * libfptr10 constants (LIBFPTR_IU_PIECE = 0 … LIBFPTR_IU_OTHER = 255), found in public code.
 */
export const MEASUREMENT_UNITS = {
  piece: 0,
  gram: 10,
  kilogram: 11,
  ton: 12,
  centimeter: 20,
  decimeter: 21,
  meter: 22,
  squareCentimeter: 30,
  squareDecimeter: 31,
  squareMeter: 32,
  milliliter: 40,
  liter: 41,
  cubicMeter: 42,
  kilowattHour: 50,
  gkal: 51,
  day: 70,
  hour: 71,
  minute: 72,
  second: 73,
  kilobyte: 80,
  megabyte: 81,
  gigabyte: 82,
  terabyte: 83,
  otherUnits: 255,
} as const;

export type MeasurementUnit = keyof typeof MEASUREMENT_UNITS;

export const MEASUREMENT_UNIT_NAMES = Object.keys(MEASUREMENT_UNITS) as [
  MeasurementUnit,
  ...MeasurementUnit[],
];

/** Tag 1055, a one-byte bitmask ("envd" = 8 is obsolete since 2021 and deliberately absent). */
export const TAXATION_SYSTEMS = {
  osn: 0x01,
  usnIncome: 0x02,
  usnIncomeOutcome: 0x04,
  esn: 0x10,
  patent: 0x20,
} as const;

export type TaxationSystem = keyof typeof TAXATION_SYSTEMS;
export const TAXATION_SYSTEM_NAMES = Object.keys(TAXATION_SYSTEMS) as [TaxationSystem, ...TaxationSystem[]];

/** The taxation systems in a registration's 1062 bitmask (the device reports which ones it may use). */
export function taxationSystemsFromMask(mask: number): TaxationSystem[] {
  return TAXATION_SYSTEM_NAMES.filter((name) => (mask & TAXATION_SYSTEMS[name]) !== 0);
}

/**
 * Tags 2003 (planned) and 2110 (assigned) status of a marked item, with ATOL's JSON-task names
 * (`itemEstimatedStatus`, MARKING_ESTIMATED_STATUS → LIBFPTR_MES_*, docs/protocol/atol-driver10-marking.md):
 * "dry" is ATOL's word for goods sold by measure (weight, volume, part of a pack).
 */
export const MARKING_STATUSES = {
  itemPieceSold: 1,
  itemDryForSale: 2,
  itemPieceReturn: 3,
  itemDryReturn: 4,
} as const;

export type MarkingStatus = keyof typeof MARKING_STATUSES;
export const MARKING_STATUS_NAMES = Object.keys(MARKING_STATUSES) as [MarkingStatus, ...MarkingStatus[]];

/**
 * The permissive mode's industry requisite (tag 1260 of a position): ФОИВ 030 (Минпромторг), the document
 * that requires it (постановление Правительства от 21.11.2023 № 1944) and, in 1265, the check's identity
 * (docs/marking.md, "Permissive mode").
 */
export const PERMISSIVE_MODE_REQUISITE = {
  /** Tag 1262. */
  fois: '030',
  /** Tag 1263, as the FN holds it (DD.MM.YYYY). */
  documentDate: '21.11.2023',
  /** Tag 1264. */
  documentNumber: '1944',
} as const;
