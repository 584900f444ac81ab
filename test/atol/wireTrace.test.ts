import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandRunner } from '../../src/drivers/atol/commandRunner.js';
import { deviceType } from '../../src/drivers/atol/commands/status.js';
import { Kkt } from '../../src/drivers/atol/kkt.js';
import { AtolTransport } from '../../src/drivers/atol/transport/transport.js';
import { parseWireTrace, WireTraceError } from '../../src/drivers/atol/transport/wireTrace.js';
import { REPO_ROOT } from '../support/agentProcess.js';
import { ReplayMismatchError, ReplayRegister, readWireTrace } from '../support/wireReplay.js';

const TRACES = join(REPO_ROOT, 'test', 'support', 'fixtures', 'traces');
const TZ = 'Europe/Moscow';

describe('traces from the public sources, replayed', () => {
  it("our transport sends the Zzzzipper register's connection check byte for byte and reads its identity", async () => {
    const replay = new ReplayRegister(readWireTrace(join(TRACES, 'zzzzipper-connection-check.trace')));
    const transport = new AtolTransport(replay, { pollIntervalMs: 5 });
    await transport.open();
    const answer = await new CommandRunner(transport).run(deviceType, undefined);
    expect(answer).toMatchObject({ protocolVersion: 1, deviceType: 1, model: 0x4c, name: 'Казначей ФА' });
    // Abort, Add A5, then Req three times while the register answers A2: the dump's five frames.
    expect(replay.hostFrames.map((f) => f.slice(0, 2))).toEqual(['C4', 'C1', 'C3', 'C3', 'C3']);
    expect(replay.hostFrames[1]).toMatch(/^C101..0000A5$/);
    replay.assertComplete();
    await transport.close();
  });

  it('a connect and the read-back of FD 87 replay to the same fiscal data', async () => {
    const replay = new ReplayRegister(readWireTrace(join(TRACES, 'zzzzipper-read-fd87.trace')));
    const kkt = new Kkt({ link: () => replay, timeZone: TZ, reconnect: { enabled: false } });
    await kkt.connect();
    expect(kkt.deviceInfoCached?.ffdVersion).toEqual({ kkt: 2, fn: 2 });
    expect(await kkt.document(87)).toMatchObject({
      fiscalDocumentNumber: 87,
      documentType: 3,
      fiscalSign: String(0x6629765f),
      dateTime: '2018-02-22T16:17:00+03:00',
      totalKop: 2500,
      fnNumber: '9999078900007317',
    });
    replay.assertComplete();
    await kkt.close();
  });

  it('a driver that asks for something else fails the replay at the line where it went another way', async () => {
    const replay = new ReplayRegister(readWireTrace(join(TRACES, 'zzzzipper-read-fd87.trace')));
    const kkt = new Kkt({ link: () => replay, timeZone: TZ, reconnect: { enabled: false } });
    await kkt.connect();
    await expect(kkt.document(88)).rejects.toThrow();
    expect(replay.mismatch).toBeInstanceOf(ReplayMismatchError);
    expect(replay.mismatch?.message).toMatch(/^line 28: the trace's host sent C101..0000A44557000000/);
    expect(() => replay.assertComplete()).toThrow(ReplayMismatchError);
    await kkt.close();
  });
});

describe('a malformed trace file', () => {
  const header = '# kkt-agent wire trace v1\n';
  const good = '2026-03-01T10:00:00.123Z kkt1 > FE 01 00 06 C4 58\n';
  const cases: Array<[string, string, number, RegExp]> = [
    ['no header', good, 1, /expected the header/],
    ['an empty file', '', 1, /empty/],
    ['a bad time', `${header}${good}yesterday kkt1 > FE 01 00 06 C4 58\n`, 3, /not a UTC time/],
    ['a bad device id', `${header}2026-03-01T10:00:00.123Z KKT! > FE\n`, 2, /not a device id/],
    [
      'a bad direction',
      `${header}2026-03-01T10:00:00.123Z kkt1 <> FE 01 00 06 C4 58\n`,
      2,
      /not a direction/,
    ],
    [
      'a bad hex byte',
      `${header}${good}2026-03-01T10:00:00.124Z kkt1 < FE 01 00 06 A3 7G\n`,
      3,
      /"7G" is not a hex byte/,
    ],
    ['a bad CRC', `${header}2026-03-01T10:00:00.123Z kkt1 > FE 01 00 06 C4 59\n`, 2, /bad-crc/],
    ['a cut frame', `${header}2026-03-01T10:00:00.123Z kkt1 > FE 06 00 07 C1 01\n`, 2, /cut short/],
    [
      'two frames on a line',
      `${header}2026-03-01T10:00:00.123Z kkt1 > FE 01 00 06 C4 58 FE\n`,
      2,
      /one frame per line/,
    ],
    ['no bytes', `${header}2026-03-01T10:00:00.123Z kkt1 >\n`, 2, /no frame bytes/],
  ];
  it.each(cases)('%s gives a typed error naming the line', (_name, text, line, reason) => {
    let caught: unknown;
    try {
      parseWireTrace(text, 'bad.trace');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(WireTraceError);
    const error = caught as WireTraceError;
    expect(error.code).toBe('WIRE_TRACE_MALFORMED');
    expect(error.line).toBe(line);
    expect(error.message).toMatch(new RegExp(`^bad\\.trace line ${line}: `));
    expect(error.message).toMatch(reason);
  });

  it('readWireTrace names the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kkt-trace-'));
    const path = join(dir, 'broken.trace');
    await writeFile(path, `${header}${good}oops\n`);
    expect(() => readWireTrace(path)).toThrow(`${path} line 3:`);
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the example of docs/protocol/atol-v3.md §14 as the note describes it', async () => {
    const note = await readFile(join(REPO_ROOT, 'docs', 'protocol', 'atol-v3.md'), 'utf8');
    const example = /The format, version 1:\n\n```\n([\s\S]*?)```/.exec(note)?.[1];
    const entries = parseWireTrace(example ?? '', 'atol-v3.md §14');
    expect(
      entries.map((e) => (e.kind === 'frame' ? `${e.direction}${e.masked ? ' masked' : ''}` : 'note')),
    ).toEqual(['host', 'device', 'host masked', 'note']);
    const masked = entries[2];
    expect(masked?.kind === 'frame' && masked.frame.data.subarray(-6)).toEqual(Buffer.alloc(6, 0x2a));
  });

  it('takes comments, notes and blank lines', () => {
    const entries = parseWireTrace(
      `\n${header}# a comment\n\n${good}2026-03-01T10:00:00.200Z kkt1 < # 3 bytes of noise: 000102\n`,
    );
    expect(entries.map((e) => e.kind)).toEqual(['frame', 'note']);
  });
});
