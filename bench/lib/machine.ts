import { readFileSync } from 'node:fs';
import os from 'node:os';

/** What the figures were measured on; printed at the top of BENCHMARKS.md and RELIABILITY.md. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGb: number;
  node: string;
  os: string;
  date: string;
}

function osName(): string {
  try {
    const release = readFileSync('/etc/os-release', 'utf8');
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release)?.[1];
    if (pretty) return `${pretty}, ${os.type()} ${os.release()} ${os.arch()}`;
  } catch {
    // not Linux, or no os-release: the kernel name will do
  }
  return `${os.type()} ${os.release()} ${os.arch()}`;
}

export function machineInfo(now = new Date()): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: osName(),
    date: now.toISOString().slice(0, 10),
  };
}

export function machineMarkdown(machine: MachineInfo): string {
  return [
    '| machine | |',
    '| --- | --- |',
    `| CPU | ${machine.cpuModel}, ${machine.cores} cores |`,
    `| memory | ${machine.memoryGb} GB |`,
    `| Node | ${machine.node} |`,
    `| OS | ${machine.os} |`,
    `| date | ${machine.date} |`,
  ].join('\n');
}
