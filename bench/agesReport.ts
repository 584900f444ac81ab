import type { AgeResult } from './ages.js';
import { mib, ms, num, table } from './lib/markdown.js';
import { median } from './lib/stats.js';

/**
 * The age table of docs/BENCHMARKS.md and the goals of issue 17 beside what was measured, each said to be
 * met or missed (a goal whose age was not measured in this run is said to be not measured).
 */

const ageName = (days: number) =>
  days === 0 ? 'new' : days < 365 ? `${days} days` : `${days / 365} year${days === 365 ? '' : 's'}`;
const kib = (bytes: number) => `${num(bytes / 1024, 2)} KiB`;
const verdict = (met: boolean) => (met ? '**met**' : '**missed**');

function goals(results: readonly AgeResult[]): string[][] {
  const byAge = new Map(results.map((r) => [r.ageDays, r]));
  const fresh = byAge.get(0);
  const oldest = results.at(-1)!;
  const rows: string[][] = [];
  if (fresh && oldest.ageDays > 0) {
    const ratio = oldest.heapAfterGcBytes / fresh.heapAfterGcBytes - 1;
    rows.push([
      `heap after GC at ${ageName(oldest.ageDays)} within 10 % of a new box`,
      `${mib(oldest.heapAfterGcBytes)} against ${mib(fresh.heapAfterGcBytes)} (${ratio >= 0 ? '+' : ''}${num(ratio * 100, 1)} %)`,
      verdict(Math.abs(ratio) <= 0.1),
    ]);
  }
  const idle = Math.max(...results.map((r) => r.idleRssBytes));
  rows.push(['RSS idle ≤ 80 MiB (any age)', `${mib(idle)} (the largest)`, verdict(idle <= 80 * 1024 * 1024)]);
  const peakRatio = Math.max(
    ...results.map((r) => Math.max(r.peakRssBytes, r.growth?.peakRssBytes ?? 0) / r.idleRssBytes),
  );
  rows.push([
    'peak RSS ≤ 1.2 × idle (any age, start-up and serving included)',
    `${num(peakRatio, 2)} × (the largest)`,
    verdict(peakRatio <= 1.2),
  ]);
  const readyOldest = median(oldest.readyMs);
  const cpuOldest = median(oldest.readyCpuMs);
  rows.push([
    `start → READY ≤ 1 s at ${ageName(oldest.ageDays)}`,
    `${ms(readyOldest)} wall, ${ms(cpuOldest)} CPU` +
      (fresh
        ? ` (a new box here: ${ms(median(fresh.readyMs))} wall, ${ms(median(fresh.readyCpuMs))} CPU; CPU ratio ${num(cpuOldest / median(fresh.readyCpuMs), 2)})`
        : ''),
    verdict(readyOldest <= 1000),
  ]);
  for (const r of results) {
    if (!r.growth) continue;
    const perReceipt = (r.growth.rssAfterBytes - r.idleRssBytes) / r.growth.receipts;
    rows.push([
      `RSS growth over ${r.growth.receipts.toLocaleString('en-US')} receipts ≤ 1 KiB per receipt (${ageName(r.ageDays)})`,
      kib(perReceipt),
      verdict(perReceipt <= 1024),
    ]);
    rows.push([
      '… the same over the second half only (warmed up)',
      kib(r.growth.steadyGrowthBytesPerReceipt),
      verdict(r.growth.steadyGrowthBytesPerReceipt <= 1024),
    ]);
    if (typeof r.growth.fsyncsPerReceipt === 'number') {
      rows.push([
        'fsyncs per receipt ≤ 4 (kernel count)',
        num(r.growth.fsyncsPerReceipt, 2),
        verdict(r.growth.fsyncsPerReceipt <= 4),
      ]);
    }
  }
  return rows;
}

