import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfigFile, parseConfig } from '../../src/agent/config/config.js';
import { KktAgentError } from '../../src/lib/errors.js';
import { runCli } from '../support/agentProcess.js';
import { type Expected, tempDir, typedError, typedRejection } from './support.js';

/**
 * Config files that must be refused: every case is a minimal valid config broken in one way. `parseConfig`
 * must throw CONFIG_INVALID naming the field (`devices[0].link.port`), print nothing and touch no file;
 * `kkt-agent config validate` must exit non-zero without creating the data directory.
 */

type Json = Record<string, unknown>;
const atol = (patch: Json = {}): Json => ({
  id: 'kkt',
  kind: 'atol',
  link: { type: 'tcp', host: '127.0.0.1', port: 5555 },
  operator: { name: 'Кассир' },
  ...patch,
});
const valid = (patch: Json = {}): Json => ({
  dataDir: '/var/lib/kkt-agent',
  timeZone: 'Europe/Moscow',
  devices: [atol()],
  ...patch,
});
const bridge = (patch: Json = {}): Json => ({
  id: 'shop-1',
  baseUrl: 'https://crm.example.ru/bridge',
  ...patch,
});
const mqtt = (patch: Json = {}): Json => ({
  url: 'mqtt://broker.example:1883',
  deviceId: 'shop-1',
  ...patch,
});
const on = (field: string | RegExp): Expected => ({ code: 'CONFIG_INVALID', field });

