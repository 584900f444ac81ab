import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Kkt } from '../../src/drivers/atol/kkt.js';
import { encodeCp866 } from '../../src/drivers/atol/protocol/cp866.js';
import { positionAmountKop, type ReceiptInput } from '../../src/drivers/atol/receipt.js';
import { TcpLink } from '../../src/drivers/atol/transport/tcpLink.js';
import { parseWireTrace } from '../../src/drivers/atol/transport/wireTrace.js';
import { WireTraceFile } from '../../src/drivers/atol/transport/wireTraceWriter.js';
import { type AtolEmulator, startAtolEmulator } from '../../src/emulators/atol/index.js';
import { ReplayRegister } from '../support/wireReplay.js';

const TZ = 'Europe/Moscow';

describe('a trace taken at the emulated register', () => {
  let emulator: AtolEmulator | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await emulator?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    emulator = undefined;
    dir = undefined;
  });

  const items = [
    {
      type: 'position' as const,
      name: 'Чай улун',
      priceKop: 12_350,
      quantityMilli: 2000,
      amountKop: positionAmountKop(12_350, 2000),
      tax: { type: 'vat20' as const },
    },
  ];
  const sale: Omit<ReceiptInput, 'type'> = {
    operator: { name: 'Иванова А.С.' },
    clientInfo: {
      emailOrPhone: 'buyer.secret@example.com',
      name: 'ООО Тайный Покупатель',
      vatin: '7707083893',
    },
    items,
    payments: [{ type: 'cash', sumKop: 24_700 }],
    marker: 'job-trace',
  };

  async function session(kkt: Kkt) {
    await kkt.connect();
    const shift = await kkt.openShift({ name: 'Иванова А.С.' });
    const result = await kkt.sell(sale);
    const full = await kkt.lastDocument();
    await kkt.close();
    return { shift, result, full };
  }

  it('masks customer contacts, and replays to the same results', async () => {
    emulator = await startAtolEmulator({ port: 0, persist: false, timeZone: TZ, asyncLatencyMs: 5 });
    dir = await mkdtemp(join(tmpdir(), 'kkt-trace-'));
    const path = join(dir, 'wire.trace');
    const file = new WireTraceFile(path);
    const port = emulator.port;
    const live = await session(
      new Kkt({
        link: () => new TcpLink({ host: '127.0.0.1', port }),
        timeZone: TZ,
        reconnect: { enabled: false },
        wireTap: () => file.tap('kkt1'),
      }),
    );
    file.close();

    const text = await readFile(path, 'utf8');
    const contactHex = (value: string) =>
      Array.from(encodeCp866(value), (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
    for (const secret of ['buyer.secret@example.com', 'ООО Тайный Покупатель', '7707083893'])
      expect(text).not.toContain(contactHex(secret));
    const entries = parseWireTrace(text, path);
    const masked = entries.filter((e) => e.kind === 'frame' && e.masked);
    // 1008 and 1256 written by the host, 1008 and 1256 read back from the FN.
    expect(masked.filter((e) => e.direction === 'host')).toHaveLength(2);
    expect(masked.filter((e) => e.direction === 'device').length).toBeGreaterThanOrEqual(2);
    expect(entries.filter((e) => e.kind === 'frame').length).toBeGreaterThan(60);

    const replay = new ReplayRegister(entries, 'kkt1');
    const replayed = await session(
      new Kkt({ link: () => replay, timeZone: TZ, reconnect: { enabled: false } }),
    );
    replay.assertComplete();
    expect(replayed.shift).toEqual(live.shift);
    expect(replayed.result).toEqual(live.result);
    expect({ ...replayed.full, marker: live.full.marker }).toEqual(live.full);
  });
});
