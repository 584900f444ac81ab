import { type DeviceDateTime, decodeBinaryDateTime5, encodeBinaryDateTime5 } from '../protocol/dateTime.js';
import { ByteReader, defineCommand, noBytes } from './command.js';

/** FN structures are FN-native: little-endian binary integers, ASCII serials (docs/protocol/atol-v3.md §5). */
const ascii = (bytes: Buffer) => bytes.toString('latin1').replace(/\0+$/, '').trim();
const asciiField = (text: string, length: number) =>
  Buffer.from(text.padEnd(length, ' ').slice(0, length), 'latin1');

export interface FnWarnings {
  needReplacement: boolean;
  resourceExhausted: boolean;
  memoryOverflow: boolean;
  ofdTimeout: boolean;
  criticalError: boolean;
}

const WARNING_BITS: Array<[keyof FnWarnings, number]> = [
  ['needReplacement', 0],
  ['resourceExhausted', 1],
  ['memoryOverflow', 2],
  ['ofdTimeout', 3],
  ['criticalError', 7],
];

export interface FnStatus {
  lifePhase: number;
  currentDocumentType: number;
  documentDataReceived: boolean;
  shiftOpen: boolean;
  warnings: FnWarnings;
  lastDocumentDateTime: DeviceDateTime;
  fnSerial: string;
  /** The number of the last fiscal document (tag 1040) the FN holds: the anchor of exactly-once. */
  lastDocumentNumber: number;
}

/** `A4 30`: FN status. Offsets as TerminalClient reads them, counted after `55 ERR`. */
export const fnStatus = defineCommand<void, FnStatus>({
  name: 'fnStatus',
  code: Buffer.of(0xa4, 0x30),
  timeoutMs: 3000,
  layout: 'generic',
  encodeParams: noBytes.encode,
  decodeParams: noBytes.decode,
  encodeResult: (s) => {
    let warnings = 0;
    for (const [name, bit] of WARNING_BITS) if (s.warnings[name]) warnings |= 1 << bit;
    const number = Buffer.alloc(4);
    number.writeUInt32LE(s.lastDocumentNumber, 0);
    return Buffer.concat([
      Buffer.of(
        s.lifePhase,
        s.currentDocumentType,
        s.documentDataReceived ? 1 : 0,
        s.shiftOpen ? 1 : 0,
        warnings,
      ),
      encodeBinaryDateTime5(s.lastDocumentDateTime),
      asciiField(s.fnSerial, 16),
      number,
    ]);
  },
  decodeResult: (bytes) => {
    const r = new ByteReader(bytes, 'FN status');
    const lifePhase = r.byte();
    const currentDocumentType = r.byte();
    const documentDataReceived = r.byte() === 1;
    const shiftOpen = r.byte() === 1;
    const warningByte = r.byte();
    const warnings = Object.fromEntries(
      WARNING_BITS.map(([name, bit]) => [name, (warningByte & (1 << bit)) !== 0]),
    ) as unknown as FnWarnings;
    const lastDocumentDateTime = decodeBinaryDateTime5(Buffer.from(r.take(5)));
    const fnSerial = ascii(Buffer.from(r.take(16)));
    const lastDocumentNumber = r.take(4).readUInt32LE(0);
    return {
      lifePhase,
      currentDocumentType,
      documentDataReceived,
      shiftOpen,
      warnings,
      lastDocumentDateTime,
      fnSerial,
      lastDocumentNumber,
    };
  },
});

export interface FnValidity {
  validUntil: DeviceDateTime;
  registrationsRemaining: number;
  registrationsDone: number;
}

/** `A4 32`: FN validity date (YY MM DD binary) and registrations. */
export const fnValidity = defineCommand<void, FnValidity>({
  name: 'fnValidity',
  code: Buffer.of(0xa4, 0x32),
  timeoutMs: 3000,
  layout: 'generic',
  encodeParams: noBytes.encode,
  decodeParams: noBytes.decode,
  encodeResult: (v) =>
    Buffer.of(
      v.validUntil.year - 2000,
      v.validUntil.month,
      v.validUntil.day,
      v.registrationsRemaining,
      v.registrationsDone,
    ),
  decodeResult: (bytes) => {
    const r = new ByteReader(bytes, 'FN validity');
    const [year, month, day] = [r.byte(), r.byte(), r.byte()];
    return {
      validUntil: { year: 2000 + year, month, day, hour: 0, minute: 0, second: 0 },
      registrationsRemaining: r.byte(),
      registrationsDone: r.byte(),
    };
  },
});

export interface FnVersion {
  version: string;
  /** 1 = serial FN, 0 = debug. */
  serialType: number;
}

/** `A4 33`: FN firmware version (16 ASCII) and type. */
export const fnVersion = defineCommand<void, FnVersion>({
  name: 'fnVersion',
  code: Buffer.of(0xa4, 0x33),
  timeoutMs: 3000,
  layout: 'generic',
  encodeParams: noBytes.encode,
  decodeParams: noBytes.decode,
  encodeResult: (v) => Buffer.concat([asciiField(v.version, 16), Buffer.of(v.serialType)]),
  decodeResult: (bytes) => {
    const r = new ByteReader(bytes, 'FN version');
    return { version: ascii(Buffer.from(r.take(16))), serialType: r.byte() };
  },
});

export interface OfdExchangeStatus {
  statusBits: number;
  readingMessage: boolean;
  unsentCount: number;
  firstUnsentDocumentNumber: number;
  firstUnsentDateTime: DeviceDateTime;
}

