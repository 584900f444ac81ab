import type { Logger } from 'pino';
import { z } from 'zod';
import { KktAgentError, ValidationError } from '../../lib/errors.js';
import { JsonMalformedError, losslessToPlain, parseJsonLossless, parseWithSchema } from '../../lib/json.js';
import type { ControlMethods } from '../control/server.js';
import type { CommandAnswer, CommandLog } from './commandLog.js';
import { MqttError } from './errors.js';
import { openEnvelope } from './signing.js';

/**
 * MQTT commands (`…/cmd/<name>`) mapped onto the daemon's control methods, so the CLI and the cloud share
 * one implementation and one parameter schema per operation. `rebirth` is the only MQTT-local command.
 */
export const MQTT_COMMANDS = {
  fiscalize: {
    method: 'fiscalize',
    params: (p: Record<string, unknown>, cmdId: string) => ({ ...p, ref: `mqtt:${cmdId}`, via: 'mqtt' }),
  },
  openShift: { method: 'shift.open' },
  closeShift: { method: 'shift.close' },
  reportX: { method: 'report.x' },
  cashIn: { method: 'cash.in' },
  cashOut: { method: 'cash.out' },
  status: { method: 'status' },
  doctor: {
    method: 'doctor',
    // A wire trace is a file on the box: only a person at the box starts one (kkt-agent doctor --trace-wire).
    params: (p: Record<string, unknown>) => {
      if (p['traceWire'] !== undefined)
        throw new ValidationError(
          'traceWire',
          'a wire trace is started on the box only (kkt-agent doctor --trace-wire)',
        );
      return p;
    },
  },
  outboxRetry: { method: 'outbox.retry' },
  resolveJob: {
    method: 'jobs.resolve',
    params: (p: Record<string, unknown>) => ({ ...p, by: 'mqtt' }),
  },
} as const satisfies Record<
  string,
  { method: string; params?: (p: Record<string, unknown>, cmdId: string) => Record<string, unknown> }
>;

export const LOCAL_COMMANDS = ['rebirth'] as const;

export type MqttCommandName = keyof typeof MQTT_COMMANDS | (typeof LOCAL_COMMANDS)[number];

const cmdIdSchema = z
  .string({ error: 'expected a string' })
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters');

/** Signed commands must say when they were issued: a replay older than the dedupe TTL is refused. */
const issuedAtSchema = z.union([z.number().int().min(0), z.iso.datetime({ offset: true })]);

export interface CommandProcessorOptions {
  methods: ControlMethods;
  log: CommandLog;
  /** Commands handled by the MQTT service itself (rebirth). */
  local: Record<string, () => Promise<unknown>>;
  maxPayloadBytes: number;
  /** Remembered ids expire after this; signed commands older than this are refused. */
  ttlMs: number;
  /** When set, every command must be a signed envelope. */
  signingKey?: Buffer;
  /** Why an MQTT 5 response topic is refused (the command is then not run), or undefined when it is fine. */
  refuseResponseTopic?: (responseTopic: string) => string | undefined;
  logger: Logger;
}

export interface AcceptedCommand {
  /** Absent when the payload was too broken to read a cmdId from. */
  cmdId?: string;
  answer: Promise<CommandAnswer>;
  /** True when the answer is a stored one (a duplicate). */
  duplicate: boolean;
}

type ErrorAnswer = Extract<CommandAnswer, { ok: false }>;

function errorAnswer(error: unknown): ErrorAnswer {
  if (error instanceof ValidationError) {
    return { ok: false, error: { code: error.code, message: error.message, field: error.field } };
  }
  if (error instanceof KktAgentError) {
    const field = typeof error.details['field'] === 'string' ? error.details['field'] : undefined;
    return {
      ok: false,
      error:
        field === undefined
          ? { code: error.code, message: error.message }
          : { code: error.code, message: error.message, field },
    };
  }
  return {
    ok: false,
    error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) },
  };
}

const reusedError = (cmdId: string, usedFor: string) =>
  new MqttError('MQTT_CMDID_REUSED', `cmdId ${cmdId} was already used for "${usedFor}".`, { field: 'cmdId' });

/** A cmdId found without parsing (oversized or malformed payloads), so even those get an answer. */
function sniffCmdId(text: string): string | undefined {
  const found = /"cmdId"\s*:\s*"([^"\\]{1,128})"/.exec(text.slice(0, 4096));
  return found?.[1];
}

