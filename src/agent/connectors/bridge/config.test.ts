import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors.js';
import { parseWithSchema } from '../../../lib/json.js';
import { apiRootOf } from './client.js';
import { bridgeAccountSchema } from './config.js';

const parse = (value: unknown) => parseWithSchema(bridgeAccountSchema, value, 'bridge');

function fieldOf(value: unknown): string {
  try {
    parse(value);
  } catch (error) {
    if (error instanceof ValidationError) return error.field;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('bridgeAccountSchema', () => {
  it('fills the defaults', () => {
    expect(parse({ id: '120', baseUrl: 'https://crm.example.ru/bridge' })).toEqual({
      id: '120',
      baseUrl: 'https://crm.example.ru/bridge',
      auth: { type: 'none' },
      timeoutMs: 10_000,
      retries: 3,
      retryDelayMs: 500,
      billRetry: { firstDelayMs: 60_000, maxDelayMs: 1_800_000 },
      maxResponseBytes: 2 * 1024 * 1024,
      autoFiscalize: { enabled: false, intervalMs: 30_000, filter: 'none' },
      defaultPayment: 'card',
      prepayment: 'refuse',
      ids: {},
    });
  });

  it('takes Evotor ids in any letter case and keeps them upper case', () => {
    const config = parse({
      id: '120',
      baseUrl: 'http://127.0.0.1:8080',
      ids: { userId: '01-000000000233309', storeId: '20170606-69fb-40ff-805c-7724f9a7f221' },
    });
    expect(config.ids).toEqual({
      userId: '01-000000000233309',
      storeId: '20170606-69FB-40FF-805C-7724F9A7F221',
    });
  });

  it.each([
    [{ id: '120', baseUrl: 'ftp://crm.example.ru' }, 'bridge.baseUrl'],
    [{ id: '120', baseUrl: 'https://user:secret@crm.example.ru' }, 'bridge.baseUrl'],
    [
      { id: '120', baseUrl: 'https://crm.example.ru', auth: { type: 'bearer', token: '' } },
      'bridge.auth.token',
    ],
    [{ id: '120', baseUrl: 'https://crm.example.ru', auth: { type: 'digest' } }, 'bridge.auth.type'],
    [{ id: '120', baseUrl: 'https://crm.example.ru', ids: { userId: '01-123' } }, 'bridge.ids.userId'],
    [
      {
        id: '120',
        baseUrl: 'https://crm.example.ru',
        ids: { deviceId: '20170525-C638-41EF-80D6-0B53FE6D9F9F' },
      },
      'bridge.ids.deviceId',
    ],
    [{ id: '120', baseUrl: 'https://crm.example.ru', defaultPayment: 'bonus' }, 'bridge.defaultPayment'],
    [{ id: 'a b', baseUrl: 'https://crm.example.ru' }, 'bridge.id'],
    [{ id: '120', baseUrl: 'https://crm.example.ru', prepayment: 'offset' }, 'bridge.prepayment'],
    [{ id: '120', baseUrl: 'https://crm.example.ru', prepayment: true }, 'bridge.prepayment'],
  ])('refuses %j at %s', (value, field) => {
    expect(fieldOf(value)).toBe(field);
  });
});

describe('apiRootOf', () => {
  it.each([
    ['https://crm.example.ru', 'https://crm.example.ru/api/v2/'],
    ['https://crm.example.ru/', 'https://crm.example.ru/api/v2/'],
    ['https://crm.example.ru/bridge', 'https://crm.example.ru/bridge/api/v2/'],
    ['https://crm.example.ru/bridge/api/v2/', 'https://crm.example.ru/bridge/api/v2/'],
  ])('%s → %s', (base, root) => {
    expect(apiRootOf(base)).toBe(root);
  });
});
