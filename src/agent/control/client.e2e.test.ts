import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { callControl } from './client.js';

let dir: string | undefined;
let server: net.Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  if (dir) await rm(dir, { recursive: true, force: true });
  server = undefined;
  dir = undefined;
});

describe('callControl', () => {
  it('fails at once with CONTROL_CLOSED when the agent closes the socket without answering (it died mid-call)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kkt-control-'));
    const path = join(dir, 'control.sock');
    server = net.createServer((socket) => socket.once('data', () => socket.destroy()));
    await new Promise<void>((resolve) => server!.listen(path, resolve));
    const started = Date.now();
    await expect(callControl(path, 'doctor', {}, 10_000)).rejects.toMatchObject({ code: 'CONTROL_CLOSED' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