export function agesMarkdown(results: readonly AgeResult[], nodeArgs: readonly string[]): string {
  const starts = results[0]?.readyMs.length ?? 0;
  const lines = [
    `For each age, a data directory as that many days of 300 receipts a day and nightly retention leave it ` +
      `(\`bench/lib/agedDataDir.ts\`: bridge BILLs mapped by the agent's own mapping, reports built by the ` +
      `bridge sink's code, rows written and validated by the store; the last 60 days lived night by night ` +
      `with retention, older days written as the slim rows retention leaves), then a real \`kkt-agent run\` ` +
      `on it (one ATOL register on TCP, one bridge account polled every second) with the systemd unit's Node ` +
      `flags (\`node ${nodeArgs.join(' ')}\`). Start → READY=1 as systemd sees it ` +
      `(${starts === 1 ? 'one start' : `median of ${starts} starts`}), in wall time and in the CPU time ` +
      `(user + system, /proc/<pid>/stat) the process had used when READY=1 came: wall time is what a box waits ` +
      `and grows with the machine's load, CPU time is the work start-up does and moves little with load; memory read after 3 s idle on the last ` +
      `start: the heap in use after a forced full GC (a preloaded probe), RSS and peak RSS (VmHWM, start-up ` +
      `included) from /proc.`,
    '',
    table(
      [
        'age',
        'jobs',
        'database',
        'built in',
        'start → READY (wall)',
        '… CPU at READY',
        'heap after GC',
        'RSS idle',
        'peak RSS',
        'peak / idle',
      ],
      results.map((r) => [
        ageName(r.ageDays),
        r.jobs.toLocaleString('en-US'),
        mib(r.databaseBytes),
        `${num(r.buildSeconds)} s`,
        ms(median(r.readyMs)),
        ms(median(r.readyCpuMs)),
        mib(r.heapAfterGcBytes),
        mib(r.idleRssBytes),
        mib(r.peakRssBytes),
        `${num(r.peakRssBytes / r.idleRssBytes, 2)} ×`,
      ]),
    ),
  ];
  const grown = results.filter((r) => r.growth);
  if (grown.length > 0) {
    lines.push(
      '',
      `Then, on the same process, bills fed as a bridge shows them: LIST holds at most a day's (300) ` +
        `unreported bills, each leaves it once its receipt reached the bridge and the next takes its place ` +
        `(\`bench/lib/bridgeFeed.ts\`); polled, printed on the emulator and reported, fsync on. Memory read ` +
        `3 s after the last; "read per receipt" is what the process's read syscalls returned over the run ` +
        `(/proc/<pid>/io \`rchar\`: the database's pages SQLite's 1 MiB cache did not hold, and the sockets), ` +
        `which a box whose page cache cannot hold its database reads from the SD card; then a day's bills ` +
        `more with strace counting the process's fsync and fdatasync calls.`,
      '',
      table(
        [
          'age',
          'receipts',
          'receipts/s',
          'CPU per receipt',
          'RSS after',
          'RSS growth per receipt',
          '… second half only',
          'heap after GC',
          'peak RSS',
          'read per receipt',
          'fsyncs per receipt',
        ],
        grown.map((r) => {
          const g = r.growth!;
          return [
            ageName(r.ageDays),
            g.receipts.toLocaleString('en-US'),
            num(g.receiptsPerSecond),
            ms(g.cpuMsPerReceipt),
            mib(g.rssAfterBytes),
            kib((g.rssAfterBytes - r.idleRssBytes) / g.receipts),
            kib(g.steadyGrowthBytesPerReceipt),
            mib(g.heapAfterGcBytes),
            mib(g.peakRssBytes),
            `${num(g.readBytesPerReceipt / 1024, 1)} KiB`,
            typeof g.fsyncsPerReceipt === 'number' ? num(g.fsyncsPerReceipt, 2) : g.fsyncsPerReceipt,
          ];
        }),
      ),
    );
  }
  const year = results.find((r) => r.ageDays === 365);
  const month = results.find((r) => r.ageDays === 30);
  if (year && month) {
    const perYear = ((year.databaseBytes - month.databaseBytes) * 365) / (365 - 30);
    lines.push(
      '',
      `Disk per year of history at 300 receipts a day: **${mib(perYear)}** (the one-year database less the ` +
        `30-day one, scaled to a year: the rows retention keeps).`,
    );
  }
  lines.push('', '### Goals (issue 17)', '', table(['goal', 'measured', ''], goals(results)));
  return lines.join('\n');
}
