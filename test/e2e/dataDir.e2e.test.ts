import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AgentProcess,
  runCli,
  startAgentProcess,
  until,
  writeAgentConfig,
} from '../support/agentProcess.js';
import { sampleBill } from '../support/bills.js';

/**
 * The data directory against a careless technician and a damaged disk (issues 17 and 18): one agent per
 * directory, and a store whose records are not the agent's is refused with an error naming the file and the
 * record, before anything starts. Every test runs the real `kkt-agent run`.
 */

let dir: string;
let dataDir: string;
const agents: AgentProcess[] = [];

/** A config with one non-fiscal printer (no register needed) and its own control socket. */
async function configFor(
  name: string,
  extra: Record<string, unknown> = {},
): Promise<{ path: string; socket: string }> {
  const socket = join(dir, `${name}.sock`);
  const path = await writeAgentConfig(join(dir, name), {
    dataDir,
    timeZone: 'Europe/Moscow',
    log: { level: 'warn' },
    control: { socketPath: socket },
    devices: [{ id: 'paper', kind: 'nonfiscal', directory: join(dir, 'receipts') }],
    ...extra,
  });
  return { path, socket };
}

async function start(
  name: string,
  waitReady = true,
  extra: Record<string, unknown> = {},
): Promise<AgentProcess> {
  const { path, socket } = await configFor(name, extra);
  const agent = await startAgentProcess(path, socket, { waitReady });
  agents.push(agent);
  return agent;
}

/** Runs `kkt-agent run` expecting it to refuse: its exit code and output, or `running` after 15 s. */
async function refusedStart(name: string): Promise<{ code: number | null | 'running'; output: string }> {
  const agent = await start(name, false);
  const code = await Promise.race([
    agent.exited,
    new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 15_000)),
  ]);
  return { code, output: agent.output() };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-datadir-'));
  dataDir = join(dir, 'data');
});

afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.kill();
  await rm(dir, { recursive: true, force: true });
});

describe('one agent per data directory (issue 18.1)', () => {
  it('a second agent on the same data directory exits with DATA_DIR_LOCKED naming the first one’s pid', async () => {
    const first = await start('first');
    const second = await refusedStart('second');
    expect(second.code).toBe(1);
    expect(second.output).toContain('[DATA_DIR_LOCKED]');
    expect(second.output).toContain(`pid ${first.child.pid}`);
    // The first one never noticed.
    await first.call('fiscalize', { bill: sampleBill('after-second') });
    await until(async () => {
      const list = (await first.call('jobs.list')) as { jobs: Array<{ state: string }> };
      return list.jobs.length === 1 && list.jobs[0]!.state === 'REPORTED';
    }, 'the first agent still fiscalizes');
  });

  it('takes over the lock of an agent killed with SIGKILL (a stale lock cannot block a restart)', async () => {
    const first = await start('first');
    await first.kill();
    const second = await start('second');
    await second.call('fiscalize', { bill: sampleBill('after-kill') });
    await until(async () => {
      const list = (await second.call('jobs.list')) as { jobs: Array<{ state: string }> };
      return list.jobs[0]?.state === 'REPORTED';
    }, 'the second agent fiscalizes');
  });
});

/** The header line of a JSONL journal as agents before the database wrote it. */
const JOURNAL_HEADER = '{"format":"kkt-journal","version":1}';

describe('stored records are validated before anything starts (issue 18.9)', () => {
  it('a journal record that is valid JSON with a wrong value stops the start, naming the file and line', async () => {
    await mkdir(dataDir, { recursive: true });
    const journal = [
      JOURNAL_HEADER,
      JSON.stringify({ k: 'job0000000001', v: { id: 'job0000000001', state: 'WHATEVER', seq: 1 } }),
      '',
    ].join('\n');
    await writeFile(join(dataDir, 'jobs.jsonl'), journal);
    const { code, output } = await refusedStart('agent');
    expect(code).toBe(78);
    expect(output).toContain('[JOURNAL_CORRUPT]');
    expect(output).toContain(`${join(dataDir, 'jobs.jsonl')} is damaged at line 2`);
    expect(output).not.toContain('TypeError');
    // Nothing imported, the journal left as it was for a person to look at.
    expect(await readFile(join(dataDir, 'jobs.jsonl'), 'utf8')).toBe(journal);
  });

  it('a database row with a wrong value stops the start, naming the file and the row', async () => {
    const first = await start('first');
    await first.stop();
    const dbPath = join(dataDir, 'agent.db');
    // Another program writes an unfinished job whose `attempts` is text: valid JSON, wrong value.
    const db = new Database(dbPath);
    db.prepare(
      `INSERT INTO jobs (seq, id, source, account, bill_id, state, device_id, updated_at, job)
       VALUES (41, 'job00000000x1', 'test', 'a1', 'x1', 'RECEIVED', 'paper', '2026-11-22T07:00:00.000Z', ?)`,
    ).run(
      JSON.stringify({
        summary: {},
        operation: 'sell',
        receivedAt: '2026-11-22T07:00:00.000Z',
        trigger: { kind: 'poll' },
        attempts: 'many',
      }),
    );
    db.close();
    const { code, output } = await refusedStart('second');
    expect(code).toBe(78);
    expect(output).toContain('[STORE_RECORD_INVALID]');
    expect(output).toContain(`${dbPath} holds an invalid record in jobs, row 41: attempts:`);
  });
});

