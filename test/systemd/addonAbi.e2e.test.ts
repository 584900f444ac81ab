import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type AgentProcess, REPO_ROOT, startAgentInDir } from '../support/agentProcess.js';

// A source install whose unix-dgram addon was built for another Node major: the agent cannot notify systemd
// and exits at once (SD_WATCHDOG_WITHOUT_NOTIFY), and its message says how to fix it.

let dir: string;
let agent: AgentProcess | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-addon-abi-'));
});

afterEach(async () => {
  await agent?.kill();
  agent = undefined;
  await rm(dir, { recursive: true, force: true });
});

it('exits with SD_WATCHDOG_WITHOUT_NOTIFY and says to rebuild when the addon does not load', async () => {
  const preload = join(REPO_ROOT, 'test/systemd/fixtures/unix-dgram-abi-mismatch.cjs');
  agent = await startAgentInDir(
    dir,
    {
      timeZone: 'Europe/Moscow',
      devices: [
        {
          id: 'kkt',
          kind: 'atol',
          link: { type: 'tcp', host: '127.0.0.1', port: 9 },
          operator: { name: 'Кассир' },
        },
      ],
      log: { level: 'info' },
    },
    {
      waitReady: false,
      env: {
        NODE_OPTIONS: `--require ${preload}`,
        NOTIFY_SOCKET: join(dir, 'notify.sock'),
        WATCHDOG_USEC: '30000000',
      },
    },
  );
  const code = await agent.exited;
  expect(code).not.toBe(0);
  const output = agent.output();
  expect(output).toContain('SD_WATCHDOG_WITHOUT_NOTIFY');
  expect(output).toContain('does not load on Node');
  expect(output).toContain('NODE_MODULE_VERSION 115');
  expect(output).toContain('run scripts/install.sh again');
});
