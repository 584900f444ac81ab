import { performance } from 'node:perf_hooks';
import { unitNodeFlags } from '../test/support/unitFlags.js';
import { benchAgentOverhead } from './agentOverhead.js';
import { benchAges } from './ages.js';
import { agesMarkdown } from './agesReport.js';
import { benchAgentAnatomy, benchNodeFloor } from './anatomy.js';
import { benchBridgePolling } from './bridgePolling.js';
import { benchDriver } from './driver.js';
import { benchFsyncs } from './fsyncs.js';
import { benchJournal } from './journal.js';
import { machineInfo, machineMarkdown } from './lib/machine.js';
import { kib, mib, ms, num, table } from './lib/markdown.js';
import { parseRunOptions } from './lib/options.js';
import { errorText, exitWhenDone, writeRunDocument } from './lib/runDocument.js';
import { median } from './lib/stats.js';
import { benchMemory } from './memory.js';
import { benchMoysklad } from './moysklad.js';
import { benchMqttLatency } from './mqttLatency.js';
import { benchOutboxDrain } from './outboxDrain.js';
import { benchReadyFootprint } from './readyFootprint.js';
import { benchRebuild } from './rebuild.js';
import { benchStartup } from './startup.js';
import { benchThroughput } from './throughput.js';
import { benchWarmup } from './warmup.js';

/**
 * `npm run bench`: runs every bench (each a module with one job), takes the median of several runs, and
 * writes docs/BENCHMARKS.md. `--quick` is the CI form: small N, one run, written to a temp file (and
 * stdout), never over the published figures. A bench that throws fails the run (exit 1); a slow figure
 * does not.
 */

const options = parseRunOptions(process.argv.slice(2));
const quick = options.quick;

const size = {
  runs: quick ? 1 : 5,
  heavyRuns: quick ? 1 : 3,
  driverReceipts: quick ? 30 : 300,
  rebuildReceipts: quick ? 50 : 500,
  overheadReceipts: quick ? 30 : 300,
  journalExisting: 10_000,
  journalAppends: quick ? 100 : 1000,
  throughputJobs: quick ? 50 : 500,
  mqttBills: quick ? 100 : 1000,
  pollBills: quick ? 5 : 40,
  pollIntervalMs: quick ? 300 : 1000,
  drainReceipts: quick ? 300 : 10_000,
  drainScaleReceipts: quick ? 0 : 1000,
  moyskladDocuments: quick ? 20 : 10_000,
  memoryReceipts: quick ? 100 : 5_000,
  startupRuns: quick ? 2 : 7,
  fsyncReceipts: quick ? 30 : 300,
  ages: options.ages ?? (quick ? [0, 30] : [0, 30, 365, 1825]),
  ageStarts: quick ? 1 : 3,
  growthAges: options.ages ? [options.ages.at(-1)!] : quick ? [30] : [1825],
  growthReceipts: options.receipts ?? (quick ? 100 : 20_000),
  ageFsyncReceipts: quick ? 0 : 300,
  readyFootprintRuns: quick ? 1 : 3,
  warmupCheckpoints: quick ? [0, 50] : [0, 500, 5_000, 10_000, 20_000],
};

interface Section {
  name: string;
  title: string;
  run: () => Promise<string>;
}

async function repeat<T>(times: number, bench: () => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < times; i++) results.push(await bench());
  return results;
}

const med = <T>(results: readonly T[], pick: (result: T) => number) => median(results.map(pick));
const runsNote = (runs: number) => (runs === 1 ? 'one run' : `median of ${runs} runs`);

/** The kernel's count of the agent's fsyncs (strace), beside the store's own counter. */
async function fsyncParagraph(): Promise<string> {
  const measured = await benchFsyncs({ receipts: size.fsyncReceipts });
  if ('skipped' in measured) return `fsyncs counted by the kernel: not measured here (${measured.skipped}).`;
  return (
    `Counted by the kernel (\`strace -f -c -e trace=fsync,fdatasync\` attached to a real \`kkt-agent run\`, ` +
    `one register, one bridge account, ${measured.receipts} bills polled, printed and reported): ` +
    `**${num(measured.perReceipt, 2)} fsyncs per receipt** (${measured.fsync} fsync + ${measured.fdatasync} ` +
    `fdatasync calls), everything the process syncs included.`
  );
}

