import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandAnswer } from '../../src/agent/mqtt/commandLog.js';
import { CommandLog } from '../../src/agent/mqtt/commandLog.js';
import { CommandProcessor } from '../../src/agent/mqtt/commands.js';
import { signEnvelope } from '../../src/agent/mqtt/signing.js';
import { responseTopicRefusal } from '../../src/agent/mqtt/topics.js';
import { sampleBill } from '../support/bills.js';
import { type CorpusAgent, openCorpusAgent, tempDir } from './support.js';

/**
 * MQTT commands that must be refused: broken payloads, missing or bad cmdIds, unknown commands, bad
 * parameters, and (when signing is required) unsigned, forged or stale envelopes. Each gets an error answer
 * with a stable code (and the field, where there is one); nothing is recorded in the command log and
 * nothing runs.
 */

const TOPIC = 'kkt/corpus/cmd';
const MAX_PAYLOAD = 4096;
const KEY = 'corpus-signing-key';
const KNOWN_CODES = new Set([
  'JSON_MALFORMED',
  'VALIDATION_FAILED',
  'MQTT_PAYLOAD_TOO_LARGE',
  'MQTT_UNKNOWN_COMMAND',
  'MQTT_SIGNATURE_REQUIRED',
  'MQTT_SIGNATURE_INVALID',
  'MQTT_COMMAND_EXPIRED',
]);

type ErrorAnswer = Extract<CommandAnswer, { ok: false }>;

let corpus: CorpusAgent;
let log: CommandLog;
let signedLog: CommandLog;
let processor: CommandProcessor;
let signed: CommandProcessor;
let dir: Awaited<ReturnType<typeof tempDir>>;
let signedDir: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  corpus = await openCorpusAgent();
  dir = await tempDir();
  signedDir = await tempDir();
  log = await CommandLog.open(dir.path, { ttlMs: 3_600_000 });
  signedLog = await CommandLog.open(signedDir.path, { ttlMs: 3_600_000 });
  const options = {
    methods: corpus.methods,
    local: { rebirth: async () => ({ republished: [] }) },
    maxPayloadBytes: MAX_PAYLOAD,
    ttlMs: 3_600_000,
    refuseResponseTopic: responseTopicRefusal,
    logger: pino({ level: 'silent' }),
  };
  processor = new CommandProcessor({ ...options, log });
  signed = new CommandProcessor({ ...options, log: signedLog, signingKey: Buffer.from(KEY) });
});

afterAll(async () => {
  await log.close();
  await signedLog.close();
  await corpus.close();
  await dir.remove();
  await signedDir.remove();
});

/** Sends one refused command: nothing may change, not even the command log (a corrected resend runs). */
async function refused(
  target: CommandProcessor,
  name: string,
  payload: string | Buffer,
  responseTopic?: string,
): Promise<ErrorAnswer> {
  const targetLog = target === signed ? signedLog : log;
  const before = { log: targetLog.size, ...corpus.footprint() };
  const accepted = await target.accept(
    `${TOPIC}/${name}`,
    name,
    Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
    responseTopic,
  );
  const answer = await accepted.answer;
  expect(answer.ok).toBe(false);
  expect({ log: targetLog.size, ...corpus.footprint() }).toEqual(before);
  return answer as ErrorAnswer;
}

const json = (value: unknown) => JSON.stringify(value);
const bill = () => JSON.parse(JSON.stringify(sampleBill('mq-corpus'))) as Record<string, unknown>;

