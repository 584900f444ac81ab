import { KktAgentError } from '../../../lib/errors.js';
import { type Frame, STX } from './frame.js';
import { decodeFrameAt } from './frameDecoder.js';
import type { WireDirection } from './link.js';

/**
 * The line format of a wire trace (docs/protocol/atol-v3.md §14): a header line, then one line per frame
 *
 *   2026-03-01T10:00:00.123Z kkt1 > FE 06 00 02 C1 01 02 00 00 A5 93
 *
 * time (UTC, ms), device id, `>` host to register or `<` register to host, the frame's wire bytes in hex,
 * and `masked` when customer data in it was replaced. Bytes that were not a frame get a note line,
 * `… kkt1 < # 3 bytes of noise`. Lines starting with `#` are comments.
 */
export const WIRE_TRACE_HEADER = '# kkt-agent wire trace v1';

export interface WireTraceFrame {
  kind: 'frame';
  /** 1-based line number in the file. */
  line: number;
  at: string;
  device: string;
  direction: WireDirection;
  /** The frame as it went over the wire (escaped, with STX, length, id and CRC). */
  bytes: Buffer;
  frame: Frame;
  masked: boolean;
}

export interface WireTraceNote {
  kind: 'note';
  line: number;
  at: string;
  device: string;
  direction: WireDirection;
  text: string;
}

export type WireTraceEntry = WireTraceFrame | WireTraceNote;

/** A trace file that does not follow the format: names the line and what is wrong with it. */
export class WireTraceError extends KktAgentError {
  readonly line: number;

  constructor(source: string, line: number, reason: string) {
    super('WIRE_TRACE_MALFORMED', `${source} line ${line}: ${reason}`, { source, line, reason });
    this.line = line;
  }
}

const DIRECTION_MARK: Record<WireDirection, string> = { host: '>', device: '<' };
const DEVICE_ID = /^(?:[a-z0-9][a-z0-9_-]{0,31}|-)$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const HEX_BYTE = /^[0-9A-Fa-f]{2}$/;

const hex = (bytes: Buffer) =>
  Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');

export function formatFrameLine(
  at: Date,
  device: string,
  direction: WireDirection,
  bytes: Buffer,
  masked: boolean,
): string {
  return `${at.toISOString()} ${device} ${DIRECTION_MARK[direction]} ${hex(bytes)}${masked ? ' masked' : ''}\n`;
}

export function formatNoteLine(at: Date, device: string, direction: WireDirection, text: string): string {
  return `${at.toISOString()} ${device} ${DIRECTION_MARK[direction]} # ${text.replace(/[\r\n]+/g, ' ')}\n`;
}

/**
 * Reads a trace. Every frame line must hold exactly one valid frame (length, escapes and CRC checked), so a
 * trace that was edited by hand or cut short fails here with its line number, not later in a replay.
 */
export function parseWireTrace(text: string, source = 'wire trace'): WireTraceEntry[] {
  const lines = text.split('\n');
  const entries: WireTraceEntry[] = [];
  let sawHeader = false;
  lines.forEach((raw, index) => {
    const line = index + 1;
    const content = raw.replace(/\r$/, '');
    const fail = (reason: string) => new WireTraceError(source, line, reason);
    if (!sawHeader) {
      if (content.trim() === '') return;
      if (content.trim() !== WIRE_TRACE_HEADER)
        throw fail(`expected the header "${WIRE_TRACE_HEADER}", found "${content.slice(0, 60)}"`);
      sawHeader = true;
      return;
    }
    if (content.trim() === '' || content.startsWith('#')) return;
    const [at, device, mark, ...rest] = content.trim().split(/\s+/);
    if (!at || !TIME.test(at) || Number.isNaN(Date.parse(at)))
      throw fail(`"${at ?? ''}" is not a UTC time such as 2026-03-01T10:00:00.123Z`);
    if (!device || !DEVICE_ID.test(device)) throw fail(`"${device ?? ''}" is not a device id`);
    const direction = mark === '>' ? 'host' : mark === '<' ? 'device' : undefined;
    if (!direction)
      throw fail(`"${mark ?? ''}" is not a direction: > (host to register) or < (register to host)`);
    if (rest[0] === '#') {
      entries.push({ kind: 'note', line, at, device, direction, text: rest.slice(1).join(' ') });
      return;
    }
    const masked = rest.at(-1) === 'masked';
    const hexBytes = masked ? rest.slice(0, -1) : rest;
    if (hexBytes.length === 0) throw fail('no frame bytes');
    const wrong = hexBytes.findIndex((token) => !HEX_BYTE.test(token));
    if (wrong >= 0) throw fail(`"${hexBytes[wrong]}" is not a hex byte`);
    const bytes = Buffer.from(hexBytes.join(''), 'hex');
    if (bytes[0] !== STX) throw fail('a frame starts with FE');
    const decoded = decodeFrameAt(bytes);
    if (decoded === 'incomplete') throw fail('the frame is cut short');
    if (typeof decoded === 'string') throw fail(`not a valid frame (${decoded})`);
    if (decoded.length !== bytes.length)
      throw fail(`${bytes.length - decoded.length} bytes follow the frame; one frame per line`);
    entries.push({ kind: 'frame', line, at, device, direction, bytes, frame: decoded.frame, masked });
  });
  if (!sawHeader) throw new WireTraceError(source, 1, `the file is empty; expected "${WIRE_TRACE_HEADER}"`);
  return entries;
}