describe('a database that is not ours or is damaged (issue 17, bad input)', () => {
  it('refuses a file that is not a database, names it and says what to do, and leaves it alone', async () => {
    await mkdir(dataDir, { recursive: true });
    const dbPath = join(dataDir, 'agent.db');
    await writeFile(dbPath, 'these are my notes, not a database\n');
    const { code, output } = await refusedStart('agent');
    expect(code).toBe(78);
    expect(output).toContain('[STORE_NOT_OURS]');
    expect(output).toContain(`${dbPath} is not a kkt-agent database`);
    expect(output).toContain('Move it out of the data directory');
    expect(await readFile(dbPath, 'utf8')).toBe('these are my notes, not a database\n');
  });

  it('refuses another program’s SQLite database', async () => {
    await mkdir(dataDir, { recursive: true });
    const dbPath = join(dataDir, 'agent.db');
    const foreign = new Database(dbPath);
    foreign.exec('CREATE TABLE songs (title TEXT)');
    foreign.close();
    const { code, output } = await refusedStart('agent');
    expect(code).toBe(78);
    expect(output).toContain('[STORE_NOT_OURS]');
    expect(output).toContain('tables songs');
  });

  it('refuses a damaged database, names it, and does not start', async () => {
    const first = await start('first');
    for (let i = 0; i < 20; i++) await first.call('fiscalize', { bill: sampleBill(`before-damage-${i}`) });
    await until(async () => {
      const { jobs } = (await first.call('jobs.list')) as { jobs: Array<{ state: string }> };
      return jobs.length === 20 && jobs.every((job) => job.state === 'REPORTED');
    }, 'twenty jobs REPORTED');
    await first.stop();
    const dbPath = join(dataDir, 'agent.db');
    const { size } = await stat(dbPath);
    // Storage rot: every page after the first (the header and schema) overwritten with garbage.
    const bytes = await readFile(dbPath);
    for (let i = 4096; i < size; i++) bytes[i] = (i * 7919) & 0xff;
    await writeFile(dbPath, bytes);
    const { code, output } = await refusedStart('second');
    expect(code).toBe(78);
    expect(output).toContain('[STORE_CORRUPT]');
    expect(output).toContain(`The database ${dbPath} is damaged`);
    expect(output).toContain('Do not delete it');
  });
});

describe('status shows the store and the memory (issue 17.5, 17.6)', () => {
  it('status and status --json name the database, its size, the free disk, RSS and heap', async () => {
    const agent = await start('agent');
    const json = await runCli(['status', '--json', '--socket', agent.socket]);
    expect(json.code).toBe(0);
    const status = JSON.parse(json.stdout) as {
      storage: { path: string; databaseBytes: number; walBytes: number; freeDiskBytes: number };
      memory: { rssBytes: number; heapUsedBytes: number };
    };
    expect(status.storage.path).toBe(join(dataDir, 'agent.db'));
    expect(status.storage.databaseBytes).toBeGreaterThan(0);
    expect(status.storage.freeDiskBytes).toBeGreaterThan(0);
    expect(status.memory.rssBytes).toBeGreaterThan(status.memory.heapUsedBytes);
    expect(status.memory.heapUsedBytes).toBeGreaterThan(0);
    const text = await runCli(['status', '--socket', agent.socket]);
    expect(text.stdout).toMatch(
      new RegExp(
        `store\\s+${join(dataDir, 'agent.db')} [\\d.]+ (B|KiB|MiB).*, [\\d.]+ [KMGT]iB free on its disk`,
      ),
    );
    expect(text.stdout).toMatch(/memory\s+RSS [\d.]+ MiB, heap in use [\d.]+ MiB/);
  });
});

