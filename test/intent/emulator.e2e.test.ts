import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildMSearch } from '../../src/drivers/intent/index.js';
import { type IntentEmulator, startIntentEmulator } from '../../src/emulators/intent/index.js';
import { ValidationError } from '../../src/lib/errors.js';
import { SEED_SUCCESS_REQUEST } from './seedExamples.js';
import { rawPost } from './support.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function emulator(options: Parameters<typeof startIntentEmulator>[0] = {}): Promise<IntentEmulator> {
  const started = await startIntentEmulator({ cardWaitMs: 0, ...options });
  cleanups.push(() => started.close());
  return started;
}

async function tokenFor(target: IntentEmulator): Promise<string> {
  const answer = await rawPost(
    target.endpoint,
    { INTENT_OPERATION_TYPE: 'AUTH' },
    '{"pin":"1234","rememberPin":true,"returnToken":true}',
  );
  return (answer.json as { token: string }).token;
}

describe('emulator protocol edges', () => {
  it('answers unknown or missing intents with 399 and other paths with 404', async () => {
    const target = await emulator();
    const unknown = await rawPost(target.endpoint, { INTENT_OPERATION_TYPE: 'X_REPORT' }, '');
    expect(unknown.json).toMatchObject({
      resultCode: 399,
      type: 'X_REPORT',
      messageDetail: 'Неизвестный тип операции',
    });
    const missing = await rawPost(target.endpoint, {}, '{}');
    expect(missing.json).toMatchObject({ resultCode: 399 });
    const wrongPath = await rawPost(`${target.url}/v2`, { INTENT_OPERATION_TYPE: 'SALE' }, '{}');
    expect(wrongPath.status).toBe(404);
  });

  it('refuses SALE without a token (HTTP 401) and with a bad one (405)', async () => {
    const target = await emulator();
    const none = await rawPost(target.endpoint, { INTENT_OPERATION_TYPE: 'SALE' }, SEED_SUCCESS_REQUEST);
    expect(none.status).toBe(401);
    expect(none.json).toStrictEqual({
      messageDetail: 'Требуется авторизация',
      messageTitle: 'Ошибка',
      resultCode: 401,
      type: 'SALE',
    });
    const bad = await rawPost(
      target.endpoint,
      { INTENT_OPERATION_TYPE: 'SALE', 'Auth-token': 'nope' },
      SEED_SUCCESS_REQUEST,
    );
    expect(bad.json).toMatchObject({ resultCode: 405, messageDetail: 'Ошибка токена' });
    expect(target.sales).toHaveLength(0);
  });

  it('lets tokens expire after their lifetime on its own clock', async () => {
    let now = Date.parse('2025-07-01T09:00:00Z');
    const target = await emulator({ tokenTtlMs: 60_000, now: () => new Date(now) });
    const token = await tokenFor(target);
    const headers = { INTENT_OPERATION_TYPE: 'SALE', 'Auth-token': token };
    expect((await rawPost(target.endpoint, headers, SEED_SUCCESS_REQUEST)).json).toMatchObject({
      resultCode: 200,
      dateTime: '2025-07-01T12:00:00+03:00',
    });
    now += 61_000;
    expect((await rawPost(target.endpoint, headers, SEED_SUCCESS_REQUEST)).json).toMatchObject({
      resultCode: 405,
    });
  });

  it('answers 413 to a body it cannot read, and sells nothing', async () => {
    const target = await emulator();
    const headers = { INTENT_OPERATION_TYPE: 'SALE', 'Auth-token': await tokenFor(target) };
    for (const body of [
      '{not json',
      '{"cashier":"К","itemList":[]}',
      '{"cashier":"К","itemList":[{"codeNumber":"1","price":true,"amount":"1"}]}',
    ]) {
      expect((await rawPost(target.endpoint, headers, body)).json).toMatchObject({
        resultCode: 413,
        messageDetail: 'Неверное тело запроса',
      });
    }
    expect(target.sales).toHaveLength(0);
  });

  it('accepts money sent as JSON numbers, as the one public client does', async () => {
    const target = await emulator();
    const headers = { INTENT_OPERATION_TYPE: 'SALE', 'Auth-token': await tokenFor(target) };
    const body =
      '{"cashier":"К","itemList":[{"codeNumber":"1","price":5.90,"amount":2}],"cash":20,"cashless":0}';
    expect((await rawPost(target.endpoint, headers, body)).json).toMatchObject({
      resultCode: 200,
      total: '11.8',
      change: '8.2',
    });
  });

  it('can cancel an unfinished sale as a person on the terminal would', async () => {
    const target = await emulator();
    target.createUnfinishedSale();
    const headers = { INTENT_OPERATION_TYPE: 'SALE', 'Auth-token': await tokenFor(target) };
    expect((await rawPost(target.endpoint, headers, SEED_SUCCESS_REQUEST)).json).toMatchObject({
      resultCode: 410,
    });
    target.cancelUnfinishedSale();
    expect(target.hasUnfinishedSale).toBe(false);
    expect((await rawPost(target.endpoint, headers, SEED_SUCCESS_REQUEST)).json).toMatchObject({
      resultCode: 200,
    });
  });

  it('refuses to start on a damaged state file rather than reuse receipt numbers', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'kkt-intent-'));
    cleanups.push(() => rm(directory, { recursive: true, force: true }));
    const stateFile = path.join(directory, 'smartx.json');
    await writeFile(stateFile, '{"nextNumberCheck":"many"}');
    await expect(startIntentEmulator({ stateFile })).rejects.toBeInstanceOf(ValidationError);
  });

  it('answers only SSDP searches for the SmartX target', async () => {
    const target = await emulator({ ssdp: true });
    const port = target.ssdpPort ?? 0;
    const listen = async () => {
      const socket = dgram.createSocket('udp4');
      cleanups.push(() => new Promise<void>((done) => socket.close(() => done())));
      const replies: string[] = [];
      socket.on('message', (message) => replies.push(message.toString('utf8')));
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
      return { socket, replies };
    };
    const other = await listen();
    const smartx = await listen();
    // The responder handles datagrams in order, so a reply to the first search would leave before the second's.
    other.socket.send(buildMSearch('upnp:rootdevice', '127.0.0.1', port), port, '127.0.0.1');
    smartx.socket.send(buildMSearch('ikassa-smartx', '127.0.0.1', port), port, '127.0.0.1');
    await new Promise<void>((resolve) => smartx.socket.once('message', () => setImmediate(resolve)));
    expect(other.replies).toHaveLength(0);
    expect(smartx.replies).toHaveLength(1);
    expect(smartx.replies[0]).toContain(`LOCATION: ${target.url}`);
    expect(smartx.replies[0]).toContain('ST: ikassa-smartx');
  });
});