const CASES: Array<{
  name: string;
  command: string;
  payload: string | Buffer;
  code: string;
  field?: string;
}> = [
  { name: 'empty payload', command: 'status', payload: '', code: 'JSON_MALFORMED' },
  {
    name: 'an unfinished object',
    command: 'cashIn',
    payload: '{"cmdId": "a", "amountMinor": ',
    code: 'JSON_MALFORMED',
  },
  { name: 'trailing garbage', command: 'status', payload: '{"cmdId": "a"} x', code: 'JSON_MALFORMED' },
  { name: 'single quotes', command: 'status', payload: "{'cmdId': 'a'}", code: 'JSON_MALFORMED' },
  {
    name: 'a duplicated key with two values',
    command: 'status',
    payload: '{"cmdId":"a","cmdId":"b"}',
    code: 'JSON_MALFORMED',
  },
  {
    name: 'bytes that are not UTF-8',
    command: 'status',
    payload: Buffer.of(0xff, 0xfe, 0x7b, 0x7d),
    code: 'JSON_MALFORMED',
  },
  { name: 'NUL bytes', command: 'status', payload: Buffer.of(0, 0, 0), code: 'JSON_MALFORMED' },
  { name: 'JSON null', command: 'status', payload: 'null', code: 'VALIDATION_FAILED', field: '' },
  { name: 'a JSON array', command: 'status', payload: '[1,2,3]', code: 'VALIDATION_FAILED', field: '' },
  { name: 'a JSON string', command: 'status', payload: '"status"', code: 'VALIDATION_FAILED', field: '' },
  { name: 'a JSON number', command: 'status', payload: '42', code: 'VALIDATION_FAILED', field: '' },
  { name: 'no cmdId', command: 'status', payload: json({}), code: 'VALIDATION_FAILED', field: 'cmdId' },
  {
    name: 'cmdId a number',
    command: 'status',
    payload: json({ cmdId: 7 }),
    code: 'VALIDATION_FAILED',
    field: 'cmdId',
  },
  {
    name: 'cmdId empty',
    command: 'status',
    payload: json({ cmdId: '' }),
    code: 'VALIDATION_FAILED',
    field: 'cmdId',
  },
  {
    name: 'cmdId null',
    command: 'status',
    payload: json({ cmdId: null }),
    code: 'VALIDATION_FAILED',
    field: 'cmdId',
  },
  {
    name: 'cmdId an object',
    command: 'status',
    payload: json({ cmdId: { id: 'a' } }),
    code: 'VALIDATION_FAILED',
    field: 'cmdId',
  },
  {
    name: 'cmdId longer than 128',
    command: 'status',
    payload: json({ cmdId: 'c'.repeat(129) }),
    code: 'VALIDATION_FAILED',
    field: 'cmdId',
  },
  {
    name: 'a payload over the size limit',
    command: 'cashIn',
    payload: json({ cmdId: 'big-1', amountMinor: 100, padding: 'x'.repeat(MAX_PAYLOAD) }),
    code: 'MQTT_PAYLOAD_TOO_LARGE',
  },
  {
    name: 'an unknown command',
    command: 'selfDestruct',
    payload: json({ cmdId: 'u-1' }),
    code: 'MQTT_UNKNOWN_COMMAND',
  },
  {
    name: 'a prototype key as command',
    command: '__proto__',
    payload: json({ cmdId: 'u-2' }),
    code: 'MQTT_UNKNOWN_COMMAND',
  },
  {
    name: 'constructor as command',
    command: 'constructor',
    payload: json({ cmdId: 'u-3' }),
    code: 'MQTT_UNKNOWN_COMMAND',
  },
  {
    name: 'a control method not mapped to MQTT',
    command: 'jobs.show',
    payload: json({ cmdId: 'u-4', id: 'x' }),
    code: 'MQTT_UNKNOWN_COMMAND',
  },
  ...(
    [
      ['missing', {}],
      ['text', { amountMinor: '100' }],
      ['a fraction', { amountMinor: 10.5 }],
      ['zero', { amountMinor: 0 }],
      ['negative', { amountMinor: -100 }],
      ['beyond 9 999 999 999', { amountMinor: 10_000_000_000 }],
      ['a boolean', { amountMinor: true }],
    ] as const
  ).flatMap(([name, params], index) =>
    (['cashIn', 'cashOut'] as const).map((command) => ({
      name: `${command}: amountMinor ${name}`,
      command,
      payload: json({ cmdId: `${command}-${index}`, ...params }),
      code: 'VALIDATION_FAILED',
      field: 'amountMinor',
    })),
  ),
  {
    name: 'cashIn: amountMinor 1e3 as text exponent',
    command: 'cashIn',
    payload: '{"cmdId":"e-1","amountMinor":"1e3"}',
    code: 'VALIDATION_FAILED',
    field: 'amountMinor',
  },
  {
    name: 'fiscalize: nothing to fiscalize',
    command: 'fiscalize',
    payload: json({ cmdId: 'f-1' }),
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'fiscalize: both a number and an id',
    command: 'fiscalize',
    payload: json({ cmdId: 'f-2', number: '1', billId: '1' }),
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'fiscalize: a bill whose total is off',
    command: 'fiscalize',
    payload: json({ cmdId: 'f-3', bill: { ...bill(), totalMinor: 1 } }),
    code: 'VALIDATION_FAILED',
    field: 'bill.totalMinor',
  },
  {
    name: 'fiscalize: a bill in dollars',
    command: 'fiscalize',
    payload: json({ cmdId: 'f-4', bill: { ...bill(), currency: 'USD' } }),
    code: 'VALIDATION_FAILED',
    field: 'bill.currency',
  },
  {
    name: 'fiscalize: payment crypto',
    command: 'fiscalize',
    payload: json({ cmdId: 'f-5', number: '1', payment: 'crypto' }),
    code: 'VALIDATION_FAILED',
    field: 'payment',
  },
  {
    name: 'fiscalize: a bill that is a string',
    command: 'fiscalize',
    payload: json({ cmdId: 'f-6', bill: 'see attachment' }),
    code: 'VALIDATION_FAILED',
    field: 'bill',
  },
  // Issue 18.5: parameter schemas are strict, as configs are; an answer relayed into cmd/ is refused.
  {
    name: 'closeShift: an answer relayed as a command (unknown key ok)',
    command: 'closeShift',
    payload: json({ cmdId: 'x-1', ok: true, result: { version: '0.1.0' } }),
    code: 'VALIDATION_FAILED',
    field: 'ok',
  },
  {
    name: 'cashIn: an unknown parameter',
    command: 'cashIn',
    payload: json({ cmdId: 'x-2', amountMinor: 100, currency: 'RUB' }),
    code: 'VALIDATION_FAILED',
    field: 'currency',
  },
  {
    name: 'status: an unknown parameter',
    command: 'status',
    payload: json({ cmdId: 'x-3', verbose: true }),
    code: 'VALIDATION_FAILED',
    field: 'verbose',
  },
  // Issue 18.4: an inline bill may only claim the MQTT source (mqtt.inlineBillSources).
  {
    name: "fiscalize: an inline bill claiming the bridge's source",
    command: 'fiscalize',
    payload: json({ cmdId: 'x-4', bill: { ...bill(), source: 'bridge', account: '120' } }),
    code: 'VALIDATION_FAILED',
    field: 'bill.source',
  },
  {
    name: 'fiscalize: an inline bill offsetting an advance receipted elsewhere',
    command: 'fiscalize',
    payload: json({
      cmdId: 'x-5',
      bill: {
        ...bill(),
        payments: [{ type: 'prepaid', amountMinor: bill().totalMinor }],
        prepaidElsewhere: true,
      },
    }),
    code: 'VALIDATION_FAILED',
    field: 'bill.prepaidElsewhere',
  },
  {
    name: 'resolveJob: printed not a boolean',
    command: 'resolveJob',
    payload: json({ cmdId: 'r-1', id: 'x', printed: 'yes' }),
    code: 'VALIDATION_FAILED',
    field: 'printed',
  },
  {
    name: 'resolveJob: no id',
    command: 'resolveJob',
    payload: json({ cmdId: 'r-2', printed: true }),
    code: 'VALIDATION_FAILED',
    field: 'id',
  },
  {
    name: 'outboxRetry: ids not a list',
    command: 'outboxRetry',
    payload: json({ cmdId: 'o-1', ids: 'all' }),
    code: 'VALIDATION_FAILED',
    field: 'ids',
  },
  {
    name: 'openShift: device not a string',
    command: 'openShift',
    payload: json({ cmdId: 's-1', device: 1 }),
    code: 'VALIDATION_FAILED',
    field: 'device',
  },
];

