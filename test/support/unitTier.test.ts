import { execFileSync, spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { sendUnixDatagram } from '../../src/agent/systemd/unixDatagram.js';

// This file is a unit test, so test/support/unitTier.ts guards it: what only an e2e test may do fails here.
describe('the unit tier', () => {
  it('refuses sockets', () => {
    expect(() => net.createServer().listen(0)).toThrow(
      /unit test listens on a socket: name the file \*\.e2e\.test\.ts/,
    );
    expect(() => net.connect(1, '127.0.0.1')).toThrow(/connects a socket/);
    expect(() => sendUnixDatagram('/nonexistent/kkt-agent.sock', Buffer.from('READY=1\n'))).toThrow(
      /unix datagram socket/,
    );
  });

  it('refuses processes', () => {
    expect(() => spawn('true')).toThrow(/starts a process/);
    expect(() => spawnSync('true')).toThrow(/starts a process/);
    expect(() => execFileSync('true')).toThrow(/starts a process/);
  });
});
