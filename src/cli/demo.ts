import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../agent/config/config.js';
import { type RunningDaemon, startDaemon } from '../agent/daemon.js';
import type { Job } from '../agent/jobs/job.js';
import { startAtolEmulator } from '../emulators/atol/index.js';
import { startMockBridge } from '../emulators/bridge/index.js';
import { money } from './format.js';

export interface DemoOptions {
  /** Stop after every sample bill is fiscalized and reported (exit 0). */
  once: boolean;
  out?: NodeJS.WritableStream;
  /** Give up a `--once` round after this long. */
  timeoutMs?: number;
}

const DEMO_TIME_ZONE = 'Europe/Moscow';

/**
 * `kkt-agent demo`: everything on this machine, no hardware, no network. The ATOL emulator plays the
 * register, a mock CRM bridge serves sample bills, and the real agent polls, fiscalizes and reports.
 */
export async function runDemo(options: DemoOptions): Promise<boolean> {
  const out = options.out ?? process.stdout;
  const say = (text: string) => out.write(`${text}\n`);
  const dir = await mkdtemp(join(tmpdir(), 'kkt-agent-demo-'));
  const emulator = await startAtolEmulator({
    port: 0,
    persist: false,
    timeZone: DEMO_TIME_ZONE,
    zReportStepMs: 100,
  });
  const bridge = await startMockBridge({ port: 0, timeZone: DEMO_TIME_ZONE, system: 'demo-crm' });
  let daemon: RunningDaemon | undefined;

  emulator.on('printed', (printout) => say(`\n${printout.text}`));
  bridge.events.on('receipt', (receipt) => {
    const body = receipt.body as {
      data?: { extras?: { number?: string }; totalAmount?: number; dateTime?: string };
    };
    say(
      `◀ ReceiptCreated posted to the CRM: bill ${body.data?.extras?.number}, total ${body.data?.totalAmount}, ${body.data?.dateTime}`,
    );
    say(`  ${JSON.stringify(receipt.body)}`);
  });

  try {
    const config = parseConfig({
      dataDir: join(dir, 'data'),
      timeZone: DEMO_TIME_ZONE,
      log: { level: 'warn' },
      devices: [
        {
          id: 'kkt',
          kind: 'atol',
          link: { type: 'tcp', host: '127.0.0.1', port: emulator.port },
          operator: { name: 'Демо Кассир' },
          taxationType: 'osn',
        },
      ],
      connectors: {
        bridge: [
          {
            id: 'demo',
            baseUrl: bridge.url,
            autoFiscalize: { enabled: true, intervalMs: 1000 },
            defaultPayment: 'card',
          },
        ],
      },
    });
    say(`kkt-agent demo: ATOL emulator on 127.0.0.1:${emulator.port}, mock CRM bridge on ${bridge.url}`);
    say(
      `The agent polls the bridge, prints each bill on the register exactly once and posts a ReceiptCreated event back.`,
    );
    daemon = await startDaemon(config);
    const agent = daemon.agent;
    agent.jobs.on('changed', (job: Job) => {
      if (job.state === 'RECEIVED' && job.attempts === 0) {
        say(
          `▶ bill ${job.summary.number} (${job.bill?.positions.length ?? 0} position(s), ${money(job.summary.totalMinor)} ${job.summary.currency}) → job ${job.id}`,
        );
      } else if (job.state === 'FAILED') {
        say(`✗ bill ${job.summary.number}: ${job.failure?.message}`);
      }
    });
    if (!options.once) {
      say('Ctrl-C stops the demo.');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      return true;
    }
    const expected = bridge.bills().length;
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      const jobs = agent.jobs.all();
      const done = jobs.filter((job) => job.state === 'REPORTED' || job.state === 'FAILED').length;
      if (jobs.length >= expected && done === jobs.length) break;
      if (Date.now() > deadline) {
        say(`The demo round did not finish in time: ${done} of ${expected} bills done.`);
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const reported = agent.jobs.inState('REPORTED').length;
    say(
      `\nDone: ${reported} receipt(s) printed and reported, ${emulator.device.lastDocumentNumber} fiscal documents on the register, ${bridge.receipts.length} events received by the CRM.`,
    );
    return reported > 0;
  } finally {
    await daemon?.stop('demo finished');
    await bridge.close();
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  }
}
