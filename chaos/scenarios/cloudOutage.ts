import { median } from '../../bench/lib/stats.js';
import { ChaosRig, sleep } from '../lib/rig.js';
import type { Scenario } from '../lib/scenario.js';

/**
 * Time compression: production backs off from 1 s to a 300 s cap; here 10 ms to 300 ms, so the cap is
 * 1000 times shorter and a simulated hour of outage lasts 3.6 real seconds. The number of retries per cap
 * period and the shape of the backoff are the same; only the clock runs faster.
 */
const COMPRESSION = 1000;
const INITIAL_BACKOFF_MS = 10;
const MAX_BACKOFF_MS = 300;

export const cloudOutageScenario: Scenario = {
  name: 'cloud-outage',
  title: 'Cloud outage of simulated hours',
  description:
    'The bridge serves the bills but refuses every ReceiptCreated (HTTP 503) while they print and for most ' +
    'of the outage after that; for its last fifth it is gone entirely (connection refused); then it comes ' +
    `back. Time is compressed ${COMPRESSION}×: the outbox backs off from ${INITIAL_BACKOFF_MS} ms to a ` +
    `${MAX_BACKOFF_MS} ms cap (production: 1 s to 300 s), so one simulated hour is 3.6 s. The refused attempts ` +
    'are logged by the bridge: their gaps show the backoff growing to its cap once no new receipt arrives.',
  async run({ quick, log }) {
    const bills = quick ? 100 : 1000;
    const simulatedHours = quick ? 1 : 6;
    const outageMs = (simulatedHours * 3_600_000) / COMPRESSION;
    const rig = await ChaosRig.open({
      bills,
      latencyMs: 0,
      asyncLatencyMs: 1,
      outbox: { initialBackoffMs: INITIAL_BACKOFF_MS, maxBackoffMs: MAX_BACKOFF_MS },
    });
    try {
      const attempts: number[] = [];
      rig.bridge.events.on('request', (request) => {
        if (request.endpoint === 'receipts') attempts.push(Date.now());
      });
      rig.bridge.setFault({ kind: 'rejectReceipts', status: 503 });
      const outageStarted = Date.now();
      rig.supervisor.start();
      // While bills print, the bridge must still serve LIST and BILL.
      await rig.untilPrinted(bills, 120_000 + bills * 300);
      const printedAt = Date.now();
      const whilePrinting = attempts.length;
      const refusedUntil = outageStarted + outageMs * 0.8;
      await sleep(Math.max(1000, refusedUntil - Date.now()));
      const idleAttempts = attempts.filter((at) => at > printedAt + MAX_BACKOFF_MS * 2);
      const gaps = idleAttempts.slice(1).map((at, i) => at - idleAttempts[i]!);
      await rig.bridge.down();
      await sleep(Math.max(500, outageStarted + outageMs - Date.now()));
      const outageRealMs = Date.now() - outageStarted;
      const deliveredDuringOutage = rig.verdict().delivered;
      await rig.bridge.up();
      rig.bridge.clearFaults();
      const cameBack = Date.now();
      const settled = await rig.settle(60_000 + bills * 100);
      const drainMs = Date.now() - cameBack - 1000;
      log(`  printed after ${printedAt - outageStarted} ms; ${attempts.length} refused attempts`);
      return [
        {
          scenario: `Cloud outage, ${simulatedHours} simulated h`,
          runs: 1,
          ...rig.verdict(),
          gated: true,
          notes:
            `${(outageRealMs / 1000).toFixed(1)} s real = ${((outageRealMs * COMPRESSION) / 3_600_000).toFixed(1)} h ` +
            `simulated; ${attempts.length} refused attempts (${whilePrinting} while printing: each new receipt ` +
            `wakes the outbox); once idle, gaps between attempts median ${Math.round(median(gaps))} ms, longest ` +
            `${gaps.length > 0 ? Math.max(...gaps) : 0} ms (cap ${MAX_BACKOFF_MS} ms, jitter in its upper half); ` +
            `${deliveredDuringOutage} delivered during the outage; drained in ${(drainMs / 1000).toFixed(1)} s ` +
            `after it came back` +
            (await rig.unsettledNote(settled)),
        },
      ];
    } finally {
      await rig.close();
    }
  },
};