const CASES: Array<[string, unknown, Expected]> = [
  ['the config is null', null, on('')],
  ['the config is an array', [valid()], on('')],
  ['the config is a string', 'kkt', on('')],
  ['an unknown top-level field', valid({ colour: 'red' }), on('colour')],
  ['a misspelt section', valid({ conectors: {} }), on('conectors')],
  ['no devices', valid({ devices: undefined }), on('devices')],
  ['an empty device list', valid({ devices: [] }), on('devices')],
  ['devices an object', valid({ devices: atol() }), on('devices')],
  ['version negative', valid({ version: -1 }), on('version')],
  ['version a fraction', valid({ version: 1.5 }), on('version')],
  ['dataDir empty', valid({ dataDir: '' }), on('dataDir')],
  // Issue 18.6: a service's working directory is /, and `..` hides where a path points.
  ['dataDir relative', valid({ dataDir: 'var/lib/kkt-agent' }), on('dataDir')],
  ['dataDir climbing with ..', valid({ dataDir: '/var/lib/kkt-agent/../../etc' }), on('dataDir')],
  [
    'control.socketPath on the jobs journal',
    valid({ control: { socketPath: '/var/lib/kkt-agent/jobs.jsonl' } }),
    on('control.socketPath'),
  ],
  [
    'control.socketPath on the data directory itself',
    valid({ control: { socketPath: '/var/lib/kkt-agent' } }),
    on('control.socketPath'),
  ],
  ['control.socketPath relative', valid({ control: { socketPath: 'kkt.sock' } }), on('control.socketPath')],
  [
    'control.socketPath climbing with ..',
    valid({ control: { socketPath: '/run/kkt/../../var/lib/kkt-agent/outbox.jsonl' } }),
    on('control.socketPath'),
  ],
  ['log file relative', valid({ log: { file: { path: 'kkt.log' } } }), on('log.file.path')],
  [
    'log file climbing with ..',
    valid({ log: { file: { path: '/var/log/../tmp/kkt.log' } } }),
    on('log.file.path'),
  ],
  [
    'log file on the outbox journal',
    valid({ log: { file: { path: '/var/lib/kkt-agent/outbox.jsonl' } } }),
    on('log.file.path'),
  ],
  ['timeZone unknown', valid({ timeZone: 'Mars/Olympus_Mons' }), on('timeZone')],
  ['timeZone an offset', valid({ timeZone: 42 }), on('timeZone')],
  ['device id upper case', valid({ devices: [atol({ id: 'KKT' })] }), on('devices[0].id')],
  ['device id with a space', valid({ devices: [atol({ id: 'kkt 1' })] }), on('devices[0].id')],
  ['device id empty', valid({ devices: [atol({ id: '' })] }), on('devices[0].id')],
  ['device id longer than 32', valid({ devices: [atol({ id: 'k'.repeat(33) })] }), on('devices[0].id')],
  ['device kind unknown', valid({ devices: [atol({ kind: 'epson' })] }), on(/^devices\[0\]/)],
  ['device without a kind', valid({ devices: [atol({ kind: undefined })] }), on(/^devices\[0\]/)],
  ['two devices with one id', valid({ devices: [atol(), atol()] }), on('devices[1].id')],
  ['link missing', valid({ devices: [atol({ link: undefined })] }), on('devices[0].link')],
  [
    'link type unknown',
    valid({ devices: [atol({ link: { type: 'bluetooth' } })] }),
    on(/^devices\[0\]\.link/),
  ],
  [
    'tcp port 0',
    valid({ devices: [atol({ link: { type: 'tcp', host: 'h', port: 0 } })] }),
    on('devices[0].link.port'),
  ],
  [
    'tcp port 70000',
    valid({ devices: [atol({ link: { type: 'tcp', host: 'h', port: 70_000 } })] }),
    on('devices[0].link.port'),
  ],
  [
    'tcp port text',
    valid({ devices: [atol({ link: { type: 'tcp', host: 'h', port: '5555' } })] }),
    on('devices[0].link.port'),
  ],
  [
    'tcp host empty',
    valid({ devices: [atol({ link: { type: 'tcp', host: '' } })] }),
    on('devices[0].link.host'),
  ],
  [
    'serial without a path',
    valid({ devices: [atol({ link: { type: 'serial' } })] }),
    on('devices[0].link.path'),
  ],
  [
    'serial baud rate negative',
    valid({ devices: [atol({ link: { type: 'serial', path: '/dev/ttyACM0', baudRate: -9600 } })] }),
    on('devices[0].link.baudRate'),
  ],
  [
    'an unknown link field',
    valid({ devices: [atol({ link: { type: 'usb', vid: 2912 } })] }),
    on('devices[0].link.vid'),
  ],
  [
    'accessPassword 10000',
    valid({ devices: [atol({ accessPassword: 10_000 })] }),
    on('devices[0].accessPassword'),
  ],
  [
    'operatorPassword 0',
    valid({ devices: [atol({ operatorPassword: 0 })] }),
    on('devices[0].operatorPassword'),
  ],
  ['operator without a name', valid({ devices: [atol({ operator: {} })] }), on('devices[0].operator.name')],
  [
    'no operator (the cashier on every receipt)',
    valid({ devices: [atol({ operator: undefined })] }),
    on('devices[0].operator'),
  ],
  [
    'no operator on a driver-10 register',
    valid({ devices: [{ id: 'web', kind: 'atol-web' }] }),
    on('devices[0].operator'),
  ],
  [
    'operator name blank',
    valid({ devices: [atol({ operator: { name: '   ' } })] }),
    on('devices[0].operator.name'),
  ],
  [
    'operator name with a line feed',
    valid({ devices: [atol({ operator: { name: 'Иванова\nА.' } })] }),
    on('devices[0].operator.name'),
  ],
  [
    'SmartX cashier with an escape',
    valid({ devices: [{ id: 'smartx', kind: 'intent', cashier: 'Кассир\u001b' }] }),
    on('devices[0].cashier'),
  ],
  ['vat section a string', valid({ vat: '22%' }), on('vat')],
  [
    'vat transition date not ISO',
    valid({ vat: { allowRetiredRatesUntil: '31.03.2026' } }),
    on('vat.allowRetiredRatesUntil'),
  ],
  ['vat unknown key', valid({ vat: { rate: 22 } }), on('vat.rate')],
  ['vat table empty', valid({ vat: { table: [] } }), on('vat.table')],
  [
    'vat table period without rates',
    valid({ vat: { table: [{ from: '2026-01-01', basis: '425-FZ', rates: [] }] } }),
    on('vat.table[0].rates'),
  ],
  [
    'vat table with an unknown rate',
    valid({ vat: { table: [{ from: '2026-01-01', basis: '425-FZ', rates: [{ vat: ['vat18'] }] }] } }),
    on('vat.table[0].rates[0].vat[0]'),
  ],
  [
    'vat table with an unknown taxation system',
    valid({
      vat: {
        table: [{ from: '2026-01-01', basis: 'b', rates: [{ vat: ['vat5'], taxationSystems: ['envd'] }] }],
      },
    }),
    on('vat.table[0].rates[0].taxationSystems[0]'),
  ],
  [
    'vat table periods out of order',
    valid({
      vat: {
        table: [
          { from: '2026-01-01', basis: 'b', rates: [{ vat: ['vat22'] }] },
          { from: '2026-01-01', basis: 'b', rates: [{ vat: ['vat20'] }] },
        ],
      },
    }),
    on('vat.table[1].from'),
  ],
  [
    'operator INN of 11 digits',
    valid({ devices: [atol({ operator: { name: 'К', vatin: '12345678901' } })] }),
    on('devices[0].operator.vatin'),
  ],
  [
    'taxationType unknown',
    valid({ devices: [atol({ taxationType: 'flat' })] }),
    on('devices[0].taxationType'),
  ],
  [
    'command timeout key in lower case',
    valid({ devices: [atol({ commandTimeoutsMs: { '4a': 1000 } })] }),
    on(/^devices\[0\]\.commandTimeoutsMs/),
  ],
  [
    'command timeout of 10 ms',
    valid({ devices: [atol({ commandTimeoutsMs: { '4A': 10 } })] }),
    on(/^devices\[0\]\.commandTimeoutsMs/),
  ],
  ['replyTimeoutMs 1', valid({ devices: [atol({ replyTimeoutMs: 1 })] }), on('devices[0].replyTimeoutMs')],
  [
    'reconnect.maxDelayMs 50',
    valid({ devices: [atol({ reconnect: { maxDelayMs: 50 } })] }),
    on('devices[0].reconnect.maxDelayMs'),
  ],
  [
    'intent baseUrl ftp',
    valid({ devices: [{ id: 'pos', kind: 'intent', baseUrl: 'ftp://10.0.0.2' }] }),
    on('devices[0].baseUrl'),
  ],
  [
    'intent saleTimeoutMs 10',
    valid({ devices: [{ id: 'pos', kind: 'intent', saleTimeoutMs: 10 }] }),
    on('devices[0].saleTimeoutMs'),
  ],
  ['log level verbose', valid({ log: { level: 'verbose' } }), on('log.level')],
  ['log module level loud', valid({ log: { modules: { kkt: 'loud' } } }), on('log.modules.kkt')],
  [
    'log file of 0 MB',
    valid({ log: { file: { path: '/var/log/kkt.log', maxSizeMb: 0 } } }),
    on('log.file.maxSizeMb'),
  ],
  [
    'routing to an unknown device',
    valid({ routing: { defaultDevice: 'nope' } }),
    on('routing.defaultDevice'),
  ],
  [
    'a routing rule to an unknown device',
    valid({ routing: { rules: [{ device: 'nope' }] } }),
    on('routing.rules[0].device'),
  ],
  [
    'a routing rule without a device',
    valid({ routing: { rules: [{ source: 'bridge' }] } }),
    on('routing.rules[0].device'),
  ],
  ['fiscalizer.retryDelayMs 1', valid({ fiscalizer: { retryDelayMs: 1 } }), on('fiscalizer.retryDelayMs')],
  ['fiscalizer.maxAttempts 0', valid({ fiscalizer: { maxAttempts: 0 } }), on('fiscalizer.maxAttempts')],
  [
    'fiscalizer.retryDelayMs text',
    valid({ fiscalizer: { retryDelayMs: 'fast' } }),
    on('fiscalizer.retryDelayMs'),
  ],
  ['outbox.initialBackoffMs 1', valid({ outbox: { initialBackoffMs: 1 } }), on('outbox.initialBackoffMs')],
  ['outbox.maxBackoffMs 10', valid({ outbox: { maxBackoffMs: 10 } }), on('outbox.maxBackoffMs')],
  [
    'outbox.retainDeliveredDays 0',
    valid({ outbox: { retainDeliveredDays: 0 } }),
    on('outbox.retainDeliveredDays'),
  ],
  ['journal.retainDays 0', valid({ journal: { retainDays: 0 } }), on('journal.retainDays')],
  ['schedules: a bad cron', valid({ schedules: { zReport: 'at midnight' } }), on('schedules.zReport')],
  ['schedules: ofdAlertDays 30', valid({ schedules: { ofdAlertDays: 30 } }), on('schedules.ofdAlertDays')],
  ['connectors: an unknown cloud', valid({ connectors: { evotor: [] } }), on('connectors.evotor')],
  [
    'bridge without a baseUrl',
    valid({ connectors: { bridge: [bridge({ baseUrl: undefined })] } }),
    on('connectors.bridge[0].baseUrl'),
  ],
  [
    'bridge baseUrl ftp',
    valid({ connectors: { bridge: [bridge({ baseUrl: 'ftp://crm.example.ru' })] } }),
    on('connectors.bridge[0].baseUrl'),
  ],
  [
    'bridge baseUrl not a URL',
    valid({ connectors: { bridge: [bridge({ baseUrl: 'crm' })] } }),
    on('connectors.bridge[0].baseUrl'),
  ],
  ['mqtt url not a URL', valid({ mqtt: mqtt({ url: 'broker' }) }), on('mqtt.url')],
  ['mqtt url without a host', valid({ mqtt: mqtt({ url: 'mqtt://' }) }), on('mqtt.url')],
  [
    'state postUrl with a password',
    valid({ state: { postUrl: 'https://u:p@cloud.example/state' } }),
    on('state.postUrl'),
  ],
  [
    'bridge id with a slash',
    valid({ connectors: { bridge: [bridge({ id: 'a/b' })] } }),
    on('connectors.bridge[0].id'),
  ],
  [
    'bridge poll every 10 ms',
    valid({ connectors: { bridge: [bridge({ autoFiscalize: { intervalMs: 10 } })] } }),
    on('connectors.bridge[0].autoFiscalize.intervalMs'),
  ],
  [
    'bridge notBefore in words',
    valid({ connectors: { bridge: [bridge({ autoFiscalize: { notBefore: 'last week' } })] } }),
    on('connectors.bridge[0].autoFiscalize.notBefore'),
  ],
  [
    'bridge retries 11',
    valid({ connectors: { bridge: [bridge({ retries: 11 })] } }),
    on('connectors.bridge[0].retries'),
  ],
  [
    'bridge payment by cheque',
    valid({ connectors: { bridge: [bridge({ defaultPayment: 'cheque' })] } }),
    on('connectors.bridge[0].defaultPayment'),
  ],
  [
    'bridge auth type unknown',
    valid({ connectors: { bridge: [bridge({ auth: { type: 'oauth' } })] } }),
    on(/^connectors\.bridge\[0\]\.auth/),
  ],
  [
    'two bridge accounts with one id',
    valid({ connectors: { bridge: [bridge(), bridge()] } }),
    on('connectors.bridge[1].id'),
  ],
  [
    'a bridge account on an unknown device',
    valid({ connectors: { bridge: [bridge({ device: 'nope' })] } }),
    on('connectors.bridge[0].device'),
  ],
  ['mqtt url http', valid({ mqtt: mqtt({ url: 'http://broker:1883' }) }), on('mqtt.url')],
  ['mqtt url with credentials', valid({ mqtt: mqtt({ url: 'mqtt://user:pw@broker:1883' }) }), on('mqtt.url')],
  ['mqtt deviceId with a slash', valid({ mqtt: mqtt({ deviceId: 'shop/1' }) }), on('mqtt.deviceId')],
  ['mqtt deviceId a wildcard', valid({ mqtt: mqtt({ deviceId: '#' }) }), on('mqtt.deviceId')],
  [
    'mqtt topicPrefix with a leading slash',
    valid({ mqtt: mqtt({ topicPrefix: '/kkt' }) }),
    on('mqtt.topicPrefix'),
  ],
  [
    'mqtt requireSigned without a key',
    valid({ mqtt: mqtt({ requireSigned: true }) }),
    on('mqtt.requireSigned'),
  ],
  [
    'mqtt password and passwordFile',
    valid({ mqtt: mqtt({ password: 'a', passwordFile: '/etc/p' }) }),
    on('mqtt.passwordFile'),
  ],
  ['mqtt keepalive of 1 s', valid({ mqtt: mqtt({ keepaliveSeconds: 1 }) }), on('mqtt.keepaliveSeconds')],
  [
    'mqtt tls certFile without keyFile',
    valid({ mqtt: mqtt({ tls: { certFile: '/etc/c.pem' } }) }),
    on('mqtt.tls.keyFile'),
  ],
  ['mqtt protocol 4', valid({ mqtt: mqtt({ protocol: '4' }) }), on('mqtt.protocol')],
  [
    'mqtt reconnect backwards',
    valid({ mqtt: mqtt({ reconnect: { initialDelayMs: 5000, maxDelayMs: 1000 } }) }),
    on('mqtt.reconnect.maxDelayMs'),
  ],
];

