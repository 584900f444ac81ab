import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { configJsonSchema, type DeviceConfig, parseConfig } from '../agent/config/config.js';
import { configWarnings } from '../agent/config/warnings.js';
import { AGENT_VERSION, runDaemon } from '../agent/daemon.js';
import { parseDecimalToMinor } from '../lib/decimal.js';
import { KktAgentError } from '../lib/errors.js';
import { cliHelpers, configOption, configPath, socketOptions } from './cliHelpers.js';
import { registerDoctorCommand } from './doctorCommand.js';
import { registerEmulatorCommands } from './emulatorCommands.js';
import { age, keyValues, money, table } from './format.js';
import { registerKindCommands } from './kindCommands.js';
import { registerMoyskladCommands } from './moyskladCommands.js';
import { registerRecoverCommand } from './recoverCommand.js';
import { renderStatus } from './statusView.js';

function amountArg(value: string): number {
  try {
    return parseDecimalToMinor(value, 2, { field: 'amount' });
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

interface JobRow {
  id: string;
  state: string;
  key: string;
  number?: string;
  totalMinor?: number;
  updatedAt: string;
  fiscalDocumentNumber?: number;
  failure?: string;
  blocked?: string;
}

/** Who a device's receipts name as cashier when the bill names none. */
function cashierOf(device: DeviceConfig): string {
  if (device.kind === 'atol' || device.kind === 'atol-web') return device.operator.name;
  if (device.kind === 'intent') return device.cashier;
  return '-';
}

const jobsTable = (jobs: JobRow[]) =>
  table(
    ['job', 'state', 'bill', 'number', 'total', 'FD', 'updated', 'note'],
    jobs.map((j) => [
      j.id,
      j.state,
      j.key,
      j.number,
      money(j.totalMinor),
      j.fiscalDocumentNumber,
      age(j.updatedAt),
      j.failure ?? j.blocked,
    ]),
  );

const { loadConfig, call, print, fail } = cliHelpers;

export function buildProgram(): Command {
  const program = new Command('kkt-agent')
    .description('Edge agent for fiscal cash registers (ATOL protocol v3, SmartX), with cloud connectors')
    .version(AGENT_VERSION)
    .showHelpAfterError();

  configOption(program.command('run').description('run the agent (what systemd starts)'))
    .option('--log-file <path>', 'also write logs to this file, rotated (for systems without journald)')
    .option(
      '--trace-wire <file>',
      'write every frame to and from the ATOL registers to this file, customer contacts masked (docs/protocol/atol-v3.md §14)',
    )
    .action(async (options: { config?: string; logFile?: string; traceWire?: string }) => {
      let config = await loadConfig(options.config).catch(fail);
      if (options.logFile !== undefined) {
        // Relative to where the command was typed; then held to the same rules as `log.file.path`.
        const file = { maxSizeMb: 10, keep: 5, ...config.log.file, path: resolve(options.logFile) };
        try {
          config = parseConfig({ ...config, log: { ...config.log, file } }, '--log-file');
        } catch (error) {
          fail(error);
        }
      }
      await runDaemon(config, options.traceWire ? { traceWire: resolve(options.traceWire) } : {}).catch(fail);
      process.exit(0);
    });

  socketOptions(
    program.command('status').description('register, shift, FN, OFD backlog, outbox and blocked jobs'),
  ).action(async (options: { socket?: string; config?: string; json: boolean }) => {
    const status = await call(options, 'status');
    print(status, options.json, renderStatus);
  });

  socketOptions(
    program
      .command('fiscalize')
      .description('fetch a bill from a connector and fiscalize it (nothing prints twice)')
      .option('--account <id>', 'bridge account')
      .option('--connector <name>', 'connector name, e.g. bridge:120')
      .option('--number <n>', 'bill number')
      .option('--id <billId>', 'bill id')
      .addOption(new Option('--payment <type>', 'payment type').choices(['card', 'cash'])),
  ).action(
    async (options: {
      socket?: string;
      config?: string;
      json: boolean;
      account?: string;
      connector?: string;
      number?: string;
      id?: string;
      payment?: 'card' | 'cash';
    }) => {
      const result = (await call(options, 'fiscalize', {
        account: options.account,
        connector: options.connector,
        number: options.number,
        billId: options.id,
        payment: options.payment,
      })) as { job: JobRow; duplicate: boolean };
      print(
        result,
        options.json,
        (r: typeof result) =>
          `${r.duplicate ? 'Already known, nothing printed again' : 'Queued'}: job ${r.job.id} (${r.job.state}) for bill ${r.job.key}`,
      );
    },
  );

  const report = program.command('report').description('reports');
  socketOptions(report.command('x').description('print an X report').option('--device <id>')).action(
    async (options: { socket?: string; config?: string; json: boolean; device?: string }) => {
      print(
        await call(options, 'report.x', { device: options.device }),
        options.json,
        () => 'X report printed.',
      );
    },
  );

  const shift = program.command('shift').description('open or close the shift');
  for (const action of ['open', 'close'] as const) {
    socketOptions(
      shift
        .command(action)
        .description(`${action} the shift${action === 'close' ? ' (Z report)' : ''}`)
        .option('--device <id>'),
    ).action(async (options: { socket?: string; config?: string; json: boolean; device?: string }) => {
      const result = await call(options, `shift.${action}`, { device: options.device }, 180_000);
      print(
        result,
        options.json,
        (r: { shiftNumber: number; fiscalDocumentNumber?: number }) =>
          `Shift ${r.shiftNumber} ${action === 'open' ? 'opened' : 'closed'}${r.fiscalDocumentNumber ? ` (FD ${r.fiscalDocumentNumber})` : ''}.`,
      );
    });
  }

  const cash = program.command('cash').description('cash in or out of the drawer');
  for (const action of ['in', 'out'] as const) {
    socketOptions(
      cash
        .command(action)
        .description(`cash ${action}`)
        .argument('<amount>', 'roubles, e.g. 1500.00', amountArg)
        .option('--device <id>'),
    ).action(
      async (
        amountMinor: number,
        options: { socket?: string; config?: string; json: boolean; device?: string },
      ) => {
        const result = await call(options, `cash.${action}`, {
          device: options.device,
          amountMinor,
        });
        print(result, options.json, () => `Cash ${action}: ${money(amountMinor)}.`);
      },
    );
  }

  const outbox = program.command('outbox').description('reports waiting for the cloud');
  socketOptions(
    outbox
      .command('list')
      .option('--sink <name>')
      .addOption(new Option('--state <state>').choices(['pending', 'delivered', 'dead'])),
  ).action(
    async (options: { socket?: string; config?: string; json: boolean; sink?: string; state?: string }) => {
      const result = (await call(options, 'outbox.list', {
        sink: options.sink,
        state: options.state,
      })) as {
        entries: Array<{
          id: string;
          sink: string;
          kind: string;
          jobId?: string;
          state: string;
          createdAt: string;
          lastError?: { message: string };
        }>;
      };
      print(result, options.json, (r: typeof result) =>
        r.entries.length === 0
          ? 'The outbox is empty.'
          : table(
              ['entry', 'sink', 'kind', 'job', 'state', 'age', 'error'],
              r.entries.map((e) => [
                e.id.slice(0, 8),
                e.sink,
                e.kind,
                e.jobId,
                e.state,
                age(e.createdAt),
                e.lastError?.message,
              ]),
            ),
      );
    },
  );
  socketOptions(outbox.command('retry').description('retry dead reports now').option('--sink <name>')).action(
    async (options: { socket?: string; config?: string; json: boolean; sink?: string }) => {
      const result = await call(options, 'outbox.retry', { sink: options.sink });
      print(
        result,
        options.json,
        (r: { moved: number }) => `${r.moved} report(s) moved back to pending; pending ones are retried now.`,
      );
    },
  );

  const jobs = program.command('jobs').description('fiscalization jobs');
  socketOptions(
    jobs
      .command('list')
      .addOption(
        new Option('--state <state>').choices([
          'RECEIVED',
          'PRINTING',
          'FISCALIZED',
          'REPORTED',
          'FAILED',
          'BLOCKED',
        ]),
      )
      .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 50),
  ).action(
    async (options: { socket?: string; config?: string; json: boolean; state?: string; limit: number }) => {
      const result = (await call(options, 'jobs.list', {
        state: options.state,
        limit: options.limit,
      })) as { jobs: JobRow[] };
      print(result, options.json, (r: typeof result) =>
        r.jobs.length === 0 ? 'No jobs.' : jobsTable(r.jobs),
      );
    },
  );
  socketOptions(jobs.command('show').argument('<id>')).action(
    async (id: string, options: { socket?: string; config?: string; json: boolean }) => {
      const result = await call(options, 'jobs.show', { id });
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    },
  );
  socketOptions(
    jobs
      .command('resolve')
      .description('decide a BLOCKED job: was its receipt printed?')
      .argument('<id>')
      .option('--printed', 'the receipt exists: report it, never print again')
      .option(
        '--not-printed',
        "no receipt was made: print it now (refused when the register's FN holds the job's marker)",
      )
      .option(
        '--force',
        'with --not-printed: take it although the register cannot be searched (a typed warning)',
        false,
      )
      .option('--note <text>'),
  ).action(
    async (
      id: string,
      options: {
        socket?: string;
        config?: string;
        json: boolean;
        printed?: boolean;
        notPrinted?: boolean;
        note?: string;
        force: boolean;
      },
    ) => {
      if (Boolean(options.printed) === Boolean(options.notPrinted))
        fail(new KktAgentError('CLI_USAGE', 'Give exactly one of --printed or --not-printed.'));
      if (options.force && !options.notPrinted)
        fail(new KktAgentError('CLI_USAGE', '--force goes with --not-printed only.'));
      const result = (await call(options, 'jobs.resolve', {
        id,
        printed: Boolean(options.printed),
        by: `cli:${process.env.SUDO_USER ?? process.env.USER ?? 'unknown'}`,
        note: options.note,
        force: options.force,
      }).catch(fail)) as { job: JobRow; checked?: string; warning?: { code: string; message: string } };
      if (result.warning)
        process.stderr.write(`kkt-agent: warning: ${result.warning.message} [${result.warning.code}]\n`);
      print(
        result,
        options.json,
        (r: typeof result) =>
          `Job ${r.job.id} is now ${r.job.state}.${r.checked ? `\nChecked: ${r.checked}.` : ''}`,
      );
    },
  );

  const config = program.command('config').description('configuration files');
  config
    .command('validate')
    .argument('[file]', 'config file', undefined)
    .action(async (file: string | undefined) => {
      const path = configPath(file);
      const parsed = await loadConfig(path).catch(fail);
      const warnings = configWarnings(parsed);
      process.stdout.write(
        `${keyValues([
          ['file', path],
          ['valid', 'yes'],
          ['devices', parsed.devices.map((d) => `${d.id} (${d.kind})`).join(', ')],
          ['cashiers', parsed.devices.map((d) => `${d.id}: ${cashierOf(d)}`).join(', ')],
          ['bridge accounts', parsed.connectors.bridge.map((a) => a.id).join(', ') || 'none'],
          ['warnings', warnings.length],
        ])}\n`,
      );
      for (const warning of warnings) process.stderr.write(`kkt-agent: warning: ${warning}\n`);
    });
  config
    .command('schema')
    .description('print the JSON Schema of the config file (for editors)')
    .option('-o, --output <file>')
    .action((options: { output?: string }) => {
      const text = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
      if (options.output) writeFileSync(options.output, text);
      else process.stdout.write(text);
    });

  program
    .command('demo')
    .description('run the agent end to end on the built-in emulators (no hardware, no network)')
    .option('--once', 'stop after one round of sample bills (exit 0 when all went through)')
    .action(async (options: { once?: boolean }) => {
      // The demo (emulators, the embedded broker) is loaded only for `demo`, never by `run` (issue 17).
      const { runDemo } = await import('./demo.js');
      const ok = await runDemo({ once: Boolean(options.once) });
      process.exit(ok ? 0 : 1);
    });

  registerDoctorCommand(program, cliHelpers);
  registerRecoverCommand(program, cliHelpers);
  registerEmulatorCommands(program);
  registerMoyskladCommands(program);
  registerKindCommands(program, cliHelpers);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    fail(error);
  }
}
