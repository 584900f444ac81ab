import { readdir, readFile } from 'node:fs/promises';

/**
 * Where a process's resident memory is and what runs in it (Linux /proc): RSS split into anonymous pages
 * (heap, malloc, stacks) and file pages (the node binary's code, shared libraries, native addons), peak RSS,
 * thread count and CPU time (user + system) so far. CPU time is what a loaded machine moves least.
 */
export interface ProcessAnatomy {
  rssBytes: number;
  rssAnonBytes: number;
  rssFileBytes: number;
  peakRssBytes: number;
  threads: number;
  threadNames: string[];
  cpuMs: number;
}

const CLOCK_TICK_MS = 10;

export async function anatomyOf(pid: number): Promise<ProcessAnatomy> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN);
  const tids = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  const threadNames = await Promise.all(
    tids.map(async (tid) =>
      (await readFile(`/proc/${pid}/task/${tid}/comm`, 'utf8').catch(() => '?')).trim(),
    ),
  );
  return {
    rssBytes: kb('VmRSS'),
    rssAnonBytes: kb('RssAnon'),
    rssFileBytes: kb('RssFile') + kb('RssShmem'),
    peakRssBytes: kb('VmHWM'),
    threads,
    threadNames,
    cpuMs: await cpuMsOf(pid),
  };
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc). */
export async function cpuMsOf(pid: number): Promise<number> {
  return cpuMsFromStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
}

/** CPU time (user + system) in a /proc/<pid>/stat text, in ms (clock ticks of 10 ms). */
export function cpuMsFromStat(stat: string): number {
  // Fields after the command name (which may hold spaces) start at ") ": utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
}

/** Bytes the process's read syscalls have returned so far (/proc/<pid>/io `rchar`: files and sockets). */
export async function readBytesOf(pid: number): Promise<number> {
  const io = await readFile(`/proc/${pid}/io`, 'utf8');
  return Number(/^rchar:\s+(\d+)/m.exec(io)?.[1] ?? Number.NaN);
}
