import { decodeCp866, encodeCp866 } from '../protocol/cp866.js';
import { ByteReader, defineCommand, noBytes } from './command.js';

/** `4C`: print one line of text (CP866). */
export const printLine = defineCommand<{ text: string }, void>({
  name: 'printLine',
  code: Buffer.of(0x4c),
  timeoutMs: 3000,
  layout: 'generic',
  encodeParams: ({ text }) => encodeCp866(text),
  decodeParams: (bytes) => ({ text: decodeCp866(bytes) }),
  encodeResult: noBytes.encode,
  decodeResult: noBytes.decode,
});

/** Cut types follow the driver header: 0 full, 1 partial. */
export const CutType = { Full: 0, Partial: 1 } as const;

/** `75`: cut the paper. */
export const cut = defineCommand<{ cutType: number }, void>({
  name: 'cut',
  code: Buffer.of(0x75),
  timeoutMs: 3000,
  layout: 'generic',
  encodeParams: ({ cutType }) => Buffer.of(cutType),
  decodeParams: (bytes) => ({ cutType: new ByteReader(bytes, 'cut').byte() }),
  encodeResult: noBytes.encode,
  decodeResult: noBytes.decode,
});
