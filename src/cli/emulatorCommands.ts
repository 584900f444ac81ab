import type { Command } from 'commander';
import { startIntentEmulator } from '../emulators/intent/index.js';

/** Waits for Ctrl-C or SIGTERM, then runs the cleanup. */
function untilSignal(cleanup: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void cleanup().finally(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

const port = (value: string) => {
  const parsed = Number.parseInt(value, 10);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) throw new Error(`not a port: ${value}`);
  return parsed;
};

export function registerEmulatorCommands(program: Command): void {
  const emulator = program.command('emulator').description('run a built-in device emulator');

  emulator
    .command('intent')
    .description('SmartX intent terminal emulator (HTTP)')
    .option('--port <port>', 'TCP port (the real terminal uses 37015)', port, 37015)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--pin <pin>', 'PIN that AUTH accepts', '1234')
    .option(
      '--card-wait <ms>',
      'how long a card payment waits for the "card"',
      (v) => Number.parseInt(v, 10),
      1000,
    )
    .option('--state <file>', 'keep receipts and the shift in this file')
    .action(
      async (options: { port: number; host: string; pin: string; cardWait: number; state?: string }) => {
        const emulator = await startIntentEmulator({
          host: options.host,
          port: options.port,
          pin: options.pin,
          cardWaitMs: options.cardWait,
          stateFile: options.state,
        });
        process.stdout.write(
          `SmartX emulator listening on ${emulator.url} (PIN ${options.pin}). Ctrl-C stops it.\n`,
        );
        await untilSignal(() => emulator.close());
      },
    );
}