describe('config corpus: CONFIG_INVALID naming the field, nothing printed', () => {
  let writes: ReturnType<typeof vi.spyOn>[] = [];

  beforeEach(() => {
    writes = [vi.spyOn(process.stdout, 'write'), vi.spyOn(process.stderr, 'write')];
  });

  afterEach(() => {
    for (const spy of writes) {
      expect(spy).not.toHaveBeenCalled();
      spy.mockRestore();
    }
  });

  it('the minimal config the cases start from is valid', () => {
    expect(parseConfig(valid()).devices[0]?.id).toBe('kkt');
  });

  it.each(CASES)('%s', (_name, config, expected) => {
    typedError(() => parseConfig(config), expected);
  });

  it('random values in random sections: a config or CONFIG_INVALID, never anything else', () => {
    const sections = [
      'devices',
      'routing',
      'fiscalizer',
      'outbox',
      'journal',
      'log',
      'mqtt',
      'connectors',
      'schedules',
      'state',
      'control',
      'vat',
    ];
    fc.assert(
      fc.property(fc.constantFrom(...sections), fc.jsonValue(), (section, value) => {
        try {
          parseConfig(valid({ [section]: value }));
        } catch (error) {
          expect(error).toBeInstanceOf(KktAgentError);
          expect((error as KktAgentError).code).toBe('CONFIG_INVALID');
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('config files', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    dir = await tempDir();
  });

  afterAll(async () => {
    await dir.remove();
  });

  const FILES: Array<[string, string | undefined, string]> = [
    ['a missing file', undefined, 'CONFIG_UNREADABLE'],
    ['an empty file', '', 'CONFIG_INVALID'],
    ['not JSON', 'devices: [kkt]\n', 'CONFIG_INVALID'],
    ['JSON with a trailing comma', '{"devices": [],}', 'CONFIG_INVALID'],
    ['JSON with comments', '// the register\n{"devices": []}', 'CONFIG_INVALID'],
    ['valid JSON, invalid config', JSON.stringify({ devices: [] }), 'CONFIG_INVALID'],
  ];

  it.each(FILES)('%s', async (name, text, code) => {
    const path = join(dir.path, `${name.replaceAll(' ', '-')}.json`);
    if (text !== undefined) await writeFile(path, text);
    await typedRejection(() => loadConfigFile(path), { code });
  });

  it('a directory where the file should be', async () => {
    const path = join(dir.path, 'config.d');
    await mkdir(path);
    await typedRejection(() => loadConfigFile(path), { code: 'CONFIG_UNREADABLE' });
  });

  it('`kkt-agent config validate` exits non-zero, names the field, and creates nothing', async () => {
    const dataDir = join(dir.path, 'data-never-created');
    const path = join(dir.path, 'bad-port.json');
    await writeFile(
      path,
      JSON.stringify(valid({ dataDir, devices: [atol({ link: { type: 'tcp', host: 'h', port: 0 } })] })),
    );
    const before = await readdir(dir.path);
    const result = await runCli(['config', 'validate', path]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('devices[0].link.port');
    expect(result.stdout).toBe('');
    expect(await readdir(dir.path)).toEqual(before);
  });
});
