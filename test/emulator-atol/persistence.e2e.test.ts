import { access, appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  beginPosition,
  cancelReceipt,
  fnStatus,
  longStatus,
  readDocumentChunk,
  registerPosition,
  selectDocument,
  shortStatus,
} from '../../src/drivers/atol/commands/index.js';
import {
  type AtolEmulator,
  archivePathFor,
  EmulatorStateError,
  startAtolEmulator,
} from '../../src/emulators/atol/index.js';
import { connectTcp, type TestHost } from './host.js';
import { openSellWithPosition, position, sell } from './receiptSteps.js';

/** The document's type (LE16) and its TLVs, as A4 45 and the A4 46 answers give them. */
async function documentBytes(host: TestHost, number: number): Promise<Buffer> {
  const header = await host.ok(selectDocument, { documentNumber: number });
  let data = Buffer.of(header.documentType & 0xff, header.documentType >> 8);
  for (;;) {
    const { errorCode, result } = await host.run(readDocumentChunk, undefined);
    if (errorCode !== 0) return data;
    data = Buffer.concat([data, result!]);
  }
}

describe('the register remembers across restarts', () => {
  let dir: string;
  let stateFile: string;
  let journalFile: string;
  let emulator: AtolEmulator | undefined;
  let host: TestHost | undefined;

  const start = async () => {
    emulator = await startAtolEmulator({ port: 0, stateFile, journalFile, asyncLatencyMs: 1 });
    host = await connectTcp(emulator.port);
    return { emulator, host };
  };
  const stop = async () => {
    await host?.close();
    await emulator?.close();
    host = undefined;
    emulator = undefined;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kkt-emu-state-'));
    stateFile = join(dir, 'atol.json');
    journalFile = join(dir, 'journal.jsonl');
  });

  afterEach(async () => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the FD counter, the documents, the shift and the drawer', async () => {
    let { host: h, emulator: e } = await start();
    await sell(h, 7_700);
    const before = await documentBytes(h, 2);
    const identity = e.device.identity;
    await stop();

    ({ host: h, emulator: e } = await start());
    expect((await h.ok(fnStatus, undefined)).lastDocumentNumber).toBe(2);
    expect(await documentBytes(h, 2)).toEqual(before);
    expect(e.device.identity).toEqual(identity);
    expect(e.device.shift).toMatchObject({ open: true, number: 1, lastReceiptNumber: 1 });
    expect(e.device.cashKop).toBe(7_700);
    await sell(h, 100);
    expect(e.device.lastDocumentNumber).toBe(3);

    const journal = (await readFile(journalFile, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(journal.map((l) => [l.documentNumber, l.kind])).toEqual([
      [1, 'openShift'],
      [2, 'receipt'],
      [3, 'receipt'],
    ]);
    expect(journal[2]).toMatchObject({ shiftNumber: 1, receiptNumber: 2, totalKop: 100 });
  });

  it('keeps an open receipt: after a restart it is still open, in mode 1, and can be cancelled', async () => {
    let { host: h } = await start();
    await openSellWithPosition(h);
    await h.ok(beginPosition, undefined);
    await h.ok(registerPosition, position({ priceKop: 2_500 }));
    await stop();

    ({ host: h } = await start());
    const status = await h.ok(longStatus, undefined);
    expect(status.receiptState).toBe(1);
    expect(status.receiptSumKop).toBe(12_500);
    expect((await h.ok(shortStatus, undefined)).mode).toBe(1);
    await h.ok(cancelReceipt, undefined);
    expect((await h.ok(longStatus, undefined)).receiptState).toBe(0);
  });

  it('ignores an archive line torn by a crash and a document the state never counted', async () => {
    let { host: h } = await start();
    await sell(h);
    await stop();
    const archive = archivePathFor(stateFile);
    await appendFile(archive, `${JSON.stringify({ number: 3, type: 3, tlvHex: '' })}\n{"number": 4, "ty`);
    ({ host: h } = await start());
    expect((await h.ok(fnStatus, undefined)).lastDocumentNumber).toBe(2);
    expect((await h.run(selectDocument, { documentNumber: 3 })).errorCode).toBe(0xda);
    await sell(h);
    expect((await documentBytes(h, 3)).readUInt16LE(0)).toBe(3);
  });

  it('refuses a state file it cannot read, naming the file', async () => {
    await writeFile(stateFile, '{"format": 1, "identity": {}}');
    await expect(startAtolEmulator({ port: 0, stateFile })).rejects.toBeInstanceOf(EmulatorStateError);
  });

  it('writes nothing with persistence off', async () => {
    emulator = await startAtolEmulator({ port: 0, stateFile, persist: false });
    host = await connectTcp(emulator.port);
    await sell(host);
    await expect(access(stateFile)).rejects.toThrow();
  });
});
