import { startAtolEmulator } from '../../src/emulators/atol/index.js';

/**
 * The ATOL emulator in a process of its own, at zero latency: the bench measures the driver's and the
 * agent's CPU with `process.cpuUsage()`, which must not include the register's work. Prints
 * `{"port":N}` once listening; exits on SIGTERM.
 */
const emulator = await startAtolEmulator({
  port: 0,
  persist: false,
  latencyMs: 0,
  asyncLatencyMs: 0,
  zReportStepMs: 0,
  xReportMs: 0,
  timeZone: process.env['KKT_BENCH_TZ'] ?? 'Europe/Moscow',
});
process.stdout.write(`${JSON.stringify({ port: emulator.port })}\n`);
const stop = () => {
  void emulator.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
