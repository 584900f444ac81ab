import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AtolEmulator,
  type CommandEvent,
  EMULATOR_EXTRA_TAX_BYTES,
  startAtolEmulator,
} from '../../src/emulators/atol/index.js';
import { type MockBridge, SEED_BILLS, startMockBridge } from '../../src/emulators/bridge/index.js';
import {
  type AgentProcess,
  runCli,
  startAgentProcess,
  until,
  writeAgentConfig,
} from '../support/agentProcess.js';

/** How the agent behaves as a service: the restart lock, logs, and a wrong config. */

let dir: string;
let emulator: AtolEmulator;
let bridge: MockBridge;
let agent: AgentProcess | undefined;

async function config(extra: Record<string, unknown> = {}) {
  return writeAgentConfig(dir, {
    dataDir: join(dir, 'data'),
    timeZone: 'Europe/Moscow',
    log: { level: 'info' },
    control: { socketPath: join(dir, 'control.sock') },
    devices: [
      {
        id: 'kkt',
        kind: 'atol',
        link: { type: 'tcp', host: '127.0.0.1', port: emulator.port },
        operator: { name: 'Кассир' },
        taxBytes: EMULATOR_EXTRA_TAX_BYTES,
      },
    ],
    connectors: {
      bridge: [
        {
          id: '120',
          baseUrl: bridge.url,
          auth: { type: 'bearer', token: 'SECRET-TOKEN-123' },
          autoFiscalize: { enabled: true, intervalMs: 200 },
        },
      ],
    },
    ...extra,
  });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-lifecycle-'));
  emulator = await startAtolEmulator({
    port: 0,
    persist: false,
    timeZone: 'Europe/Moscow',
    asyncLatencyMs: 5,
  });
  bridge = await startMockBridge({
    port: 0,
    bills: [SEED_BILLS[0]!],
    auth: { type: 'bearer', token: 'SECRET-TOKEN-123' },
  });
});

afterEach(async () => {
  await agent?.kill();
  agent = undefined;
  await bridge.close();
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

describe('restart lock', () => {
  it('SIGTERM in the middle of a receipt waits for the receipt to finish, then exits 0', async () => {
    agent = await startAgentProcess(await config(), join(dir, 'control.sock'), { waitReady: false });
    const running = agent;
    // Slow the register down once the receipt is open, then ask the agent to stop half-way through it.
    const terminated = new Promise<void>((resolve) => {
      const onCommand = (event: CommandEvent) => {
        if (event.code !== '92') return;
        emulator.off('command', onCommand);
        emulator.setFault('slowMs', 150);
        running.child.kill('SIGTERM');
        resolve();
      };
      emulator.on('command', onCommand);
    });
    await terminated;
    expect(await running.exited).toBe(0);
    const receipts = emulator.device.documents.filter((d) => d.type === 3);
    expect(receipts).toHaveLength(1);
    expect(running.output()).toContain('agent.waiting-for-print');
    // The next start finds the job printed (FISCALIZED), reports it and prints nothing more.
    emulator.setFault('slowMs', 0);
    agent = await startAgentProcess(await config(), join(dir, 'control.sock'));
    await until(() => bridge.receipts.length === 1, 'the receipt reported after the restart');
    expect(emulator.device.documents.filter((d) => d.type === 3)).toHaveLength(1);
  });
});

describe('logs', () => {
  it('writes structured JSON logs without secrets or customer contacts, also to a rotating --log-file', async () => {
    const logFile = join(dir, 'logs', 'agent.log');
    const socket = join(dir, 'control.sock');
    agent = await startAgentProcess(await config(), socket, { extraArgs: ['--log-file', logFile] });
    await until(() => bridge.receipts.length === 1, 'one receipt reported');
    await agent.stop();
    const stdoutLines = agent
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'));
    expect(stdoutLines.length).toBeGreaterThan(3);
    const events = stdoutLines.map((line) => JSON.parse(line) as { event?: string; level: number });
    expect(events.map((e) => e.event)).toEqual(
      expect.arrayContaining(['daemon.ready', 'intake.received', 'job.fiscalized', 'outbox.delivered']),
    );
    expect(agent.output()).not.toContain('SECRET-TOKEN-123');
    expect(agent.output()).not.toContain('Оксана');
    // The named file itself (rotated copies would be agent.log.1, agent.log.2…).
    expect(await readdir(join(dir, 'logs'))).toEqual(['agent.log']);
    const fileText = await readFile(logFile, 'utf8');
    expect(fileText).toContain('"event":"daemon.ready"');
    expect(fileText).not.toContain('SECRET-TOKEN-123');
  });
});

describe('wrong configuration', () => {
  it('refuses to start with an invalid config, names the field, and exits 78 so systemd does not loop', async () => {
    const path = await writeAgentConfig(dir, {
      devices: [
        {
          id: 'kkt',
          kind: 'atol',
          link: { type: 'tcp', host: 'x', port: 'five' },
          operator: { name: 'Кассир' },
        },
      ],
    });
    const result = await runCli(['run', '--config', path]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('devices[0].link.port');
  });

  it('validates a config file from the CLI', async () => {
    const good = await runCli(['config', 'validate', await config()]);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/valid\s+yes/);
    expect(good.stdout).toMatch(/cashiers\s+kkt: Кассир/);
    expect(good.stdout).toMatch(/warnings\s+0/);
    const schema = await runCli(['config', 'schema']);
    expect(JSON.parse(schema.stdout)).toHaveProperty('properties.devices');
  });

  it('config validate says what is missing (the cashier) and warns about a VAT table that cannot be used', async () => {
    const noCashier = await writeAgentConfig(join(dir, 'no-cashier'), {
      devices: [{ id: 'kkt', kind: 'atol', link: { type: 'usb' } }],
    });
    const missing = await runCli(['config', 'validate', noCashier]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('devices[0].operator: required: the cashier printed on every receipt');

    const staleTable = await writeAgentConfig(join(dir, 'stale-vat'), {
      devices: [{ id: 'kkt', kind: 'atol', link: { type: 'usb' }, operator: { name: 'Кассир' } }],
      vat: { table: [{ from: '2019-01-01', basis: '303-FZ', rates: [{ vat: ['none', 'vat20'] }] }] },
    });
    const warned = await runCli(['config', 'validate', staleTable]);
    expect(warned.code).toBe(0);
    expect(warned.stdout).toMatch(/valid\s+yes/);
    expect(warned.stdout).toMatch(/warnings\s+2/);
    expect(warned.stderr).toContain(
      'kkt-agent: warning: vat.table ends with a period from 2019-01-01, but the law changed on 2026-01-01',
    );
  });
});
