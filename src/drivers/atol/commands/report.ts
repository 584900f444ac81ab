import { ByteReader, defineCommand, noBytes } from './command.js';

export const ReportType = { DailyX: 1 } as const;

/** `67`: print a report without clearing (mode 2): 1 = daily X report. Followed by `45` polling (2.2 → 2.0). */
export const xReport = defineCommand<{ reportType: number }, void>({
  name: 'xReport',
  code: Buffer.of(0x67),
  timeoutMs: 30_000,
  layout: 'generic',
  encodeParams: ({ reportType }) => Buffer.of(reportType),
  decodeParams: (bytes) => ({ reportType: new ByteReader(bytes, 'report').byte() }),
  encodeResult: noBytes.encode,
  decodeResult: noBytes.decode,
});
