import type { ChildProcess } from 'node:child_process';
import type { MockBridge, MockBridgeReceipt } from '../../src/emulators/bridge/index.js';
import { bridgeBill } from '../../test/support/bridgeBills.js';

/**
 * Feeds `receipts` bills to an agent through the mock bridge as a real bridge shows them (issue 17): its
 * LIST holds at most `window` unreported bills (a day's worth, default 300); a bill leaves LIST once its
 * receipt has reached the bridge and the next one takes its place. Resolves when every receipt arrived.
 */
export async function feedLikeBridge(
  bridge: MockBridge,
  agent: ChildProcess,
  options: { receipts: number; firstBillId: number; window?: number; timeoutMs?: number },
): Promise<{ seconds: number }> {
  const window = options.window ?? 300;
  let added = 0;
  let reported = 0;
  const addNext = () => {
    if (added >= options.receipts) return;
    bridge.addBill(bridgeBill(options.firstBillId + added));
    added += 1;
  };
  const onReceipt = (receipt: MockBridgeReceipt) => {
    const billId = (receipt.body as { data?: { extras?: { billId?: string } } }).data?.extras?.billId;
    if (billId !== undefined && bridge.removeBill(billId)) {
      reported += 1;
      addNext();
    }
  };
  bridge.events.on('receipt', onReceipt);
  const started = performance.now();
  const deadline = started + (options.timeoutMs ?? 120_000 + options.receipts * 200);
  try {
    for (let i = 0; i < Math.min(window, options.receipts); i++) addNext();
    while (reported < options.receipts) {
      if (performance.now() > deadline) {
        throw new Error(`bench: ${reported} of ${options.receipts} receipts reported in time`);
      }
      if (agent.exitCode !== null || agent.signalCode !== null) throw new Error('bench: the agent exited');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return { seconds: (performance.now() - started) / 1000 };
  } finally {
    bridge.events.off('receipt', onReceipt);
  }
}
