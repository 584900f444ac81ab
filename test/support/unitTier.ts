import childProcess from 'node:child_process';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

/**
 * Setup file of the `unit` tier (vitest.config.ts): a unit test that starts a process, opens a socket
 * (TCP, unix stream or unix datagram) or connects to one fails here, with the reason, instead of quietly
 * slowing `npm run test:unit` down. Such a test belongs in a `*.e2e.test.ts` file.
 */

class UnitTierError extends Error {
  constructor(what: string) {
    super(`a unit test ${what}: name the file *.e2e.test.ts (tests with processes, sockets, PTYs, brokers)`);
    this.name = 'UnitTierError';
  }
}

const refuse = (what: string) => () => {
  throw new UnitTierError(what);
};

net.Server.prototype.listen = refuse('listens on a socket') as never;
net.Socket.prototype.connect = refuse('connects a socket') as never;
// spawn, exec, execFile and fork all start their child through ChildProcess.prototype.spawn.
(childProcess.ChildProcess.prototype as unknown as { spawn: unknown }).spawn = refuse('starts a process');
for (const name of ['spawnSync', 'execSync', 'execFileSync'] as const) {
  (childProcess as Record<string, unknown>)[name] = refuse('starts a process');
}
// ES module imports of node:child_process see the patched functions only after this.
syncBuiltinESMExports();

// sd_notify's unix datagram sockets come from a native addon; it is one shared module object.
const unixDgram = createRequire(import.meta.url)('unix-dgram') as { createSocket: unknown };
unixDgram.createSocket = refuse('opens a unix datagram socket');
