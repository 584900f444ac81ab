import { EMULATOR_EXTRA_TAX_BYTES } from '../../src/emulators/atol/index.js';

export const SHOP_TZ = 'Europe/Moscow';

/**
 * The shop's register as a device of the config: ATOL on TCP at `port` (the emulator, or a proxy in front
 * of it) with the emulator's tax bytes; `extra` adds to it or replaces fields.
 */
export function atolDevice(port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'kkt',
    kind: 'atol',
    link: { type: 'tcp', host: '127.0.0.1', port },
    operator: { name: 'Кассир' },
    taxBytes: EMULATOR_EXTRA_TAX_BYTES,
    ...extra,
  };
}

/**
 * The config of a small shop for end-to-end tests: one ATOL register on TCP (the emulator, or a proxy in
 * front of it) and one bridge account polled every 300 ms, reports retried fast; `extra` adds or replaces
 * sections, `device` adds to the register's.
 */
export function shopConfig(options: {
  registerPort: number;
  bridgeUrl: string;
  device?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}): Record<string, unknown> {
  return {
    timeZone: SHOP_TZ,
    devices: [
      // The mock bridge's sample bills include 5 % and 7 %, which only УСН may charge.
      atolDevice(options.registerPort, { taxationType: 'usnIncome', ...options.device }),
    ],
    outbox: { initialBackoffMs: 100, maxBackoffMs: 400 },
    connectors: {
      bridge: [
        {
          id: '120',
          baseUrl: options.bridgeUrl,
          timeoutMs: 800,
          retries: 1,
          retryDelayMs: 50,
          autoFiscalize: { enabled: true, intervalMs: 300 },
          defaultPayment: 'card',
        },
      ],
    },
    ...options.extra,
  };
}
