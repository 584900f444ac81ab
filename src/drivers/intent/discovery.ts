import dgram from 'node:dgram';
import { endpointFromReply } from './endpoint.js';
import { IntentTerminalNotFoundError } from './errors.js';

/**
 * Finds a SmartX terminal on the LAN with SSDP: an M-SEARCH for `ikassa-smartx`, whose reply's LOCATION
 * header names the terminal's HTTP root. A few lines of dgram instead of a library, because the search
 * address must be injectable (tests answer on loopback) and only one header is needed.
 */

export const SMARTX_SEARCH_TARGET = 'ikassa-smartx';
export const SSDP_MULTICAST_ADDRESS = '239.255.255.250';
export const SSDP_PORT = 1900;

export interface IntentDiscoveryOptions {
  /** How long to wait for a reply. The one public client waits up to 60 s; terminals can answer late. */
  timeoutMs?: number;
  /** The M-SEARCH is repeated this often until a reply comes (UDP may drop it). */
  resendIntervalMs?: number;
  searchTarget?: string;
  /** Where the M-SEARCH goes: the SSDP group by default, a unicast address in tests. */
  address?: string;
  port?: number;
  /** Local interface address to send from (default: any). */
  bindAddress?: string;
}

export interface DiscoveredIntentTerminal {
  /** The endpoint to POST to, e.g. `http://192.168.1.2:37015/v1`. */
  endpoint: string;
  /** The LOCATION header as received, when there was one. */
  location: string | undefined;
  /** The address the reply came from. */
  address: string;
}

export const DEFAULT_DISCOVERY_TIMEOUT_MS = 10_000;
const DEFAULT_RESEND_INTERVAL_MS = 1_000;

export function buildMSearch(searchTarget: string, host: string, port: number): string {
  return [
    'M-SEARCH * HTTP/1.1',
    `HOST: ${host}:${port}`,
    'MAN: "ssdp:discover"',
    'MX: 2',
    `ST: ${searchTarget}`,
    '',
    '',
  ].join('\r\n');
}

export interface SsdpMessage {
  startLine: string;
  /** Header names lower-cased; values trimmed. */
  headers: Record<string, string>;
}

/** Splits an SSDP datagram into its first line and headers. */
export function parseSsdpMessage(text: string): SsdpMessage {
  const [startLine = '', ...lines] = text.split(/\r?\n/);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!Object.hasOwn(headers, name)) headers[name] = line.slice(colon + 1).trim();
  }
  return { startLine: startLine.trim(), headers };
}

/** True for a search reply that announces the given target. */
export function isSearchReplyFor(message: SsdpMessage, searchTarget: string): boolean {
  if (!/^HTTP\/1\.[01] 200\b/i.test(message.startLine)) return false;
  const target = searchTarget.toLowerCase();
  return ['st', 'usn', 'nt'].some((name) => (message.headers[name] ?? '').toLowerCase().includes(target));
}

/** Searches until the first matching reply; throws IntentTerminalNotFoundError after `timeoutMs`. */
export function discoverIntentTerminal(
  options: IntentDiscoveryOptions = {},
): Promise<DiscoveredIntentTerminal> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_DISCOVERY_TIMEOUT_MS;
  const resendIntervalMs = options.resendIntervalMs ?? DEFAULT_RESEND_INTERVAL_MS;
  const searchTarget = options.searchTarget ?? SMARTX_SEARCH_TARGET;
  const address = options.address ?? SSDP_MULTICAST_ADDRESS;
  const port = options.port ?? SSDP_PORT;
  const search = Buffer.from(buildMSearch(searchTarget, address, port), 'ascii');

  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    let resendTimer: NodeJS.Timeout | undefined;
    let done = false;

    const finish = (outcome: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      clearInterval(resendTimer);
      socket.close();
      outcome();
    };
    const deadline = setTimeout(
      () => finish(() => reject(new IntentTerminalNotFoundError(searchTarget, timeoutMs))),
      timeoutMs,
    );
    const send = (): void => {
      socket.send(search, port, address, () => {
        // A failed send (no route yet, interface down) is retried by the interval.
      });
    };

    socket.on('error', () => {
      // Socket errors (e.g. ICMP unreachable on unicast) are not fatal: keep waiting until the deadline.
    });
    socket.on('message', (datagram, sender) => {
      const message = parseSsdpMessage(datagram.toString('utf8'));
      if (!isSearchReplyFor(message, searchTarget)) return;
      const location = message.headers['location'];
      finish(() =>
        resolve({ endpoint: endpointFromReply(location, sender.address), location, address: sender.address }),
      );
    });
    socket.bind({ port: 0, address: options.bindAddress }, () => {
      if (done) return;
      send();
      resendTimer = setInterval(send, resendIntervalMs);
    });
  });
}