describe('the data directory deleted or replaced while running (issue 18.7)', () => {
  /** A box whose data directory is checked every `checkMs` (besides before every write). */
  function startWatched(name: string, checkMs: number, waitReady = true): Promise<AgentProcess> {
    return start(name, waitReady, { log: { level: 'info' }, journal: { dataDirCheckMs: checkMs } });
  }

  async function printed(agent: AgentProcess, billId: string): Promise<void> {
    await agent.call('fiscalize', { bill: sampleBill(billId) });
    await until(
      async () => {
        const { jobs } = (await agent.call('jobs.list')) as { jobs: Array<{ state: string }> };
        return jobs.length > 0 && jobs.every((job) => job.state === 'REPORTED');
      },
      `bill ${billId} printed`,
      60_000,
    );
  }

  /** Two daemons and a few CLI-sized waits each: generous on a loaded two-core box. */
  const TEST_TIMEOUT_MS = 90_000;

  const receipts = async () => (await readdir(join(dir, 'receipts'))).filter((name) => name.endsWith('.txt'));

  const exitedWithin = (agent: AgentProcess, ms: number) =>
    Promise.race([
      agent.exited,
      new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), ms)),
    ]);

  /** The restart systemd makes: it stops at the marker with the typed error, exit 78 (not restarted). */
  async function restartRefused(what: RegExp): Promise<void> {
    const again = await startWatched('restart', 60_000, false);
    expect(await exitedWithin(again, 30_000)).toBe(78);
    expect(again.output()).toContain('[DATA_DIR_GONE]');
    expect(again.output()).toMatch(what);
    expect(again.output()).toContain(`remove ${join(dataDir, 'DATA_DIR_GONE')} to start`);
    expect(again.output()).toMatch(
      /the copy of the database the agent saved \(.*agent\.db\.rescued-.*\) as agent\.db/,
    );
  }

  it(
    'deleted: the next bill is refused with DATA_DIR_GONE before anything prints, the agent exits, the restart refuses',
    async () => {
      // The periodic check is out of the way: the write itself must notice.
      const agent = await startWatched('agent', 3_600_000);
      await printed(agent, 'before-delete');
      expect(await receipts()).toHaveLength(1);

      await rm(dataDir, { recursive: true, force: true });
      const refused = await agent.call('fiscalize', { bill: sampleBill('after-delete') }).then(
        () => undefined,
        (error: { code?: string; message?: string }) => error,
      );
      expect(refused).toMatchObject({ code: 'DATA_DIR_GONE' });
      expect(refused?.message).toContain(`The data directory ${dataDir}: the directory was deleted`);

      expect(await exitedWithin(agent, 30_000)).toBe(75);
      expect(agent.output()).toContain('"event":"store.data-dir-gone"');
      expect(agent.output()).toContain('"event":"daemon.data-dir-gone"');
      // Nothing was printed into the deleted directory's database.
      expect(await receipts()).toHaveLength(1);
      // What the deleted database held was saved beside the marker, the printed bill in it.
      const rescued = (await readdir(dataDir)).filter((name) => name.startsWith('agent.db.rescued-'));
      expect(rescued).toHaveLength(1);
      const copy = new Database(join(dataDir, rescued[0]!), { readonly: true });
      expect(copy.prepare('SELECT bill_id, state FROM jobs').all()).toEqual([
        { bill_id: 'before-delete', state: 'REPORTED' },
      ]);
      copy.close();
      await restartRefused(/the directory was deleted while the agent ran \(detected at \d{4}-/);
    },
    TEST_TIMEOUT_MS,
  );

  it.each([
    [
      'replaced by another directory',
      async () => {
        await rename(dataDir, `${dataDir}.old`);
        // The running agent may already have made a new one (its log file): replaced either way.
        await mkdir(dataDir, { recursive: true });
      },
      /the directory was replaced by another one/,
    ],
    ['its database deleted', () => rm(join(dataDir, 'agent.db')), /the database .*agent\.db was deleted/],
  ])(
    '%s on a quiet box: the periodic check stops the agent, the restart refuses',
    async (_name, attack, what) => {
      const agent = await startWatched('agent', 200);
      await printed(agent, 'before-attack');
      await attack();
      expect(await exitedWithin(agent, 30_000)).toBe(75);
      expect(agent.output()).toMatch(what);
      await restartRefused(what);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'the CLI stops at the marker too: the store is not opened, and the agent-asking commands say why the agent is down',
    async () => {
      const agent = await startWatched('agent', 200);
      await printed(agent, 'before-delete');
      await rm(dataDir, { recursive: true, force: true });
      expect(await exitedWithin(agent, 30_000)).toBe(75);
      const marker = join(dataDir, 'DATA_DIR_GONE');
      const config = join(dir, 'agent', 'config.json');
      for (const args of [
        ['recover', '--from-register'],
        ['recover'],
        ['status'],
        ['jobs', 'list'],
        ['refund', 'job0000000001'],
      ]) {
        const run = await runCli([...args, '--config', config]);
        expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(78);
        expect(run.stderr).toContain('[DATA_DIR_GONE]');
        expect(run.stderr).toContain('the directory was deleted while the agent ran (detected at');
        expect(run.stderr).toContain(`remove ${marker} to start`);
      }
      // `recover --from-register` did not open (and so create) a database beside the marker.
      expect(
        (await readdir(dataDir)).filter((name) => name.startsWith('agent.db') && !name.includes('rescued')),
      ).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});