const sections: Section[] = [
  {
    name: 'rebuild',
    title: 'Rebuilding a lost store from the register',
    run: async () => {
      const results = await repeat(size.heavyRuns, () => benchRebuild({ receipts: size.rebuildReceipts }));
      const first = results[0]!;
      return [
        `A new store reads the FN back from its last document (docs/fiscalization.md §7), as the agent does on a ` +
          `fresh SD card: ${size.rebuildReceipts} receipts of ours (3 positions, marker in tag 1192) and the shift ` +
          `opening on the zero-latency emulator in another process, read through the protocol v3 driver; ` +
          `${runsNote(size.heavyRuns)}. A receipt is read until it has its marker, the tags matching needs and its positions ` +
          '(on the emulator the marker comes after the payment totals: one tag, 1055, is left unread), other ' +
          'documents to their date-time. A real register answers slower than the emulator: the round trips per document are the ' +
          'figure that carries over.',
        '',
        table(
          ['figure', 'value'],
          [
            ['documents read', num(first.documentsRead, 0)],
            ['receipts of ours found', num(first.receiptsFound, 0)],
            ['wall time of the read', ms(med(results, (r) => r.wallMs))],
            ['documents per second', num(med(results, (r) => r.documentsPerSecond))],
            [
              'commands per document',
              num(
                med(results, (r) => r.commandsPerDocument),
                1,
              ),
            ],
            [
              'transport round trips per document',
              num(
                med(results, (r) => r.roundTripsPerDocument),
                1,
              ),
            ],
            [
              'bytes read per document',
              num(
                med(results, (r) => r.bytesReadPerDocument),
                0,
              ),
            ],
          ],
        ),
      ].join('\n');
    },
  },
  {
    name: 'driver',
    title: 'Driver: one 10-position receipt',
    run: async () => {
      const results = await repeat(size.runs, () => benchDriver({ receipts: size.driverReceipts }));
      return [
        `\`Kkt.sell\` of a 10-position receipt as the agent maps a bill (operator, marker in tag 1192), read-back ` +
          `of the fiscal document included, against the zero-latency emulator (FFD 1.2) in another process. ` +
          `Before issue 16 a receipt took 48 commands and 96 host frames (every command C1 + C2). ` +
          `${size.driverReceipts} receipts per run, ${runsNote(size.runs)}. Counts are exact; CPU is this ` +
          `process's \`process.cpuUsage()\` (user + system), the driver's work only.`,
        '',
        table(
          ['per receipt', 'value'],
          [
            ['commands', num(med(results, (r) => r.commandsPerReceipt))],
            ['… of them posted (C1 flags 0, no Ack)', num(med(results, (r) => r.postedCommandsPerReceipt))],
            ['host frames (to the register)', num(med(results, (r) => r.hostFramesPerReceipt))],
            ['device frames (from the register)', num(med(results, (r) => r.deviceFramesPerReceipt))],
            ['transport round trips', num(med(results, (r) => r.roundTripsPerReceipt))],
            [
              'bytes written to the register',
              num(
                med(results, (r) => r.bytesWrittenPerReceipt),
                0,
              ),
            ],
            [
              'bytes read from the register',
              num(
                med(results, (r) => r.bytesReadPerReceipt),
                0,
              ),
            ],
            ['driver CPU time', ms(med(results, (r) => r.cpuMsPerReceipt))],
            ['wall time (round trips on loopback)', ms(med(results, (r) => r.wallMsPerReceipt))],
            [
              'heap kept after a full GC, link still open',
              `${num(med(results, (r) => r.heapRetainedBytesPerReceipt) / 1024)} KiB`,
            ],
          ],
        ),
      ].join('\n');
    },
  },
  {
    name: 'overhead',
    title: 'Agent overhead per receipt',
    run: async () => {
      const on = await repeat(size.heavyRuns, () =>
        benchAgentOverhead({ receipts: size.overheadReceipts, fsync: true }),
      );
      const off = await repeat(size.heavyRuns, () =>
        benchAgentOverhead({ receipts: size.overheadReceipts, fsync: false }),
      );
      const row = (label: string, results: typeof on) => [
        label,
        ms(med(results, (r) => r.overheadMs.p50)),
        ms(med(results, (r) => r.overheadMs.p99)),
        ms(med(results, (r) => r.deviceMs.p50)),
      ];
      return [
        `Definition: from \`intake.submit()\` to the FISCALIZED record on disk, minus the time spent inside the ` +
          `device's \`preparePrint\` and \`print\` (the driver talking to the register). What is left: validation, ` +
          `three journal appends (RECEIVED, PRINTING, FISCALIZED) and their fdatasync, waking the fiscalizer, and ` +
          `the bookkeeping between. One 10-position bill at a time against the zero-latency emulator; ` +
          `${size.overheadReceipts} receipts per run, ${runsNote(size.heavyRuns)}.`,
        '',
        table(
          ['journal', 'overhead p50', 'overhead p99', 'device time p50 (for scale)'],
          [row('fsync on (production)', on), row('fsync off (CPU and scheduling only)', off)],
        ),
      ].join('\n');
    },
  },
  {
    name: 'journal',
    title: 'Store (SQLite)',
    run: async () => {
      const journal = await repeat(size.heavyRuns, () =>
        benchJournal({ existingJobs: size.journalExisting, appends: size.journalAppends }),
      );
      const throughput = await repeat(size.heavyRuns, () => benchThroughput({ jobs: size.throughputJobs }));
      const existing = size.journalExisting.toLocaleString('en-US');
      return [
        `One committed job (\`JobStore.create\`: one transaction, synchronous=FULL) with ${existing} finished ` +
          `jobs (3-position bills) already in the database, ${size.journalAppends} commits per run. The fsync ` +
          `counts come from the throughput run below (the store's commit and checkpoint counters, one report ` +
          `sink, until every job is REPORTED: durable commits + 2 per WAL checkpoint, as docs/storage.md ` +
          `explains and strace confirms); ${runsNote(size.heavyRuns)}.`,
        '',
        table(
          ['figure', 'value'],
          [
            ['commit + fsync p50', ms(med(journal, (r) => r.appendMs.p50))],
            ['commit + fsync p99', ms(med(journal, (r) => r.appendMs.p99))],
            [
              `open with ${existing} finished jobs (${mib(journal[0]!.databaseBytes)})`,
              ms(med(journal, (r) => r.openMs)),
            ],
            [
              'heap kept by the open store, per finished job in it',
              `${num(
                med(journal, (r) => r.heapBytesPerJob),
                1,
              )} B`,
            ],
            [
              'disk per finished job with its bill (3 positions)',
              kib(med(journal, (r) => r.diskBytesPerJob)),
            ],
            ['… once retention dropped the bill', kib(med(journal, (r) => r.slimDiskBytesPerJob))],
            [
              'store transactions per receipt',
              num(
                med(throughput, (r) => r.commitsPerReceipt),
                2,
              ),
            ],
            [
              'fsyncs per receipt',
              num(
                med(throughput, (r) => r.fsyncsPerReceipt),
                2,
              ),
            ],
            [
              '… of which commits',
              num(
                med(throughput, (r) => r.commitFsyncsPerReceipt),
                2,
              ),
            ],
            [
              '… of which WAL checkpoints',
              num(
                med(throughput, (r) => r.checkpointFsyncsPerReceipt),
                2,
              ),
            ],
          ],
        ),
        '',
        await fsyncParagraph(),
        '',
        '### Throughput',
        '',
        `A burst of ${size.throughputJobs} 10-position bills through intake, fiscalizer and outbox (one in-memory ` +
          `sink), fsync on, against the zero-latency emulator: from the first submit to the last FISCALIZED. ` +
          `CPU is the agent process's (driver included); ${runsNote(size.heavyRuns)}.`,
        '',
        table(
          ['figure', 'value'],
          [
            ['jobs per second through the fiscalizer', num(med(throughput, (r) => r.jobsPerSecond))],
            ['agent CPU per receipt (driver included)', ms(med(throughput, (r) => r.cpuMsPerReceipt))],
          ],
        ),
      ].join('\n');
    },
  },
  {
    name: 'latency',
    title: 'Command to first byte: MQTT against bridge polling',
    run: async () => {
      const mqtt = await repeat(quick ? 1 : 3, () => benchMqttLatency({ bills: size.mqttBills }));
      const poll = await benchBridgePolling({ bills: size.pollBills, intervalMs: size.pollIntervalMs });
      const mqttP99 = med(mqtt, (r) => r.firstByteMs.p99);
      const defaultIntervalMs = 30_000;
      return [
        `**MQTT**: from just before the cloud's client publishes \`cmd/fiscalize\` (QoS 1, inline 10-position ` +
          `bill, ${mqtt[0]!.broker} on loopback) to the first byte the driver writes to the register for that ` +
          `bill: broker hop, the command log's "running" record (fsync), validation, the RECEIVED record ` +
          `(fsync), waking the fiscalizer. One bill at a time; ${size.mqttBills} bills per run, ` +
          `${runsNote(mqtt.length)}. Goal p99 ≤ 50 ms: **${mqttP99 <= 50 ? 'met' : 'missed'}**.`,
        '',
        `**Bridge polling**: a bill appears in the mock bridge at a random moment; measured to the first byte ` +
          `for it, with a ${size.pollIntervalMs} ms poll interval (${size.pollBills} bills). "Fetch" is the part ` +
          `from the LIST answer that listed it (then BILL, validation, RECEIVED fsync) to the first byte. With ` +
          `the default 30 s interval the wait is uniform over the interval, so the figure is that wait plus the fetch.`,
        '',
        table(
          ['path', 'p50', 'p99'],
          [
            ['MQTT `cmd/fiscalize` → first byte', ms(med(mqtt, (r) => r.firstByteMs.p50)), ms(mqttP99)],
            [
              `bridge poll every ${size.pollIntervalMs} ms → first byte (measured)`,
              ms(poll.firstByteMs.p50),
              ms(poll.firstByteMs.p99),
            ],
            ['bridge: LIST answer → first byte (fetch)', ms(poll.fetchMs.p50), ms(poll.fetchMs.p99)],
            [
              'bridge poll every 30 s (default) → first byte (wait + fetch)',
              ms(defaultIntervalMs * 0.5 + poll.fetchMs.p50),
              ms(defaultIntervalMs * 0.99 + poll.fetchMs.p99),
            ],
          ],
        ),
      ].join('\n');
    },
  },
  {
    name: 'drain',
    title: 'Outbox drain after an outage',
    run: async () => {
      const drain = await benchOutboxDrain({ receipts: size.drainReceipts });
      const scale =
        size.drainScaleReceipts > 0
          ? await benchOutboxDrain({ receipts: size.drainScaleReceipts })
          : undefined;
      const moysklad = await benchMoysklad({ documents: size.moyskladDocuments });
      const rows: Array<Array<string | number>> = [];
      if (scale) {
        rows.push([
          `${scale.receipts.toLocaleString('en-US')} ReceiptCreated → mock bridge`,
          `${num(scale.receiptsPerSecond)} receipts/s`,
          `${num(scale.seconds)} s (first after ${ms(scale.firstDeliveryMs)})`,
        ]);
      }
      rows.push([
        `${drain.receipts.toLocaleString('en-US')} ReceiptCreated → mock bridge`,
        `${num(drain.receiptsPerSecond)} receipts/s`,
        `${num(drain.seconds)} s (first after ${ms(drain.firstDeliveryMs)}${drain.redeliveries > 0 ? `; ${drain.redeliveries} sent again with the same id` : ''})`,
      ]);
      const lines = [
        `Receipts queued while the cloud refused them, then the agent restarts with the cloud back: measured from ` +
          `the restart (journal load, draft recovery included) to the last event received, fsync on, HTTP on ` +
          `loopback. One run each (the drain is long; its rate is the figure).`,
        '',
        table(['drain', 'rate', 'time'], rows),
        '',
      ];
      lines.push(
        `**MoySklad** (\`bench/moysklad.ts\`, \`benchMoysklad\`): ${moysklad.documents} receipts (plus the shift's open and ` +
          `close) queued while the mock was down, drained through the real connector, client and rate limiter ` +
          `at posap's limit (${moysklad.windowLimit} requests per ${moysklad.windowMs / 1000} s, 5 in flight). ` +
          `The limit MoySklad enforces is per window, so the figure that matters is the busiest window against it ` +
          `(at most 100 %, and no 429). A drain longer than one window's allowance is rate-bound and its average ` +
          `rate is also given against the allowed average (${moysklad.windowLimit / (moysklad.windowMs / 1000)} ` +
          `requests/s); a shorter one is a single burst and has no such share.`,
        '',
        table(
          ['figure', 'value'],
          [
            ['requests accepted', moysklad.requests],
            ['requests per second (first to last accepted)', num(moysklad.requestsPerSecond, 2)],
            [
              `busiest ${moysklad.windowMs / 1000} s window against the limit`,
              `${moysklad.busiestWindowRequests} of ${moysklad.windowLimit} (${num((moysklad.busiestWindowRequests / moysklad.windowLimit) * 100, 1)} %)`,
            ],
            [
              'average rate against the allowed average',
              moysklad.rateBound
                ? `${(moysklad.shareOfAllowedRate * 100).toFixed(1)} %`
                : `not rate-bound (${moysklad.requests} requests fit in one window's allowance)`,
            ],
            ['HTTP 429 answers', moysklad.count429],
            ['drain time', `${num(moysklad.seconds)} s`],
          ],
        ),
      );
      return lines.join('\n');
    },
  },
  {
    name: 'footprint',
    title: 'Memory and start-up',
    run: async () => {
      const unitFlags = unitNodeFlags();
      const settleMs = quick ? 500 : undefined;
      const flagSets = quick ? [unitFlags] : [unitFlags, []];
      const memory = [];
      for (const nodeArgs of flagSets) {
        memory.push(await benchMemory({ receipts: size.memoryReceipts, settleMs, nodeArgs }));
      }
      const ready = await benchReadyFootprint({ runs: size.readyFootprintRuns, nodeArgs: unitFlags });
      const startup = await benchStartup({ runs: size.startupRuns });
      const receipts = size.memoryReceipts.toLocaleString('en-US');
      return [
        `A real \`node bin/kkt-agent.js run\` process (one ATOL register on TCP, one bridge account polled every ` +
          `500 ms), /proc/<pid>/status. "Idle" is read 3 s after it is ready; "after" 2 s after the last of ` +
          `${receipts} bills fed as a bridge shows them (LIST holds at most a day's unreported bills) was polled, ` +
          `printed and reported, fsync on. Once with the Node flags of the systemd unit, once with none: the ` +
          `unit keeps a flag only if it helps here.`,
        '',
        table(
          [
            'Node flags',
            'RSS idle',
            `RSS after ${receipts}`,
            'growth per receipt',
            'peak RSS',
            'CPU per receipt',
            'receipts/s',
          ],
          memory.map((m, i) => [
            flagSets[i]!.length === 0 ? 'none' : `\`node ${flagSets[i]!.join(' ')}\` (the unit's)`,
            mib(m.idleRssBytes),
            mib(m.afterRssBytes),
            `${num((m.afterRssBytes - m.idleRssBytes) / m.receipts / 1024, 2)} KiB`,
            mib(m.peakRssBytes),
            ms(m.cpuMsPerReceipt),
            num(m.receiptsPerSecond),
          ]),
        ),
        '',
        `At READY=1 (the unit's flags, ${runsNote(size.readyFootprintRuns)}; modules listed by a preloaded probe, ` +
          `\`test/support/moduleProbe.ts\`): **${ready.modules} modules** loaded from ${ready.packages.length} npm ` +
          `packages (${ready.packages.join(', ')}); RSS ${mib(ready.rssBytes)}, heap after GC ` +
          `${mib(ready.heapAfterGcBytes)}. What \`run\` does not need for this config (the demo, the emulators, ` +
          `the embedded broker, pino-pretty, mqtt, the serial stack, the other connectors and devices) is not among ` +
          `them (\`test/e2e/lazyModules.e2e.test.ts\`).`,
        '',
        `Start to READY: spawn → the READY=1 datagram on a NOTIFY_SOCKET this bench binds (it plays systemd), no ` +
          `Node flags; READY follows the database's open, the control socket and the register's identification. ` +
          `Over ${size.startupRuns} starts on a new data directory: median ${ms(median(startup.readyMs))}, ` +
          `slowest ${ms(Math.max(...startup.readyMs))}.`,
      ].join('\n');
    },
  },
  {
    name: 'anatomy',
    title: 'Where idle memory goes',
    run: async () => {
      const nodeArgs = unitNodeFlags();
      const runs = quick ? 1 : 3;
      const agents = await repeat(runs, () => benchAgentAnatomy({ nodeArgs }));
      const floors = await repeat(runs, () => benchNodeFloor({ nodeArgs }));
      const medAgent = (pick: (a: (typeof agents)[number]) => number) => med(agents, pick);
      const medFloor = (pick: (a: (typeof floors)[number]) => number) => med(floors, pick);
      return [
        `A fresh \`kkt-agent run\` (one ATOL register on TCP, one bridge account polled every second; the unit's ` +
          `flags \`node ${nodeArgs.join(' ')}\`) read 3 s after READY=1, beside the floor: a bare ` +
          `\`node\` with the same flags that only waits (\`bench/anatomy.ts\`). Anonymous pages are V8's heap, ` +
          `malloc (SQLite's page cache among it) and stacks; file pages are the node binary's code and read-only ` +
          `data (built-in JavaScript, ICU) and the native addons, shared with nothing else on a box that runs ` +
          `one Node process (${runsNote(runs)}).`,
        '',
        table(
          ['', 'RSS', 'anonymous', 'file', 'threads', 'heap used after GC', 'CPU at READY'],
          [
            [
              'agent',
              mib(medAgent((a) => a.rssBytes)),
              mib(medAgent((a) => a.rssAnonBytes)),
              mib(medAgent((a) => a.rssFileBytes)),
              medAgent((a) => a.threads),
              mib(medAgent((a) => a.usage.heapUsed)),
              ms(medAgent((a) => a.readyCpuMs)),
            ],
            [
              'bare node (floor)',
              mib(medFloor((a) => a.rssBytes)),
              mib(medFloor((a) => a.rssAnonBytes)),
              mib(medFloor((a) => a.rssFileBytes)),
              medFloor((a) => a.threads),
              '',
              '',
            ],
          ],
        ),
      ].join('\n');
    },
  },
  {
    name: 'warmup',
    title: 'Where a serving agent grows',
    run: async () => {
      const nodeArgs = unitNodeFlags();
      const readings = await benchWarmup({ nodeArgs, checkpoints: size.warmupCheckpoints });
      const idle = readings[0]!;
      return [
        `A fresh \`kkt-agent run\` (one ATOL register on TCP, one bridge account polled every second; the unit's ` +
          `flags \`node ${nodeArgs.join(' ')}\`) fed bills as a bridge shows them and read 3 s after each ` +
          `checkpoint (\`bench/warmup.ts\`, one run): RSS, its anonymous pages and peak RSS from /proc, then ` +
          `after a forced full GC the heap in use, V8's old space (objects: ours and V8's), its code space and ` +
          `the machine code and bytecode V8 holds; CPU per receipt between checkpoints (the 3 s idle and the ` +
          `forced GC included). Growth that is code is V8 compiling hot functions, not data the agent keeps.`,
        '',
        table(
          [
            'receipts',
            'RSS',
            'anonymous',
            'peak RSS',
            'peak / idle',
            'heap after GC',
            'old space used',
            'code space',
            'machine code',
            'bytecode',
            'CPU per receipt',
          ],
          readings.map((reading, i) => {
            const before = readings[i - 1];
            return [
              reading.receipts === 0 ? 'idle' : num(reading.receipts, 0),
              mib(reading.rssBytes),
              mib(reading.rssAnonBytes),
              mib(reading.peakRssBytes),
              `${(reading.peakRssBytes / idle.rssBytes).toFixed(2)} ×`,
              mib(reading.heapAfterGcBytes),
              mib(reading.oldSpaceUsedBytes),
              mib(reading.codeSpaceBytes),
              mib(reading.codeBytes),
              mib(reading.bytecodeBytes),
              before ? ms((reading.cpuMs - before.cpuMs) / (reading.receipts - before.receipts)) : '',
            ];
          }),
        ),
      ].join('\n');
    },
  },
  {
    name: 'ages',
    title: 'A box that ages: start-up and memory against history',
    run: async () => {
      const nodeArgs = unitNodeFlags();
      const results = await benchAges({
        ages: size.ages,
        starts: size.ageStarts,
        growthAges: size.growthAges,
        growthReceipts: size.growthReceipts,
        fsyncReceipts: size.ageFsyncReceipts,
        nodeArgs,
      });
      return agesMarkdown(results, nodeArgs);
    },
  },
];

