import { describe, expect, it } from 'vitest';
import type { ConnectorStore } from '../types.js';
import { SHIFTS_STORE_KEY, ShiftRegistry } from './shifts.js';

class Store implements ConnectorStore {
  values = new Map<string, unknown>();
  writes = 0;
  get<T>(key: string) {
    return structuredClone(this.values.get(key)) as T | undefined;
  }
  async set(key: string, value: unknown) {
    this.writes++;
    this.values.set(key, structuredClone(value));
  }
}

const opening = (deviceId: string, number: number, fnNumber?: string) => ({
  deviceId,
  number,
  ...(fnNumber ? { fnNumber } : {}),
  openmoment: '2026-11-22 10:00:00',
  start: { shiftNumber: String(number), time: '2026-11-22 10:00:00' },
  adopted: false,
});

describe('ShiftRegistry', () => {
  it('gives each shift one syncId, persists it, and finds it again after a restart', async () => {
    const store = new Store();
    const registry = new ShiftRegistry();
    registry.attach(store);
    const first = registry.open(opening('kkt-1', 7, 'FN1'));
    registry.countReceipt(first);
    registry.countReceipt(first);
    await registry.flush();
    const restarted = new ShiftRegistry();
    restarted.attach(store);
    expect(restarted.find({ deviceId: 'kkt-1', number: 7, fnNumber: 'FN1' })).toMatchObject({
      syncId: first.syncId,
      receipts: 2,
    });
    // A shift of the same number on a new FN is another shift.
    expect(restarted.find({ deviceId: 'kkt-1', number: 7, fnNumber: 'FN2' })).toBeUndefined();
    expect(restarted.current().map((r) => r.syncId)).toEqual([first.syncId]);
    restarted.close(restarted.bySyncId(first.syncId)!, '2026-11-22T18:00:00Z');
    expect(restarted.current()).toEqual([]);
  });

  it('coalesces writes and keeps shifts recorded before the store was attached', async () => {
    const store = new Store();
    store.values.set(SHIFTS_STORE_KEY, []);
    const registry = new ShiftRegistry(3);
    const early = registry.open(opening('kkt-1', 1));
    registry.attach(store);
    for (let i = 2; i <= 6; i++) registry.open(opening('kkt-1', i));
    await registry.flush();
    expect(store.writes).toBeLessThanOrEqual(3);
    const saved = store.get<Array<{ number: number }>>(SHIFTS_STORE_KEY)!;
    expect(saved.map((r) => r.number)).toEqual([4, 5, 6]);
    expect(registry.bySyncId(early.syncId)).toBeUndefined();
  });

  it('ignores a stored value that is not a shift list', () => {
    const store = new Store();
    store.values.set(SHIFTS_STORE_KEY, { nonsense: true });
    const registry = new ShiftRegistry();
    registry.attach(store);
    expect(registry.all).toEqual([]);
  });
});
