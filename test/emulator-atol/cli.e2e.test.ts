import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type AtolEmulator, runAtolEmulatorCli } from '../../src/emulators/atol/index.js';
import { ValidationError } from '../../src/lib/errors.js';
import { runCli } from '../support/agentProcess.js';
import { connectTcp } from './host.js';
import { sell } from './receiptSteps.js';

class Capture {
  text = '';
  write(chunk: string) {
    this.text += chunk;
  }
}

describe('the emulator as the CLI runs it', () => {
  let emulator: AtolEmulator | undefined;

  afterEach(async () => {
    await emulator?.close();
  });

  it('starts from string options, applies faults and prints what the register prints', async () => {
    const out = new Capture();
    emulator = await runAtolEmulatorCli(
      {
        tcp: '0',
        persist: false,
        model: '55Ф',
        asyncLatencyMs: '1',
        fault: ['cover-open', 'cover-open=off', 'slow-ms=5'],
      },
      out,
      new Capture(),
    );
    expect(out.text).toMatch(/^ATOL emulator: АТОЛ 55Ф .* listening on 127\.0\.0\.1:\d+\n$/);
    expect(emulator.activeFaults).toMatchObject({ coverOpen: false, slowMs: 5 });
    const host = await connectTcp(emulator.port);
    try {
      await sell(host, 4_200);
    } finally {
      await host.close();
    }
    expect(out.text).toContain('[connection] host 127.0.0.1');
    expect(out.text).toContain('КАССОВЫЙ ЧЕК');
    expect(out.text).toContain('=42.00');
  });

  it('refuses bad options with the field named', async () => {
    await expect(runAtolEmulatorCli({ tcp: 'port' }, new Capture())).rejects.toBeInstanceOf(ValidationError);
  });
});

const BIN = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'bin/kkt-agent.js');

describe('kkt-agent emulator atol (the built command)', () => {
  it('takes the pace options docs/emulator.md lists, and serves until SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        BIN,
        ...['emulator', 'atol', '--tcp', '0', '--no-persist', '--quiet', '--latency-ms', '1'],
        ...[
          '--async-latency-ms',
          '2',
          '--z-report-step-ms',
          '3',
          '--x-report-ms',
          '4',
          '--ofd-auto-drain-ms',
          '5',
        ],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = once(child, 'exit');
    await expect.poll(() => output, { timeout: 15_000 }).toMatch(/listening on 127\.0\.0\.1:\d+/);
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code, output).toBe(0);
  });

  it('refuses a pace that is not a number of milliseconds, naming the option', async () => {
    const result = await runCli([
      'emulator',
      'atol',
      '--tcp',
      '0',
      '--no-persist',
      '--z-report-step-ms',
      'soon',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/zReportStepMs/);
  });
});
