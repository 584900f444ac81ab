import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentDatabase } from './database.js';
import { GONE_MARKER, leaveGoneMarker, refuseIfDataDirWasGone } from './dataDirWatch.js';
import { DataDirGoneError, needsTechnician } from './storeErrors.js';

let root: string;
let dataDir: string;
let db: AgentDatabase | undefined;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'kkt-watch-'));
  dataDir = join(root, 'data');
  await mkdir(dataDir);
  db = AgentDatabase.open(join(dataDir, 'agent.db'), { fsync: false });
});

afterEach(async () => {
  db?.close();
  await rm(root, { recursive: true, force: true });
});

const insert = (file: string) =>
  db!.write('test', () =>
    db!.statement("INSERT INTO imported_journals (file, at, records) VALUES (?, 'now', 0)").run(file),
  );

describe('the data directory deleted or replaced under an open database (issue 18.7)', () => {
  it('writes go on while the directory and the file are the ones opened', () => {
    insert('a');
    expect(db!.checkDataDir()).toBeUndefined();
  });

  it.each([
    ['the directory deleted', () => rm(dataDir, { recursive: true }), 'the directory was deleted'],
    [
      'the directory renamed away and a new one made',
      async () => {
        await rename(dataDir, `${dataDir}.old`);
        await mkdir(dataDir);
      },
      'the directory was replaced by another one',
    ],
    ['agent.db deleted', () => rm(join(dataDir, 'agent.db')), 'agent.db was deleted'],
    [
      'agent.db replaced by another file',
      async () => {
        await rm(join(dataDir, 'agent.db'));
        await writeFile(join(dataDir, 'agent.db'), '');
      },
      'agent.db was replaced by another file',
    ],
  ])('%s: every write is refused with DATA_DIR_GONE, listeners hear once', async (_name, attack, what) => {
    insert('before');
    const heard: DataDirGoneError[] = [];
    db!.onDataDirGone((error) => heard.push(error));
    await attack();
    expect(() => insert('after')).toThrow(DataDirGoneError);
    expect(() => insert('again')).toThrow(/DATA_DIR_GONE|while the agent ran/);
    expect(heard).toHaveLength(1);
    expect(heard[0]!.code).toBe('DATA_DIR_GONE');
    expect(heard[0]!.message).toContain(what);
    expect(needsTechnician(heard[0])).toBe(true);
    // A listener that comes later still hears of it.
    const late: unknown[] = [];
    db!.onDataDirGone((error) => late.push(error));
    expect(late).toHaveLength(1);
  });

  it('what the open database holds can still be copied out after its file was deleted', async () => {
    insert('kept');
    await rm(dataDir, { recursive: true });
    expect(db!.checkDataDir()).toBeInstanceOf(DataDirGoneError);
    await mkdir(dataDir);
    const copy = join(dataDir, 'agent.db.rescued');
    db!.copyTo(copy);
    const rescued = new Database(copy, { readonly: true });
    expect(rescued.prepare('SELECT file FROM imported_journals').pluck().all()).toEqual(['kept']);
    rescued.close();
  });
});

describe('the marker a restart stops at', () => {
  it('is written with when and what, and the next start refuses naming the marker and the copy', async () => {
    const error = new DataDirGoneError(dataDir, 'the directory was deleted');
    const at = new Date('2026-12-07T03:00:00.000Z');
    const marker = leaveGoneMarker(dataDir, error, at, join(dataDir, 'agent.db.rescued-x'));
    expect(marker).toBe(join(dataDir, GONE_MARKER));
    expect(JSON.parse(await readFile(marker!, 'utf8'))).toMatchObject({
      detectedAt: '2026-12-07T03:00:00.000Z',
      what: 'the directory was deleted',
    });
    expect(() => refuseIfDataDirWasGone(dataDir)).toThrow(
      `The data directory ${dataDir}: the directory was deleted while the agent ran (detected at 2026-12-07T03:00:00.000Z).`,
    );
    expect(() => refuseIfDataDirWasGone(dataDir)).toThrow(/agent\.db\.rescued-x\) as agent\.db, then remove/);
  });

  it('a damaged marker still refuses; no marker, no refusal', async () => {
    expect(() => refuseIfDataDirWasGone(dataDir)).not.toThrow();
    await writeFile(join(dataDir, GONE_MARKER), 'not json');
    expect(() => refuseIfDataDirWasGone(dataDir)).toThrow(DataDirGoneError);
  });

  it('cannot be written where no directory can be made: says so by returning nothing', async () => {
    await writeFile(join(root, 'file'), '');
    const error = new DataDirGoneError(join(root, 'file', 'data'), 'the directory was deleted');
    expect(leaveGoneMarker(join(root, 'file', 'data'), error, new Date(), undefined)).toBeUndefined();
  });
});