/** The inner text of something shaped like a signed envelope (to address an answer to a refused one). */
function envelopePayload(text: string): string | undefined {
  try {
    const raw: unknown = JSON.parse(text);
    const payload =
      typeof raw === 'object' && raw !== null ? (raw as { payload?: unknown }).payload : undefined;
    return typeof payload === 'string' ? payload : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks, deduplicates and runs commands. `accept` does everything that must happen before the PUBACK
 * (validation, and the fsync'd "running" record); the returned answer settles when the command is done.
 * Nothing invalid is recorded or run; a known cmdId gets its stored answer and runs nothing.
 */
export class CommandProcessor {
  private readonly inflight = new Map<string, { name: string; answer: Promise<CommandAnswer> }>();
  private counts = { accepted: 0, duplicates: 0, rejected: 0 };

  constructor(private readonly options: CommandProcessorOptions) {}

  get stats() {
    return { ...this.counts, remembered: this.options.log.size };
  }

  async accept(
    topic: string,
    name: string,
    payload: Buffer,
    responseTopic?: string,
  ): Promise<AcceptedCommand> {
    const { logger } = this.options;
    let cmdId: string | undefined;
    try {
      if (payload.length > this.options.maxPayloadBytes) {
        cmdId = sniffCmdId(payload.subarray(0, 4096).toString('utf8'));
        throw new MqttError(
          'MQTT_PAYLOAD_TOO_LARGE',
          `The payload has ${payload.length} bytes; at most ${this.options.maxPayloadBytes} are accepted.`,
          { field: '(payload)' },
        );
      }
      let text = payload.toString('utf8');
      if (this.options.signingKey) {
        try {
          text = openEnvelope(this.options.signingKey, topic, text);
        } catch (error) {
          cmdId = sniffCmdId(envelopePayload(text) ?? text);
          throw error;
        }
      }
      const request = this.parse(text, (id) => {
        cmdId = id;
      });
      cmdId = request.cmdId;
      this.checkResponseTopic(responseTopic);
      const running = this.inflight.get(cmdId);
      if (running) {
        if (running.name !== name) throw reusedError(cmdId, running.name);
        return this.duplicate(cmdId, name, running.answer);
      }
      const known = this.options.log.get(cmdId);
      if (known) return this.duplicate(cmdId, name, this.storedAnswer(cmdId, name, known));
      const run = this.prepare(name, request);
      // The "running" record is fsync'd before the PUBACK; the inflight entry is set before the first await,
      // so a redelivery arriving meanwhile joins this run instead of starting another.
      const begun = this.options.log.begin(request.cmdId, name);
      const answer = this.execute(request.cmdId, name, begun, run);
      this.inflight.set(request.cmdId, { name, answer });
      void answer.finally(() => this.inflight.delete(request.cmdId));
      this.counts.accepted++;
      await begun.catch(() => undefined);
      return { cmdId, answer, duplicate: false };
    } catch (error) {
      this.counts.rejected++;
      const answer = errorAnswer(error);
      logger.warn({
        event: 'mqtt.command.rejected',
        command: name,
        cmdId,
        code: answer.error.code,
        field: answer.error.field,
      });
      return { cmdId, answer: Promise.resolve(answer), duplicate: false };
    }
  }

  private duplicate(cmdId: string, name: string, answer: Promise<CommandAnswer>): AcceptedCommand {
    this.counts.duplicates++;
    this.options.logger.info({ event: 'mqtt.command.duplicate', command: name, cmdId });
    return { cmdId, answer, duplicate: true };
  }

  private async storedAnswer(
    cmdId: string,
    name: string,
    record: NonNullable<ReturnType<CommandLog['get']>>,
  ): Promise<CommandAnswer> {
    if (record.name !== name) return errorAnswer(reusedError(cmdId, record.name));
    if (record.state === 'done' && record.answer) return record.answer;
    // Recorded as running by an earlier process that stopped before answering: it may or may not have run.
    const answer = errorAnswer(
      new MqttError(
        'MQTT_COMMAND_OUTCOME_UNKNOWN',
        `The agent restarted while running command ${cmdId}; it was not run again. Check the status or the journal.`,
      ),
    );
    await this.options.log.finish(cmdId, answer);
    return answer;
  }

  /** JSON object with a cmdId (and, when signed, a fresh issuedAt). Reports the cmdId as soon as it is known. */
  private parse(
    text: string,
    onCmdId: (cmdId: string) => void,
  ): { cmdId: string; params: Record<string, unknown> } {
    let raw: unknown;
    try {
      raw = losslessToPlain(parseJsonLossless(text));
    } catch (error) {
      const sniffed = sniffCmdId(text);
      if (sniffed) onCmdId(sniffed);
      if (error instanceof JsonMalformedError) throw error;
      throw new MqttError('JSON_MALFORMED', 'The payload is not valid JSON.');
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new ValidationError('', 'expected a JSON object {"cmdId": "…", …params}');
    }
    const { cmdId: rawCmdId, issuedAt, ...params } = raw as Record<string, unknown>;
    if (typeof rawCmdId === 'string' && rawCmdId.length > 0 && rawCmdId.length <= 128) onCmdId(rawCmdId);
    const cmdId = parseWithSchema(cmdIdSchema, rawCmdId, 'cmdId');
    if (this.options.signingKey) this.checkIssuedAt(issuedAt);
    return { cmdId, params };
  }

  /** A response topic that would relay the answer into a command tree refuses the whole command. */
  private checkResponseTopic(responseTopic: string | undefined): void {
    if (responseTopic === undefined) return;
    const reason = this.options.refuseResponseTopic?.(responseTopic);
    if (reason === undefined) return;
    throw new MqttError('MQTT_RESPONSE_TOPIC_REFUSED', `The response topic is refused: ${reason}.`, {
      field: '(responseTopic)',
    });
  }

  private checkIssuedAt(issuedAt: unknown): void {
    const parsed = parseWithSchema(issuedAtSchema, issuedAt, 'issuedAt');
    const at = typeof parsed === 'number' ? parsed : Date.parse(parsed);
    if (Math.abs(Date.now() - at) > this.options.ttlMs) {
      throw new MqttError(
        'MQTT_COMMAND_EXPIRED',
        `The command was issued at ${new Date(at).toISOString()}, outside the ${this.options.ttlMs / 3_600_000} h window this agent accepts.`,
        { field: 'issuedAt' },
      );
    }
  }

  /** Resolves the command and checks its parameters; throws (nothing recorded) when either is wrong. */
  private prepare(
    name: string,
    request: { cmdId: string; params: Record<string, unknown> },
  ): () => Promise<unknown> {
    const local = Object.hasOwn(this.options.local, name) ? this.options.local[name] : undefined;
    if (local) return local;
    const command = Object.hasOwn(MQTT_COMMANDS, name)
      ? MQTT_COMMANDS[name as keyof typeof MQTT_COMMANDS]
      : undefined;
    const method = command ? this.options.methods[command.method] : undefined;
    if (!command || !method) {
      const known = [...Object.keys(MQTT_COMMANDS), ...Object.keys(this.options.local)].join(', ');
      throw new MqttError('MQTT_UNKNOWN_COMMAND', `Unknown command "${name}". Known: ${known}.`, {
        field: '(topic)',
      });
    }
    const mapped = 'params' in command ? command.params(request.params, request.cmdId) : request.params;
    const params: unknown = parseWithSchema(method.params, mapped);
    return () => method.handle(params);
  }

  private execute(
    cmdId: string,
    name: string,
    begun: Promise<void>,
    run: () => Promise<unknown>,
  ): Promise<CommandAnswer> {
    const { log, logger } = this.options;
    return (async (): Promise<CommandAnswer> => {
      try {
        await begun;
      } catch (error) {
        // Not recorded, so not run: the sender may retry with the same cmdId.
        return errorAnswer(error);
      }
      logger.info({ event: 'mqtt.command.started', command: name, cmdId });
      let answer: CommandAnswer;
      try {
        answer = { ok: true, result: (await run()) ?? null };
      } catch (error) {
        answer = errorAnswer(error);
        if (!(error instanceof KktAgentError)) {
          logger.error({
            event: 'mqtt.command.internal-error',
            command: name,
            cmdId,
            reason: (error as Error).message,
          });
        }
      }
      try {
        await log.finish(cmdId, answer);
      } catch (error) {
        logger.error({
          event: 'mqtt.command.record-failed',
          command: name,
          cmdId,
          reason: (error as Error).message,
        });
      }
      logger.info({
        event: 'mqtt.command.done',
        command: name,
        cmdId,
        ok: answer.ok,
        code: answer.ok ? undefined : answer.error.code,
      });
      return answer;
    })();
  }
}
