import { afterEach, describe, expect, it } from 'vitest';
import {
  beginPosition,
  closeReceipt,
  deviceType,
  enterMode,
  fnStatus,
  openReceipt,
  PaymentType,
  ReceiptType,
  registerPosition,
} from '../../src/drivers/atol/commands/index.js';
import { SerialLink } from '../../src/drivers/atol/transport/serialLink.js';
import { type AtolEmulator, startAtolEmulator } from '../../src/emulators/atol/index.js';
import { EMULATOR_TAX_BYTES } from '../../src/emulators/atol/vat.js';
import { type SocatPty, startSocatPty } from '../support/socat.js';
import { openHost, type TestHost } from './host.js';

describe('the emulator behind a pseudo-terminal (socat) with the serial link', () => {
  let emulator: AtolEmulator | undefined;
  let pty: SocatPty | undefined;
  let host: TestHost | undefined;

  afterEach(async () => {
    await host?.close();
    await pty?.stop();
    await emulator?.close();
  });

  it('prints a receipt through /dev/pts like a USB register', async () => {
    emulator = await startAtolEmulator({ port: 0, persist: false, asyncLatencyMs: 5 });
    pty = await startSocatPty({ port: emulator.port });
    host = await openHost(new SerialLink({ path: pty.path }));

    expect((await host.ok(deviceType, undefined)).name).toBe('АТОЛ 30Ф');
    await host.ok(enterMode, { mode: 1, password: 30 });
    await host.ok(openReceipt, { flags: 0, receiptType: ReceiptType.Sell });
    await host.ok(beginPosition, undefined);
    await host.ok(registerPosition, {
      flags: 0,
      priceKop: 12_345,
      quantityMilli: 1_000,
      amountKop: 12_345,
      taxCode: EMULATOR_TAX_BYTES.vat20,
      taxSumKop: 0,
      department: 1,
      paymentObject: 1,
      paymentMethod: 4,
      discountSign: 0,
      discountKop: 0,
      // FE and FD bytes inside the data exercise escaping over the serial path.
      name: 'Товар ■¤',
    });
    await host.ok(closeReceipt, { flags: 0, paymentType: PaymentType.Cash, sumKop: 20_000 });
    expect((await host.ok(fnStatus, undefined)).lastDocumentNumber).toBe(2);
    expect(emulator.device.cashKop).toBe(12_345);
  });

  it('a write in flight when the port closes settles (it hung forever and froze the agent: issue 18.13)', async () => {
    emulator = await startAtolEmulator({ port: 0, persist: false });
    pty = await startSocatPty({ port: emulator.port });
    for (let round = 0; round < 5; round++) {
      const link = new SerialLink({ path: pty.path });
      await link.open();
      const written = link.write(Buffer.alloc(64, 0x55)).then(
        () => 'written',
        () => 'refused',
      );
      // The port goes away while the bytes are with the kernel (an unplug does the same from below).
      await link.close();
      const outcome = await Promise.race([
        written,
        new Promise((resolve) => setTimeout(resolve, 2000, 'hung')),
      ]);
      expect(outcome).not.toBe('hung');
    }
  });
});
