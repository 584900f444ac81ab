import { mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logging.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, destination };
}

describe('logging', () => {
  it('applies levels per module', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'info', modules: { kkt: 'debug', outbox: 'warn' }, destination });
    log.module('kkt').debug({ event: 'kkt.frame' });
    log.module('outbox').info({ event: 'outbox.retry' });
    log.module('outbox').warn({ event: 'outbox.dead-letter' });
    log.module('intake').debug({ event: 'intake.debug' });
    log.root.info({ event: 'daemon.ready' });
    expect(lines.map((l) => [l.module, l.event])).toEqual([
      ['kkt', 'kkt.frame'],
      ['outbox', 'outbox.dead-letter'],
      [undefined, 'daemon.ready'],
    ]);
  });

  it('redacts credentials and customer contacts wherever they appear', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'info', destination });
    log.root.info({
      event: 'x',
      token: 'tok-one',
      auth: { type: 'bearer', token: 'tok-two' },
      request: { password: 'pass-word', headers: { authorization: 'Bearer tok-three' } },
      bill: { customer: { name: 'Оксана' }, emailOrPhone: '+79160000000' },
      pin: 'pin-code',
    });
    // The timestamp is left out: its digits and 'T' vary with the time of day and could match by chance.
    const { time: _time, ...record } = lines[0] ?? {};
    const text = JSON.stringify(record);
    for (const secret of ['tok-one', 'tok-two', 'pass-word', 'tok-three', 'Оксана', '+7916', 'pin-code'])
      expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });
});

describe('the log file', () => {
  it('writes the named file, reopens it at its path, and closes after the last line (issue 18.10, 18.12)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kkt-logging-'));
    try {
      const { destination } = capture();
      const path = join(dir, 'agent.log');
      const log = createLogger({ level: 'info', destination, file: { path, maxSizeMb: 1, keep: 2 } });
      log.root.info({ event: 'first' });
      for (
        let tries = 0;
        tries < 500 && !(await readFile(path, 'utf8').catch(() => '')).includes('first');
        tries++
      )
        await new Promise((resolve) => setTimeout(resolve, 10));
      await rename(path, `${path}.moved`);
      expect(await log.reopenFile()).toBe(true);
      log.root.info({ event: 'second' });
      await log.close();
      expect(await readFile(`${path}.moved`, 'utf8')).toContain('"event":"first"');
      expect(await readFile(path, 'utf8')).toContain('"event":"second"');
      expect((await stat(path)).mode & 0o777).toBe(0o640);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('without a log file there is nothing to reopen or close', async () => {
    const log = createLogger({ level: 'info', destination: capture().destination });
    expect(await log.reopenFile()).toBe(false);
    await log.close();
  });
});
