import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/drivers/atol/transport/frame.js';
import { type AtolEmulator, startAtolEmulator } from '../../src/emulators/atol/index.js';
import { hex, RawClient } from './rawClient.js';

/** `C1 01 TId 00 00 <cmd>`: Add with NeedResult and the default access password. */
const add = (taskId: number, ...command: number[]) => [0xc1, 0x01, taskId, 0x00, 0x00, ...command];

describe('the task buffer, frame by frame', () => {
  let emulator: AtolEmulator;
  let client: RawClient;

  beforeEach(async () => {
    emulator = await startAtolEmulator({ port: 0, persist: false, asyncLatencyMs: 250 });
    client = await RawClient.connect(emulator.port);
  });

  afterEach(async () => {
    client.close();
    await emulator.close();
  });

  it('answers a quick command synchronously, echoing the packet id, and keeps the result for Req', async () => {
    client.send(0x10, add(1, 0x45));
    const reply = await client.next();
    expect(reply.id).toBe(0x10);
    // 45 answers 55, mode/submode, printer flags: mode 0, paper present.
    expect(hex(reply.data)).toBe('A3550000');

    client.send(0x11, [0xc3, 1]);
    const request = await client.next();
    expect(request.id).toBe(0x11);
    expect(hex(request.data)).toBe('A3550000');

    client.send(0x12, [0xc2, 1]);
    expect(hex((await client.next()).data)).toBe('A3');
    client.send(0x13, [0xc3, 1]);
    expect(hex((await client.next()).data)).toBe('B3');
    client.send(0x14, [0xc2, 1]);
    expect(hex((await client.next()).data)).toBe('B3');
  });

  it('refuses a task id already in the buffer with B2', async () => {
    client.send(0x01, add(7, 0x45));
    await client.next();
    client.send(0x02, add(7, 0x3f));
    const duplicate = await client.next();
    expect(duplicate.id).toBe(0x02);
    expect(hex(duplicate.data)).toBe('B2');
  });

  it('answers a slow command with A2 at once, then an F0 packet; Req sees A2 while it runs', async () => {
    client.send(0x01, add(1, 0x56, 0x02, 0x00, 0x00, 0x00, 0x30));
    expect(hex((await client.next()).data)).toBe('A35500');
    client.send(0x02, add(2, 0x67, 0x01));
    const first = await client.next();
    expect(first.id).toBe(0x02);
    expect(hex(first.data)).toBe('A2');
    client.send(0x03, [0xc3, 2]);
    expect(hex((await client.next()).data)).toBe('A2');
    const async = await client.next();
    expect(async.id).toBe(0xf0);
    expect(hex(async.data)).toBe('A6025500');
    client.send(0x04, [0xc3, 2]);
    expect(hex((await client.next()).data)).toBe('A35500');
  });

  it('reports a failed slow command as A7 and a failed quick one as A4, refusing tasks in between', async () => {
    client.send(0x01, add(1, 0x67, 0x01));
    expect(hex((await client.next()).data)).toBe('A2');
    expect(hex((await client.next()).data)).toBe('A7015566');
    // Stopped by the failure until the host acknowledges it (or aborts): A5 and the task id.
    client.send(0x02, add(2, 0x59));
    expect(hex((await client.next()).data)).toBe('A502');
    client.send(0x03, [0xc2, 1]);
    expect(hex((await client.next()).data)).toBe('A4');
    client.send(0x04, add(2, 0x59));
    expect(hex((await client.next()).data)).toBe('A45566');
  });

  it('runs one task at a time: a task added meanwhile is pending (A1) and completes with F0', async () => {
    client.send(0x01, add(1, 0x56, 0x02, 0x00, 0x00, 0x00, 0x30));
    await client.next();
    client.send(0x02, add(2, 0x67, 0x01));
    expect(hex((await client.next()).data)).toBe('A2');
    client.send(0x03, add(3, 0x45));
    expect(hex((await client.next()).data)).toBe('A1');
    client.send(0x04, [0xc3, 3]);
    expect(hex((await client.next()).data)).toBe('A1');
    const results = [await client.next(), await client.next()];
    expect(results.map((f) => [f.id, hex(f.data.subarray(0, 2))])).toEqual([
      [0xf0, 'A602'],
      [0xf0, 'A603'],
    ]);
  });

  it('clears the buffer on Abort and answers A3, the answer Zzzzipper waits for', async () => {
    client.send(0x01, add(1, 0x45));
    await client.next();
    client.send(0x02, [0xc4]);
    const abort = await client.next();
    expect(abort.id).toBe(0x02);
    expect(hex(abort.data)).toBe('A3');
    client.send(0x03, [0xc3, 1]);
    expect(hex((await client.next()).data)).toBe('B3');
    client.send(0x04, add(1, 0x45));
    expect(hex((await client.next()).data)).toBe('A3550000');
  });

  it('acks and adds in one packet (C5)', async () => {
    client.send(0x01, add(1, 0x45));
    await client.next();
    client.send(0x02, [0xc5, 1, ...add(2, 0x45).slice(1)]);
    expect(hex((await client.next()).data)).toBe('A3550000');
    client.send(0x03, [0xc3, 1]);
    expect(hex((await client.next()).data)).toBe('B3');
  });

  it('drops a frame with a bad CRC without answering, and keeps decoding after it', async () => {
    const damaged = encodeFrame({ id: 0x01, data: Buffer.from(add(1, 0x45)) });
    damaged[damaged.length - 1]! ^= 0x01;
    client.writeRaw(damaged);
    expect(await client.silentFor(100)).toBe(true);
    expect(emulator.stats.framesRejected).toBe(1);
    client.send(0x02, [0xc3, 1]);
    expect(hex((await client.next()).data)).toBe('B3');
  });

  it('answers a command it does not know with 7A', async () => {
    client.send(0x01, add(1, 0x77));
    expect(hex((await client.next()).data)).toBe('A4557A');
  });

  it('serves one host at a time: a new connection replaces the old one', async () => {
    const events: string[] = [];
    emulator.on('connection', () => events.push('connection'));
    emulator.on('disconnect', (info) => events.push(`disconnect: ${info.reason}`));
    const closed = new Promise((resolve) => client.socket.once('close', resolve));
    const second = await RawClient.connect(emulator.port);
    try {
      await closed;
      second.send(0x01, add(1, 0x45));
      expect(hex((await second.next()).data)).toBe('A3550000');
      expect(events).toEqual(['connection', 'disconnect: replaced by a new connection']);
    } finally {
      second.close();
    }
  });

  it("emits 'command' with the spec's name, code, decoded params and error code once answered", async () => {
    const commands: unknown[] = [];
    emulator.on('command', (event) => commands.push(event));
    client.send(0x01, add(1, 0x56, 0x01, 0x00, 0x00, 0x00, 0x31));
    await client.next();
    expect(commands).toEqual([
      { name: 'enterMode (56)', code: '56', params: { mode: 1, password: 31 }, errorCode: 0x8c },
    ]);
  });
});
