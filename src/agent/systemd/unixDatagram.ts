import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * Unix datagram sockets through the `unix-dgram` addon: node's own `dgram` only speaks UDP, and the
 * sd_notify protocol is one AF_UNIX/SOCK_DGRAM message per notification. The addon is loaded on first
 * use so that a machine without it (a dev laptop, a failed native build) still runs outside systemd.
 *
 * Limitation of the addon: it copies the path with strncpy and passes sizeof(sockaddr_un), so Linux
 * abstract socket names ("@name") cannot be addressed. systemd's system manager uses the filesystem
 * socket /run/systemd/notify, so services are not affected.
 */

interface UnixDgramSocket {
  bind(path: string): void;
  send(buffer: Buffer, offset: number, length: number, path: string, callback: (error?: Error) => void): void;
  close(): void;
  on(event: 'message', listener: (message: Buffer) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'listening', listener: () => void): this;
}

interface UnixDgramModule {
  createSocket(type: 'unix_dgram'): UnixDgramSocket;
}

let loaded: UnixDgramModule | undefined;

function unixDgram(): UnixDgramModule {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)('unix-dgram') as UnixDgramModule;
  } catch (error) {
    throw new Error(unixDgramLoadFailure(error), { cause: error });
  }
  return loaded;
}

/**
 * What to do when the addon does not load. Its ABI follows the Node major (it is not N-API): after a Node
 * upgrade on a source install it must be rebuilt, which the installer does when run again. The release
 * package brings its own Node, so a system upgrade cannot cause this there.
 */
export function unixDgramLoadFailure(error: unknown): string {
  const reason = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');
  return (
    `the unix-dgram addon (sd_notify) does not load on Node ${process.version} (ABI ${process.versions.modules}): ` +
    `${reason}. Rebuild it for this Node: run scripts/install.sh again (source install), or use the release ` +
    'package, which brings its own Node'
  );
}

/**
 * Sends one datagram, synchronously: the addon calls sendmsg(2) before returning, so a message sent just
 * before `process.exit()` is not lost. Each call uses its own socket and closes it, so nothing keeps the
 * event loop alive between notifications.
 */
export function sendUnixDatagram(socketPath: string, payload: Buffer): void {
  const socket = unixDgram().createSocket('unix_dgram');
  let failure: Error | undefined;
  try {
    socket.send(payload, 0, payload.length, socketPath, (error) => {
      failure = error;
    });
  } finally {
    socket.close();
  }
  if (failure) throw failure;
}

export interface UnixDatagramListener {
  close(): void;
}

/**
 * Binds a datagram socket at `socketPath` (test harnesses and tools play the service manager with it).
 * `close()` also removes the socket file.
 */
export function listenUnixDatagram(
  socketPath: string,
  onMessage: (message: Buffer) => void,
): Promise<UnixDatagramListener> {
  return new Promise((resolve, reject) => {
    const socket = unixDgram().createSocket('unix_dgram');
    socket.on('message', onMessage);
    socket.on('error', (error) => {
      socket.close();
      reject(error);
    });
    socket.on('listening', () => {
      let closed = false;
      resolve({
        close: () => {
          if (closed) return;
          closed = true;
          socket.close();
          rmSync(socketPath, { force: true });
        },
      });
    });
    socket.bind(socketPath);
  });
}
