import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  INTENT_RESULT_CODES,
  IntentResultError,
  IntentTerminal,
  RESULT_CODE_OK,
} from '../../src/drivers/intent/index.js';
import { type IntentEmulator, startIntentEmulator } from '../../src/emulators/intent/index.js';
import { cashSale } from './support.js';

let emulator: IntentEmulator;
let terminal: IntentTerminal;

beforeAll(async () => {
  // Without a token requirement, so that 401 and 405 reach the driver as plain answers to a SALE.
  emulator = await startIntentEmulator({ cardWaitMs: 0, requireToken: false });
  terminal = new IntentTerminal({ baseUrl: emulator.url, saleTimeoutMs: 5_000 });
});

afterAll(async () => {
  await emulator.close();
});

const refusals = INTENT_RESULT_CODES.filter((row) => row.resultCode !== RESULT_CODE_OK);

describe('every documented resultCode arrives as its typed error', () => {
  it.each(refusals.map((row) => [row.resultCode, row] as const))('resultCode %i', async (resultCode, row) => {
    emulator.setFault({ kind: 'resultCode', resultCode });
    const error = await terminal
      .sale(cashSale(), { operationId: `rc-${resultCode}` })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IntentResultError);
    expect(error).toMatchObject({
      code: row.code,
      resultCode,
      terminalMessage: row.terminalText,
      terminalTitle: 'Ошибка',
      outcome: 'refused',
      intent: 'SALE',
    });
  });

  it('keeps the number of an undocumented code', async () => {
    emulator.setFault({ kind: 'resultCode', resultCode: 427, messageDetail: 'Неизвестная ошибка' });
    const error = await terminal
      .sale(cashSale(), { operationId: 'rc-427' })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'INTENT_UNKNOWN_RESULT_CODE',
      resultCode: 427,
      terminalMessage: 'Неизвестная ошибка',
      outcome: 'refused',
    });
  });

  it('sold nothing while refusing', () => {
    expect(emulator.sales).toHaveLength(0);
  });
});
