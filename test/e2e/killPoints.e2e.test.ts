import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type KillOutcome,
  type KillPointRig,
  openKillPointRig,
  PROTOCOL_KILLS,
  STORE_KILLS,
} from '../support/killPoints.js';

/**
 * The kill-point matrix: a real agent process is SIGKILLed after each protocol step of a 5-position
 * receipt and around each store transaction, then started again. Whatever the moment, the bill must end up
 * as exactly one fiscal document, its job must carry that document's data, and the cloud must receive
 * exactly one distinct report for it. The harness is shared with the chaos suite (`npm run chaos`).
 */

let rig: KillPointRig;

beforeEach(async () => {
  rig = await openKillPointRig();
});

afterEach(async () => {
  await rig.close();
});

/** The promise after any kill: one document, the right data, one report. */
function verify(outcome: KillOutcome) {
  const ours = outcome.receipts.filter((r) => r.marker === outcome.job.id);
  expect(outcome.receipts).toHaveLength(1);
  expect(ours).toHaveLength(1);
  expect(ours[0]?.totalKop).toBe(279_718);
  expect(outcome.job.fiscal).toMatchObject({
    fiscalDocumentNumber: ours[0]?.documentNumber,
    fiscalSign: ours[0]?.fiscalSign,
  });
  expect(outcome.eventIds).toHaveLength(1);
  expect(outcome.events[0]).toMatchObject({ totalAmount: 2797.18, extras: { billId: '500001' } });
}

describe('SIGKILL after each protocol step of a 5-position receipt', () => {
  it.each(PROTOCOL_KILLS)('$step', { timeout: 60_000 }, async (kill) => {
    await rig.killAfterCommand(kill);
    verify(await rig.restartUntilReported());
  });
});

describe('SIGKILL around each store transaction', () => {
  it.each(STORE_KILLS)('%s', { timeout: 60_000 }, async (point) => {
    const crashed = await rig.crashAt(point);
    expect(crashed.signal).toBe('SIGKILL');
    expect(crashed.output).toContain(`crash point ${point} reached`);
    verify(await rig.restartUntilReported());
  });
});
