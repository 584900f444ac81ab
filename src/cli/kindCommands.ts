import { type Command, InvalidArgumentError, Option } from 'commander';
import { parseQuantityMilli } from '../agent/domain/quantity.js';
import { RECEIPT_KIND_NAMES } from '../agent/domain/receiptKind.js';
import { type CliHelpers, socketOptions } from './cliHelpers.js';

/**
 * `kkt-agent refund` and `kkt-agent correct`: a return built from an earlier job's positions, a correction
 * of a settlement (docs/fiscalization.md, "Receipt kinds"). Both ask the running agent, which checks them
 * like any bill; a refused request prints the field and the reason and leaves nothing behind.
 */

/** `1,3:0.5` → position 1 whole, position 3 half (positions numbered from 1 as `jobs show` lists them). */
export function parsePositions(text: string): Array<{ index: number; quantityMilli?: number }> {
  return text.split(',').map((part) => {
    const [number, quantity] = part.trim().split(':');
    const index = Number(number);
    if (!Number.isInteger(index) || index < 1)
      throw new InvalidArgumentError(`"${part}": expected a position number from 1, optionally :quantity`);
    if (quantity === undefined) return { index: index - 1 };
    try {
      return { index: index - 1, quantityMilli: parseQuantityMilli(quantity, `positions ${index}`) };
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  });
}

interface Queued {
  job: { id: string; state: string; key: string; kind: string };
  duplicate: boolean;
}

const queued = (r: Queued) =>
  `${r.duplicate ? 'Already known, nothing printed again' : 'Queued'}: ${r.job.kind} job ${r.job.id} (${r.job.state}) for ${r.job.key}`;

const contact = (options: { email?: string; phone?: string }) => options.email ?? options.phone;

export function registerKindCommands(program: Command, helpers: CliHelpers): void {
  const { call, print } = helpers;
  socketOptions(
    program
      .command('refund')
      .description("return (part of) a printed job's receipt; never more than was sold")
      .argument('<jobId>')
      .option(
        '--positions <list>',
        'positions to return, numbered from 1, e.g. 1,3:0.5 (default: all)',
        parsePositions,
      )
      .addOption(new Option('--payment <type>', 'how the money goes back').choices(['cash', 'card']))
      .option('--email <address>', "the buyer's e-mail for the receipt (tag 1008)")
      .option('--phone <number>', "the buyer's phone for the receipt (tag 1008)"),
  ).action(
    async (
      jobId: string,
      options: {
        socket?: string;
        config?: string;
        json: boolean;
        positions?: Array<{ index: number; quantityMilli?: number }>;
        payment?: 'cash' | 'card';
        email?: string;
        phone?: string;
      },
    ) => {
      const result = (await call(options, 'refund', {
        jobId,
        positions: options.positions,
        payment: options.payment,
        emailOrPhone: contact(options),
      })) as Queued;
      print(result, options.json, queued);
    },
  );

  socketOptions(
    program
      .command('correct')
      .description('a correction receipt for a job: never receipted (FAILED) or printed with wrong data')
      .argument('<jobId>')
      .requiredOption('--date <YYYY-MM-DD>', 'the day of the settlement corrected (tag 1178)')
      .addOption(
        new Option('--kind <kind>', 'the correction kind (default: what the job calls for)').choices(
          RECEIPT_KIND_NAMES.filter((k) => k.endsWith('Correction')),
        ),
      )
      .option('--order-number <n>', "the tax office's order: a correction by order (1173 = 1, tag 1179)"),
  ).action(
    async (
      jobId: string,
      options: {
        socket?: string;
        config?: string;
        json: boolean;
        date: string;
        kind?: string;
        orderNumber?: string;
      },
    ) => {
      const result = (await call(options, 'correct', {
        jobId,
        date: options.date,
        kind: options.kind,
        ...(options.orderNumber ? { type: 'instruction', orderNumber: options.orderNumber } : {}),
      })) as Queued;
      print(result, options.json, queued);
    },
  );
}