describe('MQTT command corpus: an error answer with a stable code, nothing recorded, nothing run', () => {
  it.each(CASES)('$name', async (item) => {
    const answer = await refused(processor, item.command, item.payload);
    expect(answer.error.code).toBe(item.code);
    if (item.field !== undefined) expect(answer.error.field).toBe(item.field);
  });

  it.each([
    ["another box's command", 'kkt/other-box/cmd/closeShift'],
    ['our own command tree', `${TOPIC}/closeShift`],
    ['a cmd level anywhere', 'fleet/cmd/reset'],
  ])('a response topic into %s refuses the command (issue 18.5)', async (_name, responseTopic) => {
    const answer = await refused(processor, 'status', json({ cmdId: 'rt-1' }), responseTopic);
    expect(answer.error).toMatchObject({ code: 'MQTT_RESPONSE_TOPIC_REFUSED', field: '(responseTopic)' });
  });

  it('JSON nested 100 000 levels deep', async () => {
    const answer = await refused(processor, 'status', `${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expect(KNOWN_CODES.has(answer.error.code)).toBe(true);
  });

  it('random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), async (bytes) => {
        const answer = await refused(processor, 'cashIn', Buffer.from(bytes));
        expect(KNOWN_CODES.has(answer.error.code)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('random JSON values (without a valid amount)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.jsonValue().filter((value) => !JSON.stringify(value ?? null).includes('amountMinor')),
        async (value) => {
          const answer = await refused(processor, 'cashIn', JSON.stringify(value ?? null));
          expect(KNOWN_CODES.has(answer.error.code)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('signed MQTT command corpus (requireSigned)', () => {
  const inner = (cmdId: string, extra: Record<string, unknown> = {}) =>
    json({ cmdId, issuedAt: new Date().toISOString(), amountMinor: 100, ...extra });
  const SIGNED_CASES: Array<[string, () => string, string, string?]> = [
    ['an unsigned command', () => inner('s-1'), 'MQTT_SIGNATURE_REQUIRED', 'sig'],
    ['an envelope without sig', () => json({ payload: inner('s-2') }), 'MQTT_SIGNATURE_REQUIRED', 'sig'],
    [
      'a sig that is not hex',
      () => json({ payload: inner('s-3'), sig: 'z'.repeat(64) }),
      'MQTT_SIGNATURE_REQUIRED',
      'sig',
    ],
    [
      'a sig by another key',
      () => signEnvelope('other-key', `${TOPIC}/cashIn`, inner('s-4')),
      'MQTT_SIGNATURE_INVALID',
      'sig',
    ],
    [
      'a sig for another topic',
      () => signEnvelope(KEY, `${TOPIC}/cashOut`, inner('s-5')),
      'MQTT_SIGNATURE_INVALID',
      'sig',
    ],
    [
      'a payload changed after signing',
      () => {
        const envelope = JSON.parse(signEnvelope(KEY, `${TOPIC}/cashIn`, inner('s-6'))) as {
          payload: string;
          sig: string;
        };
        return json({ ...envelope, payload: envelope.payload.replace('100', '900') });
      },
      'MQTT_SIGNATURE_INVALID',
      'sig',
    ],
    [
      'no issuedAt',
      () => signEnvelope(KEY, `${TOPIC}/cashIn`, json({ cmdId: 's-7', amountMinor: 100 })),
      'VALIDATION_FAILED',
      'issuedAt',
    ],
    [
      'issued two days ago',
      () => signEnvelope(KEY, `${TOPIC}/cashIn`, inner('s-8', { issuedAt: Date.now() - 2 * 86_400_000 })),
      'MQTT_COMMAND_EXPIRED',
      'issuedAt',
    ],
    [
      'issued two days ahead',
      () => signEnvelope(KEY, `${TOPIC}/cashIn`, inner('s-9', { issuedAt: Date.now() + 2 * 86_400_000 })),
      'MQTT_COMMAND_EXPIRED',
      'issuedAt',
    ],
    [
      'issuedAt not a date',
      () => signEnvelope(KEY, `${TOPIC}/cashIn`, inner('s-10', { issuedAt: 'yesterday' })),
      'VALIDATION_FAILED',
      'issuedAt',
    ],
  ];

  it.each(SIGNED_CASES)('%s', async (_name, payload, code, field) => {
    const answer = await refused(signed, 'cashIn', payload());
    expect(answer.error.code).toBe(code);
    if (field !== undefined) expect(answer.error.field).toBe(field);
  });
});

describe('after the corpus', () => {
  it('a valid command runs, once, and is recorded', async () => {
    const before = log.size;
    const accepted = await processor.accept(
      `${TOPIC}/status`,
      'status',
      Buffer.from(json({ cmdId: 'ok-1' })),
    );
    expect(await accepted.answer).toMatchObject({ ok: true, result: { version: 'corpus' } });
    expect(log.size).toBe(before + 1);
    const signedCommand = signEnvelope(KEY, `${TOPIC}/status`, json({ cmdId: 'ok-2', issuedAt: Date.now() }));
    const viaSigned = await signed.accept(`${TOPIC}/status`, 'status', Buffer.from(signedCommand));
    expect(await viaSigned.answer).toMatchObject({ ok: true });
  });
});
