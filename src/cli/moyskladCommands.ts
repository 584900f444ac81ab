import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
// wire.js is loaded with the config schema anyway; pairing (and its client) only by these commands.
import { DEFAULT_BASE_URL } from '../agent/connectors/moysklad/wire.js';
import { KktAgentError } from '../lib/errors.js';
import { table } from './format.js';

/**
 * `kkt-agent moysklad …`: pairing with a MoySklad retail store. The admin password is read from a file
 * (never from the command line, where `ps` and the shell history would show it) and is not stored.
 */

interface AdminOptions {
  login: string;
  passwordFile: string;
  baseUrl: string;
  timeout?: number;
}

async function readPassword(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new KktAgentError(
      'MOYSKLAD_PASSWORD_FILE',
      `Cannot read the password file ${path}: ${(error as Error).message}`,
      {
        path,
      },
    );
  }
  // One line; the trailing newline an editor or `echo` adds is not part of the password.
  const password = text.replace(/\r?\n$/, '');
  if (password === '')
    throw new KktAgentError('MOYSKLAD_PASSWORD_FILE', `The password file ${path} is empty.`, { path });
  return password;
}

function report(error: unknown): void {
  const known = error instanceof KktAgentError;
  process.stderr.write(`kkt-agent: ${known ? `${error.message} [${error.code}]` : String(error)}\n`);
  process.exitCode = 1;
}

const milliseconds = (value: string) => {
  const parsed = Number.parseInt(value, 10);
  if (!Number.isInteger(parsed) || parsed < 100) throw new Error(`not a timeout in ms: ${value}`);
  return parsed;
};

export function registerMoyskladCommands(program: Command): void {
  const moysklad = program
    .command('moysklad')
    .description('MoySklad POS API (posap 1.0): pair with a retail store');

  const adminOptions = (command: Command) =>
    command
      .requiredOption('--login <login>', 'MoySklad admin login, e.g. admin@shop')
      .requiredOption('--password-file <file>', 'file holding the admin password (one line)')
      .option('--base-url <url>', 'posap root', DEFAULT_BASE_URL)
      .option('--timeout <ms>', 'per request', milliseconds);

  adminOptions(moysklad.command('stores').description('list the retail stores of the account')).action(
    async (options: AdminOptions) => {
      try {
        const { listRetailStores } = await import('../agent/connectors/moysklad/pairing.js');
        const stores = await listRetailStores({
          login: options.login,
          password: await readPassword(options.passwordFile),
          baseUrl: options.baseUrl,
          ...(options.timeout ? { timeoutMs: options.timeout } : {}),
        });
        process.stdout.write(
          `${table(
            ['id', 'name', 'device attached'],
            stores.map((store) => [store.id, store.name, store.authTokenAttached ? 'yes' : 'no']),
          )}\n`,
        );
      } catch (error) {
        report(error);
      }
    },
  );

  adminOptions(
    moysklad
      .command('pair')
      .description('attach this agent to a retail store and write its token to a 0600 credentials file'),
  )
    .option('--store <name|id>', 'the retail store (needed when the account has several)')
    .requiredOption(
      '--out <file>',
      'credentials file to write (the connector config names it in credentialsFile)',
    )
    .option('--force', 'attach even if another device holds the store (it stops syncing)')
    .action(async (options: AdminOptions & { store?: string; out: string; force?: boolean }) => {
      try {
        const { pairMoysklad } = await import('../agent/connectors/moysklad/pairing.js');
        const result = await pairMoysklad({
          login: options.login,
          password: await readPassword(options.passwordFile),
          out: options.out,
          baseUrl: options.baseUrl,
          ...(options.store !== undefined ? { store: options.store } : {}),
          ...(options.force ? { force: true } : {}),
          ...(options.timeout ? { timeoutMs: options.timeout } : {}),
        });
        for (const warning of result.warnings) process.stderr.write(`kkt-agent: warning: ${warning}\n`);
        process.stdout.write(
          `Paired with retail store "${result.store.name}" (${result.store.id}) as cashier ${result.cashierUid}.\n` +
            `Credentials written to ${result.path} (mode 0600). Restart the agent to use them.\n`,
        );
      } catch (error) {
        report(error);
      }
    });
}
