import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { BridgeConnector } from '../../src/agent/connectors/bridge/connector.js';
import {
  type BridgeIdentity,
  buildReceiptCreated,
  type ReceiptCreatedPayload,
  withTimestamp,
} from '../../src/agent/connectors/bridge/event.js';
import { mapBridgeBill } from '../../src/agent/connectors/bridge/mapping.js';
import type { FiscalData, Job } from '../../src/agent/jobs/job.js';
import type { OutboxDraft } from '../../src/agent/outbox/sink.js';
import { SEED_BILLS } from '../../src/emulators/bridge/index.js';
import { parseJsonLossless } from '../../src/lib/json.js';
import {
  ACCOUNT_120_IDS,
  BILL_346042,
  BILL_346044,
  RECEIPT_346042,
  RECEIPT_346044,
} from './fixtures/seed000.js';
import { MemoryStore } from './support.js';

/**
 * Golden: the two bill/receipt pairs of the seed log (account 120) go through Bill and a FiscalData built
 * from the logged values, and come out as the logged ReceiptCreated event.
 */

const ACCOUNT_120: BridgeIdentity = ACCOUNT_120_IDS;

const PAIRS = [
  { billText: BILL_346042, receiptText: RECEIPT_346042, local: '2025-12-15T15:36:28+03:00' },
  { billText: BILL_346044, receiptText: RECEIPT_346044, local: '2025-12-15T15:37:19+03:00' },
];

function fiscalFor(
  logged: { data: { dateTime: string; shiftId: string } },
  local: string,
  totalMinor: number,
) {
  const fiscal: FiscalData = {
    deviceId: 'kkt-1',
    deviceKind: 'atol',
    dateTime: local,
    dateTimeUtc: logged.data.dateTime,
    shiftNumber: Number(logged.data.shiftId),
    fiscalDocumentNumber: 100,
    totalMinor,
  };
  return fiscal;
}

describe('golden: seed log 000, bills 346042 and 346044', () => {
  for (const { billText, receiptText, local } of PAIRS) {
    const logged = JSON.parse(receiptText) as {
      id: string;
      timestamp: number;
      data: { id: string; dateTime: string; shiftId: string; extras: { billId: string } };
    };
    const billId = logged.data.extras.billId;

    it(`bill ${billId}: the event is the logged body, byte for byte, given the logged ids`, () => {
      const bill = mapBridgeBill(parseJsonLossless(billText), { account: '120', payment: 'card' });
      const draft = buildReceiptCreated({
        bill,
        fiscal: fiscalFor(logged, local, bill.totalMinor),
        identity: ACCOUNT_120,
        eventId: logged.id,
        receiptId: logged.data.id,
      });
      expect(JSON.stringify(withTimestamp(draft, logged.timestamp))).toBe(receiptText);
    });

    it(`bill ${billId}: the connector drafts it field for field, with ids named by the job`, async () => {
      const connector = new BridgeConnector({
        id: '120',
        // Nothing listens there: start() says HELLO once, fails fast, and the connector starts offline.
        baseUrl: 'http://127.0.0.1:9',
        retries: 0,
        ids: ACCOUNT_120,
      });
      await connector.start({
        intake: { submit: notUsed, reject: notUsed, find: () => undefined },
        store: new MemoryStore(),
        logger: pino({ level: 'silent' }),
        devices: async () => [],
      });
      const bill = mapBridgeBill(parseJsonLossless(billText), { account: '120', payment: 'card' });
      const job = {
        id: 'J1',
        key: `bridge/120/${bill.billId}`,
        seq: 1,
        bill,
        summary: { source: 'bridge', account: '120', billId: bill.billId },
        operation: 'sell',
        deviceId: 'kkt-1',
        state: 'FISCALIZED',
        receivedAt: '2025-12-15T12:35:56.000Z',
        updatedAt: '2025-12-15T12:36:28.000Z',
        trigger: { kind: 'command' },
        attempts: 1,
        fiscal: fiscalFor(logged, local, bill.totalMinor),
      } satisfies Job;
      const drafts: OutboxDraft[] = connector.sink.draft({ type: 'job.fiscalized', job });
      const redrafted: OutboxDraft[] = connector.sink.draft({ type: 'job.fiscalized', job });
      await connector.stop();

      expect(drafts).toHaveLength(1);
      const { event } = drafts[0]!.payload as ReceiptCreatedPayload;
      const expected = JSON.parse(receiptText) as Record<string, unknown> & { data: Record<string, unknown> };
      const { id, timestamp, data, ...envelope } = expected;
      const { id: dataId, ...body } = data;
      const { id: draftId, data: draftData, ...draftEnvelope } = event;
      const { id: draftDataId, ...draftBody } = draftData;
      expect(draftEnvelope).toEqual(envelope);
      expect(draftBody).toEqual(body);
      // RFC 9562 UUIDs as the log's are, but named by the job (version 5), not random like the app's.
      for (const uuid of [draftId, draftDataId]) {
        expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      }
      expect(draftId).not.toBe(draftDataId);
      expect([id, dataId, timestamp]).not.toContain(draftId);
      // The same job drafted again (a store rebuilt from the register) carries the same ids.
      const again = (redrafted[0]!.payload as ReceiptCreatedPayload).event;
      expect([again.id, again.data.id]).toEqual([draftId, draftDataId]);
    });
  }

  it('the mock bridge serves the seed bills exactly as logged', () => {
    expect(SEED_BILLS).toEqual([JSON.parse(BILL_346042), JSON.parse(BILL_346044)]);
  });
});

function notUsed(): never {
  throw new Error('not used in this test');
}
