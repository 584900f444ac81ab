import type { Command } from 'commander';
import type { AtolEmulatorCliOptions } from '../emulators/atol/index.js';
import type { AtolWebEmulatorCliOptions } from '../emulators/atol/web/index.js';

// Each emulator is imported by its own command only: `run` never loads them (issue 17).

/**
 * Catches Ctrl-C and SIGTERM from now on and resolves on the first. Called before an emulator starts, so
 * that a signal arriving while it starts (or just after it printed its address) still closes it cleanly.
 */
function nextSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
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
    .command('atol')
    .description(
      'ATOL register emulator (protocol v3 over TCP; bridge a PTY to it with socat for serial tests)',
    )
    .option('--tcp <port>', 'TCP port (ATOL registers use 5555)', port, 5555)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--state <file>', 'keep the register state (FD counter, shift, documents) in this file')
    .option('--journal <file>', 'JSONL journal of fiscal documents')
    .option('--model <model>', 'model code or name, e.g. 61 or "АТОЛ 22Ф"')
    .option('--time-zone <zone>', "the register clock's time zone")
    // Times are checked by the emulator's option schema, which names the option it refuses.
    .option('--latency-ms <ms>', 'work time of every quick command before its answer (default 0)')
    .option(
      '--async-latency-ms <ms>',
      'work time of slow commands (4A, 5A, 67, A4 46) before their F0 answer (default 30)',
    )
    .option(
      '--z-report-step-ms <ms>',
      'time the Z report spends in each of its printing states (default 600)',
    )
    .option('--x-report-ms <ms>', 'time the X report spends printing (default 500)')
    .option(
      '--ofd-auto-drain-ms <ms>',
      'documents count as sent to the OFD this long after they are made (default never)',
    )
    .option('--ffd <version>', 'FFD version the register works to at first start: 1.05 or 1.2', '1.2')
    .option(
      '--fault <spec>',
      'inject a fault (repeatable): no-paper, cover-open, shift-expired, fn-full, ofd-backlog, slow-ms=N, drop-on-command=4A, execute-then-drop=4A, drop-after-commands=N, corrupt-next-frame, refuse-tax-code=N',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option('--no-persist', 'keep the state in memory only')
    .option('--quiet', 'do not print the printouts')
    .action(async (options: AtolEmulatorCliOptions) => {
      const signalled = nextSignal();
      // Commander names the options as the schema does (`--z-report-step-ms` → zReportStepMs).
      const { runAtolEmulatorCli } = await import('../emulators/atol/index.js');
      const running = await runAtolEmulatorCli(options);
      await signalled;
      await running.close();
    });

  emulator
    .command('atol-web')
    .description(
      'ATOL driver-10 web server emulator (HTTP JSON tasks on /api/v2/requests) over an emulated register',
    )
    .option('--port <port>', 'HTTP port (the driver uses 16732)', port, 16732)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--tcp <port>', 'also serve the register over protocol v3 on this TCP port (0: any)', port, 0)
    .option('--state <file>', 'keep the register state in this file')
    .option('--journal <file>', 'JSONL journal of fiscal documents')
    .option('--model <model>', 'model code or name')
    .option('--time-zone <zone>', "the register clock's time zone")
    .option('--user <name>', 'require HTTP Basic auth with this user')
    .option('--password <password>', 'the Basic auth password')
    .option(
      '--fault <spec>',
      'inject a fault (repeatable), e.g. drop-after-accept=1@sell, http500, no-paper',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option('--no-persist', 'keep the state in memory only')
    .option('--quiet', 'do not print the printouts')
    .action(async (options: AtolWebEmulatorCliOptions) => {
      const signalled = nextSignal();
      const { runAtolWebEmulatorCli } = await import('../emulators/atol/web/index.js');
      const running = await runAtolWebEmulatorCli(options);
      await signalled;
      await running.close();
    });

  emulator
    .command('bridge')
    .description('mock /api/v2 CRM bridge serving sample bills and recording posted receipts')
    .option('--port <port>', 'TCP port', port, 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (options: { port: number; host: string }) => {
      const signalled = nextSignal();
      const { startMockBridge } = await import('../emulators/bridge/index.js');
      const bridge = await startMockBridge({ port: options.port, host: options.host });
      process.stdout.write(
        `Mock bridge on ${bridge.url} with ${bridge.bills().length} bills. Ctrl-C stops it.\n`,
      );
      bridge.events.on('receipt', (receipt) =>
        process.stdout.write(`[receipt] ${JSON.stringify(receipt.body)}\n`),
      );
      await signalled;
      await bridge.close();
    });

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
        const signalled = nextSignal();
        const { startIntentEmulator } = await import('../emulators/intent/index.js');
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
        await signalled;
        await emulator.close();
      },
    );
}
