import dgram from 'node:dgram';
import {
  parseSsdpMessage,
  SMARTX_SEARCH_TARGET,
  SSDP_MULTICAST_ADDRESS,
} from '../../drivers/intent/discovery.js';

/**
 * Answers SSDP M-SEARCH for `ikassa-smartx` (or `ssdp:all`) with the emulator's HTTP root in LOCATION, so the
 * driver's discovery works against the emulator: on a loopback port in tests, or in the multicast group on
 * port 1900 for a demo on a real LAN.
 */

export interface SsdpResponderOptions {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** UDP port (default 0: any free port; 1900 for real discovery). */
  port?: number;
  /** Join the SSDP multicast group (needed to hear real M-SEARCHes on port 1900). */
  multicast?: boolean;
}

export interface SsdpResponder {
  port: number;
  close(): Promise<void>;
}

export function startSsdpResponder(options: SsdpResponderOptions, location: string): Promise<SsdpResponder> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const usn = `uuid:kkt-agent-smartx-emulator::${SMARTX_SEARCH_TARGET}`;

  socket.on('message', (datagram, sender) => {
    const message = parseSsdpMessage(datagram.toString('utf8'));
    if (!/^M-SEARCH\b/i.test(message.startLine)) return;
    const target = (message.headers['st'] ?? '').toLowerCase();
    if (target !== SMARTX_SEARCH_TARGET && target !== 'ssdp:all') return;
    const reply = [
      'HTTP/1.1 200 OK',
      'CACHE-CONTROL: max-age=1800',
      'EXT:',
      `LOCATION: ${location}`,
      'SERVER: kkt-agent SmartX emulator',
      `ST: ${SMARTX_SEARCH_TARGET}`,
      `USN: ${usn}`,
      '',
      '',
    ].join('\r\n');
    socket.send(reply, sender.port, sender.address);
  });
  socket.on('error', () => {
    // A failed reply (the searcher went away) must not bring the emulator down.
  });

  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      socket.off('error', reject);
      if (options.multicast) socket.addMembership(SSDP_MULTICAST_ADDRESS);
      resolve({
        port: socket.address().port,
        close: () => new Promise<void>((done) => socket.close(() => done())),
      });
    });
  });
}
