import { describe, expect, it } from 'vitest';
import { parseWithSchema } from '../../../lib/json.js';
import { moyskladAccountSchema } from './config.js';

describe('moyskladAccountSchema', () => {
  it('fills in the documented defaults', () => {
    const config = parseWithSchema(moyskladAccountSchema, {
      id: 'shop',
      credentialsFile: '/var/lib/kkt-agent/moysklad.json',
    });
    expect(config).toMatchObject({
      baseUrl: 'https://online.moysklad.ru/api/posap/1.0',
      mode: 'master',
      pollIntervalMs: 5_000,
      timeZone: 'Europe/Moscow',
      chequeSumUnit: 'kopecks',
      rateLimit: { requests: 100, windowMs: 5_000, burst: 20, maxInFlight: 4, marginMs: 10 },
      customerOrders: { autoFiscalize: true, payment: 'card', states: [] },
      state: { enabled: true, intervalMs: 300_000, checkIntervalMs: 30_000 },
    });
  });

  it('refuses a token in the config, more than 5 in flight, and unknown zones', () => {
    expect(() =>
      parseWithSchema(moyskladAccountSchema, { id: 'a', credentialsFile: 'f', token: 'x' }),
    ).toThrow(/token: unknown field/);
    expect(() =>
      parseWithSchema(moyskladAccountSchema, {
        id: 'a',
        credentialsFile: 'f',
        rateLimit: { maxInFlight: 6 },
      }),
    ).toThrow(/maxInFlight/);
    expect(() =>
      parseWithSchema(moyskladAccountSchema, { id: 'a', credentialsFile: 'f', timeZone: 'Mars/Olympus' }),
    ).toThrow(/time zone/);
    expect(() =>
      parseWithSchema(moyskladAccountSchema, {
        id: 'a',
        credentialsFile: 'f',
        baseUrl: 'https://u:p@host/api',
      }),
    ).toThrow(/credentials/);
  });
});
