import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { buildMSearch, discoverIntentTerminal, isSearchReplyFor, parseSsdpMessage } from './discovery.js';
import { IntentTerminalNotFoundError } from './errors.js';

const sockets: dgram.Socket[] = [];

afterEach(async () => {
  await Promise.all(
    sockets.splice(0).map((socket) => new Promise<void>((done) => socket.close(() => done()))),
  );
});

/** A UDP responder on loopback that answers every M-SEARCH with the given replies, recording what it got. */
async function fakeResponder(replies: string[]): Promise<{ port: number; searches: string[] }> {
  const socket = dgram.createSocket('udp4');
  sockets.push(socket);
  const searches: string[] = [];
  socket.on('message', (message, sender) => {
    searches.push(message.toString('utf8'));
    for (const reply of replies) socket.send(reply, sender.port, sender.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return { port: socket.address().port, searches };
}

const reply = (headers: string[]) => ['HTTP/1.1 200 OK', ...headers, '', ''].join('\r\n');

describe('SSDP messages', () => {
  it('builds an M-SEARCH for the SmartX target', () => {
    const message = parseSsdpMessage(buildMSearch('ikassa-smartx', '239.255.255.250', 1900));
    expect(message.startLine).toBe('M-SEARCH * HTTP/1.1');
    expect(message.headers).toMatchObject({
      host: '239.255.255.250:1900',
      man: '"ssdp:discover"',
      st: 'ikassa-smartx',
    });
  });

  it('reads header names in any case and recognises the SmartX reply', () => {
    const message = parseSsdpMessage(reply(['Location: http://192.168.1.2:37015', 'st: ikassa-smartx']));
    expect(message.headers['location']).toBe('http://192.168.1.2:37015');
    expect(isSearchReplyFor(message, 'ikassa-smartx')).toBe(true);
    expect(isSearchReplyFor(parseSsdpMessage(reply(['ST: upnp:rootdevice'])), 'ikassa-smartx')).toBe(false);
  });
});

describe('discoverIntentTerminal', () => {
  it("takes the SmartX reply's LOCATION and ignores other devices", async () => {
    const responder = await fakeResponder([
      reply(['ST: urn:schemas-upnp-org:device:MediaRenderer:1', 'LOCATION: http://10.9.9.9:8080/desc.xml']),
      reply(['ST: ikassa-smartx', 'USN: uuid:1::ikassa-smartx', 'LOCATION: http://192.168.1.2:37015']),
    ]);
    const found = await discoverIntentTerminal({
      address: '127.0.0.1',
      port: responder.port,
      timeoutMs: 5_000,
    });
    expect(found).toStrictEqual({
      endpoint: 'http://192.168.1.2:37015/v1',
      location: 'http://192.168.1.2:37015',
      address: '127.0.0.1',
    });
    expect(responder.searches[0]).toContain('ST: ikassa-smartx');
  });

  it('falls back to the sender address when LOCATION is missing', async () => {
    const responder = await fakeResponder([reply(['ST: ikassa-smartx'])]);
    const found = await discoverIntentTerminal({
      address: '127.0.0.1',
      port: responder.port,
      timeoutMs: 5_000,
    });
    expect(found.endpoint).toBe('http://127.0.0.1:37015/v1');
  });

  it('gives up with a typed error when nobody answers', async () => {
    const silent = await fakeResponder([]);
    const search = discoverIntentTerminal({
      address: '127.0.0.1',
      port: silent.port,
      timeoutMs: 150,
      resendIntervalMs: 50,
    });
    await expect(search).rejects.toBeInstanceOf(IntentTerminalNotFoundError);
    await expect(search).rejects.toMatchObject({ code: 'INTENT_NOT_FOUND', outcome: 'not-sent' });
  });
});
