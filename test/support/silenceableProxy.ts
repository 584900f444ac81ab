import net from 'node:net';

/**
 * A TCP proxy in front of a register that can go silent: while `silent`, every byte either way is
 * swallowed but the connections stay open, as a register whose link hangs without closing. While `cut`,
 * connections are closed and new ones refused at once, as an unplugged cable.
 */
export interface SilenceableProxy {
  readonly port: number;
  silent: boolean;
  readonly cut: boolean;
  setCut(cut: boolean): void;
  close(): Promise<void>;
}

export async function startSilenceableProxy(
  targetPort: number,
  host = '127.0.0.1',
): Promise<SilenceableProxy> {
  const sockets = new Set<net.Socket>();
  const proxy: SilenceableProxy = {
    port: 0,
    silent: false,
    cut: false,
    setCut(cut) {
      Object.assign(proxy, { cut });
      if (cut) for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((client) => {
    if (proxy.cut) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('data', (chunk) => {
      if (!proxy.silent) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!proxy.silent) client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  Object.assign(proxy, { port: (server.address() as net.AddressInfo).port });
  return proxy;
}