async function main(): Promise<number> {
  const machine = machineInfo();
  const parts: string[] = [];
  const failures: string[] = [];
  const began = performance.now();
  for (const section of sections) {
    if (options.only && !options.only.has(section.name)) continue;
    const started = performance.now();
    process.stderr.write(`bench: ${section.name}…\n`);
    try {
      parts.push(`## ${section.title}\n\n${await section.run()}`);
      process.stderr.write(`bench: ${section.name} done in ${ms(performance.now() - started)}\n`);
    } catch (error) {
      const message = errorText(error);
      failures.push(`${section.name}: ${message}`);
      parts.push(
        `## ${section.title}\n\n**The bench failed:** \`${String(error instanceof Error ? error.message : error)}\``,
      );
      process.stderr.write(`bench: ${section.name} FAILED\n${message}\n`);
    }
  }
  const document = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench${quick ? ' -- --quick' : ''}\` (\`bench/run.ts\`; each bench is a module of ` +
      `its own in \`bench/\`). The machine is shared and noisy (2 cores), so figures are medians of several runs, ` +
      `and counts (round trips, bytes, fsyncs) are given where they say more than times. Re-run to compare; do not ` +
      `read single milliseconds.`,
    '',
    machineMarkdown(machine),
    '',
    ...parts.flatMap((part) => [part, '']),
    '## Running it',
    '',
    '`npm run bench` (the full form, about half an hour on two cores) rewrites this file; ' +
      '`npm run bench -- --quick` (CI, `.ci/run`) runs small sizes once and writes to a temp file. ' +
      '`--only driver,journal` picks sections (driver, overhead, journal, latency, drain, footprint, anatomy, warmup, ages); ' +
      '`--ages 0,1825` and `--receipts 20000` size the ages section (its growth run is at the last age); ' +
      '`--out FILE` writes elsewhere. A bench that throws makes the exit code 1; a slow figure never does.',
    '',
    `_Total bench time: ${ms(performance.now() - began)}._`,
    '',
  ].join('\n');
  await writeRunDocument(options, {
    suite: 'bench',
    markdown: document,
    quickFileName: 'kkt-agent-benchmarks-quick.md',
    publishedPath: 'docs/BENCHMARKS.md',
  });
  if (failures.length > 0) {
    process.stderr.write(`bench: ${failures.length} bench(es) failed\n`);
    return 1;
  }
  return 0;
}

exitWhenDone('bench', main);
