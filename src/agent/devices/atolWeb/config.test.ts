import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/config.js';
import { atolWebDeviceSchema } from './config.js';

const operator = { name: 'Кассир' };

describe('the atol-web device config', () => {
  it('defaults to the web server on loopback', () => {
    expect(atolWebDeviceSchema.parse({ id: 'kkt', kind: 'atol-web', operator: { name: 'Кассир' } })).toEqual({
      id: 'kkt',
      kind: 'atol-web',
      operator: { name: 'Кассир' },
      url: 'http://127.0.0.1:16732',
      pollIntervalMs: 500,
      requestTimeoutMs: 10_000,
      taskTimeoutMs: 120_000,
      markingCheckTimeoutMs: 20_000,
      reconnect: { initialDelayMs: 500, maxDelayMs: 30_000 },
    });
  });

  it('is a device kind of the agent config, routed like any device', () => {
    const config = parseConfig({
      devices: [
        {
          id: 'sigma',
          kind: 'atol-web',
          url: 'http://192.168.1.20:16732',
          auth: { username: 'kassa', password: 'secret' },
          deviceId: 'kkt-2',
          operator: { name: 'Кассир', vatin: '500100732259' },
          taxationType: 'usnIncome',
        },
      ],
      routing: { defaultDevice: 'sigma' },
    });
    expect(config.devices[0]).toMatchObject({
      kind: 'atol-web',
      deviceId: 'kkt-2',
      taxationType: 'usnIncome',
    });
  });

  it('names the field that is wrong', () => {
    expect(() => parseConfig({ devices: [{ id: 'k', kind: 'atol-web', operator, url: 'ftp://x' }] })).toThrow(
      /devices\[0\]\.url/,
    );
    expect(() =>
      parseConfig({ devices: [{ id: 'k', kind: 'atol-web', operator, pollIntervalMs: 1 }] }),
    ).toThrow(/pollIntervalMs/);
    expect(() => parseConfig({ devices: [{ id: 'k', kind: 'atol-web', operator, baudRate: 9600 }] })).toThrow(
      /baudRate/,
    );
  });

  it('takes the local module of Честный ЗНАК with its defaults, and names a bad field under localModule', () => {
    const device = (localModule: unknown) => ({ id: 'k', kind: 'atol-web', operator, localModule });
    const config = parseConfig({ devices: [device({ credentialsFile: '/etc/kkt-agent/lm.json' })] });
    expect(config.devices[0]).toMatchObject({
      localModule: {
        enabled: true,
        url: 'http://127.0.0.1:5995',
        apiVersion: 1,
        credentialsFile: '/etc/kkt-agent/lm.json',
        timeoutMs: 3000,
        maxSyncAgeHours: 72,
        whenUnavailable: 'refuse',
      },
    });
    const bad: Array<[unknown, RegExp]> = [
      [{}, /devices\[0\]\.localModule\.credentialsFile/],
      [{ credentialsFile: 'lm.json' }, /localModule\.credentialsFile.*absolute/],
      [{ credentialsFile: '/lm.json', url: 'https://lm:5995' }, /localModule\.url/],
      [{ credentialsFile: '/lm.json', url: 'http://admin:pw@lm:5995' }, /localModule\.url.*credentialsFile/],
      [{ credentialsFile: '/lm.json', apiVersion: 3 }, /localModule\.apiVersion/],
      [{ credentialsFile: '/lm.json', timeoutMs: 50 }, /localModule\.timeoutMs/],
      [{ credentialsFile: '/lm.json', maxSyncAgeHours: 0 }, /localModule\.maxSyncAgeHours/],
      [{ credentialsFile: '/lm.json', whenUnavailable: 'sell' }, /localModule\.whenUnavailable/],
      [{ credentialsFile: '/lm.json', password: 'x' }, /localModule.*password/],
    ];
    for (const [localModule, field] of bad) {
      expect(() => parseConfig({ devices: [device(localModule)] })).toThrow(field);
    }
  });
});
