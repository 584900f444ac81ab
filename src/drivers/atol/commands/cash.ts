import { decodeBcd, encodeBcd } from '../protocol/bcd.js';
import { ByteReader, defineCommand, noBytes } from './command.js';

export interface CashOperationParams {
  flags: number;
  sumKop: number;
}

const encode = (p: CashOperationParams) => Buffer.concat([Buffer.of(p.flags), encodeBcd(p.sumKop, 5)]);
const decode = (bytes: Buffer): CashOperationParams => {
  const r = new ByteReader(bytes, 'cash operation');
  return { flags: r.byte(), sumKop: decodeBcd(r.take(5)) };
};

/** `49`: cash in (внесение). */
export const cashIn = defineCommand<CashOperationParams, void>({
  name: 'cashIn',
  code: Buffer.of(0x49),
  timeoutMs: 10_000,
  layout: 'generic',
  encodeParams: encode,
  decodeParams: decode,
  encodeResult: noBytes.encode,
  decodeResult: noBytes.decode,
});

/** `4F`: cash out (выплата); error 0x98 when the drawer holds less. */
export const cashOut = defineCommand<CashOperationParams, void>({
  name: 'cashOut',
  code: Buffer.of(0x4f),
  timeoutMs: 10_000,
  layout: 'generic',
  encodeParams: encode,
  decodeParams: decode,
  encodeResult: noBytes.encode,
  decodeResult: noBytes.decode,
});