/** `A4 20`: OFD exchange state, above all the count of documents the OFD has not received. */
export const ofdExchangeStatus = defineCommand<void, OfdExchangeStatus>({
  name: 'ofdExchangeStatus',
  code: Buffer.of(0xa4, 0x20),
  timeoutMs: 3000,
  layout: 'generic',
  encodeParams: noBytes.encode,
  decodeParams: noBytes.decode,
  encodeResult: (s) => {
    const numbers = Buffer.alloc(6);
    numbers.writeUInt16LE(s.unsentCount, 0);
    numbers.writeUInt32LE(s.firstUnsentDocumentNumber, 2);
    return Buffer.concat([
      Buffer.of(s.statusBits, s.readingMessage ? 1 : 0),
      numbers,
      encodeBinaryDateTime5(s.firstUnsentDateTime),
    ]);
  },
  decodeResult: (bytes) => {
    const r = new ByteReader(bytes, 'OFD exchange status');
    const statusBits = r.byte();
    const readingMessage = r.byte() === 1;
    const numbers = r.take(6);
    return {
      statusBits,
      readingMessage,
      unsentCount: numbers.readUInt16LE(0),
      firstUnsentDocumentNumber: numbers.readUInt32LE(2),
      firstUnsentDateTime: decodeBinaryDateTime5(Buffer.from(r.take(5))),
    };
  },
});

export interface RegistrationInfo {
  registeredAt: DeviceDateTime;
  inn: string;
  registrationNumber: string;
  /** Bitmask of tag 1055: 1 ОСН, 2 УСН доход, 4 УСН доход−расход, 8 ЕНВД, 0x10 ЕСХН, 0x20 ПСН. */
  taxationSystems: number;
  operationModes: number;
}

/** `A4 43`: registration parameters: INN, the register's registration number (РНМ), tax systems. */
export const registrationInfo = defineCommand<void, RegistrationInfo>({
  name: 'registrationInfo',
  code: Buffer.of(0xa4, 0x43),
  timeoutMs: 3000,
  layout: 'generic',
  encodeParams: noBytes.encode,
  decodeParams: noBytes.decode,
  encodeResult: (v) =>
    Buffer.concat([
      encodeBinaryDateTime5(v.registeredAt),
      asciiField(v.inn, 12),
      asciiField(v.registrationNumber, 20),
      Buffer.of(v.taxationSystems, v.operationModes),
    ]),
  decodeResult: (bytes) => {
    const r = new ByteReader(bytes, 'registration info');
    return {
      registeredAt: decodeBinaryDateTime5(Buffer.from(r.take(5))),
      inn: ascii(Buffer.from(r.take(12))),
      registrationNumber: ascii(Buffer.from(r.take(20))),
      taxationSystems: r.byte(),
      operationModes: r.byte(),
    };
  },
});

export interface DocumentHeader {
  /** FFD document type (tag 1000 values): 2 open shift, 3 receipt, 5 close shift … */
  documentType: number;
  /** Bytes of the document's TLV list that `A4 46` will hand out. */
  size: number;
}

/**
 * `A4 45 <FD LE32>`: select a fiscal document for reading. Answers `55 00 TYPE(LE16) SIZE(LE16)`; bytes
 * after that are ignored (docs/protocol/atol-v3.md §10).
 */
export const selectDocument = defineCommand<{ documentNumber: number }, DocumentHeader>({
  name: 'selectDocument',
  code: Buffer.of(0xa4, 0x45),
  timeoutMs: 3000,
  layout: 'generic',
  encodeParams: ({ documentNumber }) => {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32LE(documentNumber, 0);
    return bytes;
  },
  decodeParams: (bytes) => ({
    documentNumber: new ByteReader(bytes, 'select document').take(4).readUInt32LE(0),
  }),
  encodeResult: ({ documentType, size }) => {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt16LE(documentType, 0);
    bytes.writeUInt16LE(size, 2);
    return bytes;
  },
  decodeResult: (bytes) => {
    const head = new ByteReader(bytes, 'document header').take(4);
    return { documentType: head.readUInt16LE(0), size: head.readUInt16LE(2) };
  },
});

/**
 * `A4 46`: the next piece of the selected document: one TLV (tag LE16, length LE16, value), which a long
 * value may spread over several answers. Error `DA` ends the document (docs/protocol/atol-v3.md §10).
 */
export const readDocumentChunk = defineCommand<void, Buffer>({
  name: 'readDocumentChunk',
  code: Buffer.of(0xa4, 0x46),
  timeoutMs: 3000,
  layout: 'generic',
  encodeParams: noBytes.encode,
  decodeParams: noBytes.decode,
  encodeResult: (chunk) => chunk,
  decodeResult: (bytes) => Buffer.from(bytes),
});

/** FFD document types (tag 1000 values) the agent meets. */
export const DocumentType = {
  Registration: 1,
  OpenShift: 2,
  Receipt: 3,
  CorrectionReceipt: 31,
  CloseShift: 5,
  ExchangeStatus: 21,
} as const;

/** FFD tags inside a stored fiscal document. */
export const DocumentTag = {
  dateTime: 1012,
  total: 1020,
  registrationNumber: 1037,
  shiftNumber: 1038,
  documentNumber: 1040,
  fnNumber: 1041,
  receiptNumber: 1042,
  operationType: 1054,
  /** A receipt's position (an STLV: name 1030, price 1079, quantity 1023, amount 1043 …). */
  position: 1059,
  fiscalSign: 1077,
  cashTotal: 1031,
  electronicTotal: 1081,
} as const;
