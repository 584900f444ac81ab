import { afterEach, describe, expect, it } from 'vitest';
import { type AtolEmulator, runAtolEmulatorCli } from '../../src/emulators/atol/index.js';
import { ValidationError } from '../../src/lib/errors.js';
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
