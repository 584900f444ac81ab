import { type DeviceDateTime, decodeBcdDayFirst, encodeBcdDayFirst } from '../protocol/dateTime.js';
import { defineCommand, noBytes } from './command.js';

/** `ED`: set the register's clock (DD MM YY hh mm ss, BCD); only with the shift closed. */
export const setDateTime = defineCommand<DeviceDateTime, void>({
  name: 'setDateTime',
  code: Buffer.of(0xed),
  timeoutMs: 3000,
  layout: 'generic',
  encodeParams: encodeBcdDayFirst,
  decodeParams: decodeBcdDayFirst,
  encodeResult: noBytes.encode,
  decodeResult: noBytes.decode,
});
