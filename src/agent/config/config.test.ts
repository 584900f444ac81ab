import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, loadConfigFile, parseConfig } from './config.js';

const operator = { name: 'Кассир' };
const minimal = { devices: [{ id: 'kkt', kind: 'atol', link: { type: 'tcp', host: '10.0.0.5' }, operator }] };

const errorOf = (value: unknown) => {
  try {
    parseConfig(value);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a config error');
};

describe('config', () => {
  it('fills defaults a shop can live with', () => {
    const config = parseConfig(minimal);
    expect(config.devices[0]).toMatchObject({
      link: { type: 'tcp', port: 5555 },
      operatorPassword: 30,
      replyTimeoutMs: 500,
    });
    expect(config.dataDir).toBe('/var/lib/kkt-agent');
    expect(config.connectors).toEqual({ bridge: [], moysklad: [], oxsystem: [] });
    expect(config.fiscalizer.stopTimeoutMs).toBe(60_000);
    expect(config.vat).toEqual({});
  });

  it.each([
    [{ devices: [] }, 'devices: configure at least one fiscal device'],
    [
      { devices: [{ id: 'kkt', kind: 'atol', link: { type: 'tcp', host: 'x', port: 70000 }, operator }] },
      'devices[0].link.port',
    ],
    [
      { devices: [{ id: 'kkt', kind: 'atol', link: { type: 'usb' }, operator, taxBytes: { vat22: 300 } }] },
      'devices[0].taxBytes.vat22: must be a byte 1–255',
    ],
    [
      { devices: [{ id: 'kkt', kind: 'atol', link: { type: 'usb' }, operator, taxBytes: { vat23: 9 } }] },
      'devices[0].taxBytes',
    ],
    [{ devices: [{ id: 'KKT!', kind: 'atol', link: { type: 'usb' }, operator }] }, 'devices[0].id'],
    [
      { devices: [{ id: 'kkt', kind: 'atol', link: { type: 'usb' } }] },
      'devices[0].operator: required: the cashier printed on every receipt (tag 1021)',
    ],
    [
      { devices: [{ id: 'kkt', kind: 'atol-web' }] },
      'devices[0].operator: required: the cashier printed on every receipt (tag 1021)',
    ],
    [
      { devices: [{ id: 'kkt', kind: 'atol', link: { type: 'usb' }, operator: { name: 'Кассир\n' } }] },
      'devices[0].operator.name: must not contain control characters',
    ],
    [{ ...minimal, vat: { allowRetiredRatesUntil: '31.03.2026' } }, 'vat.allowRetiredRatesUntil'],
    [
      {
        ...minimal,
        vat: {
          table: [
            { from: '2026-01-01', basis: '425-FZ', rates: [{ vat: ['vat22'] }] },
            { from: '2025-01-01', basis: '176-FZ', rates: [{ vat: ['vat20'] }] },
          ],
        },
      },
      "vat.table[1].from: must come after the previous period's 2026-01-01",
    ],
    [
      { ...minimal, vat: { table: [{ from: '2026-01-01', basis: 'x', rates: [{ vat: ['vat18'] }] }] } },
      'vat.table[0].rates[0].vat[0]',
    ],
    [{ devices: [{ id: 'kkt', kind: 'fancy' }] }, 'devices[0].kind'],
    [
      { ...minimal, devices: [...minimal.devices, ...minimal.devices] },
      'devices[1].id: duplicate device id "kkt"',
    ],
    [{ ...minimal, routing: { defaultDevice: 'nope' } }, 'routing.defaultDevice: no device "nope"'],
    [{ ...minimal, timeZone: 'Mars/Olympus' }, 'timeZone: must be an IANA time zone'],
    [
      { ...minimal, connectors: { bridge: [{ id: 'a', baseUrl: 'ftp://x' }] } },
      'connectors.bridge[0].baseUrl',
    ],
    [
      { ...minimal, connectors: { bridge: [{ id: 'a', baseUrl: 'http://x', device: 'other' }] } },
      'connectors.bridge[0].device: no device "other"',
    ],
    [
      { ...minimal, connectors: { bridge: [{ id: 'a', baseUrl: 'http://x', prepayment: 'offset' }] } },
      'connectors.bridge[0].prepayment: Invalid option: expected one of "refuse"|"offsetElsewhere"',
    ],
    [{ ...minimal, unknownKey: 1 }, 'unknownKey'],
  ])('names the bad field: %#', (value, expected) => {
    expect(errorOf(value)).toContain(expected);
  });

  it('validates the shipped example config', async () => {
    const config = await loadConfigFile(join(import.meta.dirname, '..', '..', '..', 'config.example.json'));
    expect(config.devices[0]?.kind).toBe('atol');
  });

  it('reports unreadable and malformed files with the path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kkt-config-'));
    try {
      await expect(loadConfigFile(join(dir, 'missing.json'))).rejects.toMatchObject({
        code: 'CONFIG_UNREADABLE',
      });
      await writeFile(join(dir, 'bad.json'), '{ "devices": [ }');
      await expect(loadConfigFile(join(dir, 'bad.json'))).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining('bad.json is not valid JSON'),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exports a JSON Schema that marks restart-required fields', () => {
    const schema = configJsonSchema() as { properties: Record<string, { restartRequired?: boolean }> };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['devices', 'connectors', 'mqtt', 'schedules', 'outbox']),
    );
    expect(schema.properties.devices?.restartRequired).toBe(true);
  });
});
