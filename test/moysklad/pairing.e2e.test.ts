import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MoyskladClient } from '../../src/agent/connectors/moysklad/client.js';
import { readCredentials } from '../../src/agent/connectors/moysklad/credentials.js';
import { pairMoysklad } from '../../src/agent/connectors/moysklad/pairing.js';
import { RateLimiter } from '../../src/agent/connectors/moysklad/rateLimiter.js';
import { registerMoyskladCommands } from '../../src/cli/moyskladCommands.js';
import { type MockMoysklad, startMockMoysklad } from './mockServer.js';
import { tempDir } from './support.js';

let mock: MockMoysklad;
let dir: { path: string; remove: () => Promise<void> };

beforeEach(async () => {
  dir = await tempDir();
});

afterEach(async () => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
  await mock.close();
  await dir.remove();
});

const admin = () => ({ login: mock.admin.login, password: mock.admin.password, baseUrl: mock.url });

describe('pairMoysklad', () => {
  it('attaches the only store and writes token and cashier uid to a 0600 file that works', async () => {
    mock = await startMockMoysklad();
    const out = join(dir.path, 'moysklad.json');
    const result = await pairMoysklad({ ...admin(), out });
    expect(result).toMatchObject({
      store: { id: mock.store.id, name: mock.store.name, authTokenAttached: false },
      cashierUid: mock.store.cashierUid,
      organizationId: mock.store.organizationId,
      revokedOtherDevice: false,
      warnings: [],
    });
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    const { credentials, tooOpen } = await readCredentials(out);
    expect(tooOpen).toBe(false);
    expect(credentials).toMatchObject({
      retailStore: { id: mock.store.id },
      cashierUid: mock.store.cashierUid,
    });
    expect(credentials.token).toMatch(/^[0-9a-f]{40}$/);
    const client = new MoyskladClient({
      account: 't',
      baseUrl: mock.url,
      auth: () => ({ kind: 'token', token: credentials.token, cashierUid: credentials.cashierUid }),
      limiter: new RateLimiter(),
      timeoutMs: 1000,
      retries: 0,
      retryDelayMs: 1,
      maxRetryDelayMs: 1,
      maxRateLimitWaits: 0,
      maxResponseBytes: 1 << 20,
    });
    expect((await client.settings()).id).toBe(mock.store.id);
  });

  it('refuses a store that has a device attached unless forced, and warns when forced', async () => {
    mock = await startMockMoysklad({ stores: [{ name: 'Касса 1', authTokenAttached: true }] });
    const previous = mock.issueToken();
    const out = join(dir.path, 'moysklad.json');
    await expect(pairMoysklad({ ...admin(), out })).rejects.toMatchObject({
      code: 'MOYSKLAD_STORE_ALREADY_ATTACHED',
      message: expect.stringMatching(/revokes.*--force/s),
    });
    await expect(stat(out)).rejects.toThrow();
    const result = await pairMoysklad({ ...admin(), out, force: true });
    expect(result.revokedOtherDevice).toBe(true);
    expect(result.warnings[0]).toMatch(/already has a device attached/);
    expect(mock.tokens.get(previous.token)?.revoked).toBe(true);
  });

  it('lists the stores when the choice is ambiguous or unknown, and picks by name or id', async () => {
    mock = await startMockMoysklad({ stores: [{ name: 'Север' }, { name: 'Юг' }] });
    const out = join(dir.path, 'moysklad.json');
    await expect(pairMoysklad({ ...admin(), out })).rejects.toMatchObject({
      code: 'MOYSKLAD_STORE_AMBIGUOUS',
      message: expect.stringMatching(/Север[\s\S]*Юг/),
    });
    await expect(pairMoysklad({ ...admin(), out, store: 'Запад' })).rejects.toMatchObject({
      code: 'MOYSKLAD_STORE_NOT_FOUND',
    });
    expect((await pairMoysklad({ ...admin(), out, store: 'Юг' })).store.name).toBe('Юг');
    expect(
      (await pairMoysklad({ ...admin(), out, store: mock.stores[0]!.id.toUpperCase() })).store.name,
    ).toBe('Север');
  });

  it('says the login was refused on a wrong password', async () => {
    mock = await startMockMoysklad();
    await expect(
      pairMoysklad({ ...admin(), password: 'wrong', out: join(dir.path, 'x.json') }),
    ).rejects.toMatchObject({
      code: 'MOYSKLAD_LOGIN_REJECTED',
    });
  });
});

describe('kkt-agent moysklad pair', () => {
  async function run(args: string[]) {
    const program = new Command('kkt-agent').exitOverride();
    registerMoyskladCommands(program);
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      err.push(String(chunk));
      return true;
    });
    await program.parseAsync(['node', 'kkt-agent', ...args]);
    vi.restoreAllMocks();
    return { stdout: out.join(''), stderr: err.join(''), exitCode: process.exitCode };
  }

  it('reads the password from a file, writes the credentials, warns and needs --force for an attached store', async () => {
    mock = await startMockMoysklad({ stores: [{ name: 'Касса', authTokenAttached: true }] });
    const passwordFile = join(dir.path, 'password');
    await writeFile(passwordFile, `${mock.admin.password}\n`, { mode: 0o600 });
    const out = join(dir.path, 'creds.json');
    const common = [
      'moysklad',
      'pair',
      '--login',
      mock.admin.login,
      '--password-file',
      passwordFile,
      '--out',
      out,
      '--base-url',
      mock.url,
    ];

    const refused = await run(common);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/MOYSKLAD_STORE_ALREADY_ATTACHED/);
    process.exitCode = undefined;

    const forced = await run([...common, '--force']);
    expect(forced.exitCode).toBeUndefined();
    expect(forced.stderr).toMatch(/warning: .*already has a device attached/);
    expect(forced.stdout).toMatch(/Paired with retail store "Касса"/);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ cashierUid: mock.store.cashierUid });
    expect(forced.stdout + forced.stderr).not.toContain(mock.admin.password);

    const listed = await run([
      'moysklad',
      'stores',
      '--login',
      mock.admin.login,
      '--password-file',
      passwordFile,
      '--base-url',
      mock.url,
    ]);
    expect(listed.stdout).toMatch(new RegExp(`${mock.store.id}\\s+Касса\\s+yes`));
  });
});
