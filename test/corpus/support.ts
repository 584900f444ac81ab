import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { expect } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { agentControlMethods } from '../../src/agent/control/methods.js';
import type { ControlMethods } from '../../src/agent/control/server.js';
import { KktAgentError } from '../../src/lib/errors.js';
import { parseWithSchema } from '../../src/lib/json.js';
import { FakeDevice } from '../support/fakeDevice.js';
import { RecordingSink } from '../support/recordingSink.js';

/**
 * The bad-input corpus: every case must end in a typed error (a KktAgentError with a stable code, naming
 * the field where there is one) and leave nothing behind. These helpers catch and check the error.
 */

export interface Expected {
  code: string | RegExp;
  /** The field the error must name (`error.field` or `details.field`), exactly or by pattern. */
  field?: string | RegExp;
}

export function fieldOf(error: KktAgentError): string | undefined {
  const own = (error as { field?: unknown }).field;
  if (typeof own === 'string') return own;
  const detail = error.details['field'];
  return typeof detail === 'string' ? detail : undefined;
}

export function expectTyped(error: unknown, expected: Expected): KktAgentError {
  if (!(error instanceof KktAgentError)) {
    throw new Error(
      `expected a KktAgentError, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    );
  }
  if (typeof expected.code === 'string') expect(error.code).toBe(expected.code);
  else expect(error.code).toMatch(expected.code);
  if (expected.field !== undefined) {
    const field = fieldOf(error);
    if (typeof expected.field === 'string') expect(field).toBe(expected.field);
    else expect(field ?? '').toMatch(expected.field);
  }
  return error;
}

/** Runs `work`, which must throw; returns the error checked against `expected`. */
export function typedError(work: () => unknown, expected: Expected): KktAgentError {
  let thrown: unknown;
  try {
    work();
  } catch (error) {
    thrown = error;
  }
  if (thrown === undefined) throw new Error('expected an error, but the input was accepted');
  return expectTyped(thrown, expected);
}

export async function typedRejection(
  work: () => Promise<unknown>,
  expected: Expected,
): Promise<KktAgentError> {
  let thrown: unknown;
  try {
    await work();
  } catch (error) {
    thrown = error;
  }
  if (thrown === undefined) throw new Error('expected an error, but the input was accepted');
  return expectTyped(thrown, expected);
}

export async function tempDir(
  prefix = 'kkt-corpus-',
): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** What a case may not change: the journals, the jobs, what the device printed, what the sink received. */
export interface Footprint {
  /** Transactions committed to the store (jobs and outbox). */
  commits: number;
  jobs: number;
  printed: number;
  delivered: number;
}

export interface CorpusAgent {
  agent: Agent;
  device: FakeDevice;
  sink: RecordingSink;
  methods: ControlMethods;
  /** As the control socket calls a method: the params parsed with its schema, then the handler. */
  call(name: string, params: unknown): Promise<unknown>;
  footprint(): Footprint;
  close(): Promise<void>;
}

/** A real Agent (journals fsync'd in a temp dir) with an in-memory device and sink. */
export async function openCorpusAgent(): Promise<CorpusAgent> {
  const dir = await tempDir();
  const device = new FakeDevice('kkt');
  const sink = new RecordingSink('corpus');
  const agent = await Agent.open({
    dataDir: dir.path,
    logger: pino({ level: 'silent' }),
    devices: [device],
    connectors: [],
    sinks: [sink],
    router: () => device.id,
    fiscalizer: { retryDelayMs: 10, maxRetryDelayMs: 20, maxAttempts: 2, stopTimeoutMs: 2000 },
    outbox: { initialBackoffMs: 10, maxBackoffMs: 50 },
  });
  await agent.start();
  await agent.serving();
  const methods = agentControlMethods(agent, { version: 'corpus' });
  return {
    agent,
    device,
    sink,
    methods,
    async call(name, params) {
      const method = methods[name];
      if (!method) throw new Error(`no method ${name}`);
      return method.handle(parseWithSchema(method.params, params));
    },
    footprint: () => ({
      commits: agent.storeStats.commits,
      jobs: agent.jobs.all().length,
      printed: device.printed.length,
      delivered: sink.delivered.length,
    }),
    async close() {
      await agent.stop();
      await dir.remove();
    },
  };
}

export { until } from '../support/until.js';
