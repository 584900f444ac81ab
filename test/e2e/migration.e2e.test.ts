import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AgentProcess, startAgentInDir, until } from '../support/agentProcess.js';

/**
 * The first start of the database agent over a data directory made by the 0.1.0 agent (JSONL journals,
 * test/fixtures/journals-0.1.0), with the real daemon: the import is killed half-way and after its commit,
 * and each restart ends with every job there exactly once and the journals kept beside as `*.migrated`.
 */

const FIXTURE = fileURLToPath(new URL('../fixtures/journals-0.1.0/', import.meta.url));
const expected = JSON.parse(await readFile(join(FIXTURE, 'expected.json'), 'utf8')) as {
  jobs: Record<string, number>;
  examples: Record<string, string>;
};
const totalJobs = Object.values(expected.jobs).reduce((a, b) => a + b, 0);

let dir: string;
const agents: AgentProcess[] = [];

/** One non-fiscal printer with the id the old agent's jobs name (`kkt`); no report sinks. */
async function start(env: Record<string, string> = {}, waitReady = true): Promise<AgentProcess> {
  const agent = await startAgentInDir(
    dir,
    {
      timeZone: 'Europe/Moscow',
      devices: [{ id: 'kkt', kind: 'nonfiscal', directory: join(dir, 'receipts') }],
      fiscalizer: { retryDelayMs: 100 },
    },
    { env, waitReady },
  );
  agents.push(agent);
  return agent;
}

async function crashAt(point: string): Promise<string> {
  const agent = await start({ KKT_AGENT_CRASH_AT: point }, false);
  await agent.exited;
  expect(agent.child.signalCode).toBe('SIGKILL');
  return agent.output();
}

type JobView = { id: string; state: string };
const jobsOf = async (agent: AgentProcess) =>
  ((await agent.call('jobs.list', { limit: 1000 })) as { jobs: JobView[] }).jobs;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-migration-'));
  await cp(join(FIXTURE, 'data'), join(dir, 'data'), { recursive: true });
});

afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.kill();
  await rm(dir, { recursive: true, force: true });
});

describe('migration from the JSONL journals, with the real daemon', () => {
  it('killed in the middle of the import, then after its commit: every job exactly once, journals kept beside', {
    timeout: 90_000,
  }, async () => {
    expect(await crashAt('store:journal-import:inserted')).toContain(
      'crash point store:journal-import:inserted',
    );
    // Nothing of the half-done import is left: the journals are still the only copy.
    expect(await readdir(join(dir, 'data'))).toEqual(expect.arrayContaining(['jobs.jsonl', 'outbox.jsonl']));

    expect(await crashAt('store:journal-import:after')).toContain('crash point store:journal-import:after');
    // Committed, not yet renamed: the next start must not import a second time.
    expect(await readdir(join(dir, 'data'))).toContain('jobs.jsonl');

    const agent = await start();
    const jobs = await jobsOf(agent);
    expect(jobs).toHaveLength(totalJobs);
    expect(new Set(jobs.map((job) => job.id)).size).toBe(totalJobs);
    const names = await readdir(join(dir, 'data'));
    expect(names).toEqual(
      expect.arrayContaining(['jobs.jsonl.migrated', 'outbox.jsonl.migrated', 'agent.db']),
    );
    expect(names).not.toContain('jobs.jsonl');
    expect(names).not.toContain('outbox.jsonl');

    // The imported work goes on: the queued bill prints, the blocked one waits for a person.
    await until(async () => {
      const byId = new Map((await jobsOf(agent)).map((job) => [job.id, job.state]));
      return byId.get(expected.examples['received']!) === 'REPORTED';
    }, 'the imported RECEIVED job reported');
    const byId = new Map((await jobsOf(agent)).map((job) => [job.id, job.state]));
    expect(byId.get(expected.examples['blocked']!)).toBe('BLOCKED');

    // A later start opens the database only.
    await agent.stop();
    const again = await start();
    expect(await jobsOf(again)).toHaveLength(totalJobs);
  });
});
