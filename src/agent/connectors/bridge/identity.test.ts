import { describe, expect, it } from 'vitest';
import type { ConnectorStore } from '../types.js';
import { BRIDGE_USER_ID_PATTERN, EVOTOR_ID_PATTERN } from './config.js';
import { generateEvotorId, IDENTITY_STORE_KEY, resolveBridgeIdentity } from './identity.js';

class Store implements ConnectorStore {
  readonly values = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.values.get(key) as T | undefined;
  }
  async set(key: string, value: unknown): Promise<void> {
    this.values.set(key, structuredClone(value));
  }
}

const NOW = new Date('2026-03-22T18:00:00Z');

describe('resolveBridgeIdentity', () => {
  it('generates the missing ids in Evotor formats, dated today, and keeps them', async () => {
    const store = new Store();
    const first = await resolveBridgeIdentity({}, store, NOW);
    expect(first.generated).toEqual(['userId', 'storeId', 'deviceId', 'employeeId']);
    expect(first.identity.userId).toMatch(BRIDGE_USER_ID_PATTERN);
    for (const id of [first.identity.storeId, first.identity.deviceId, first.identity.employeeId]) {
      expect(id).toMatch(EVOTOR_ID_PATTERN);
      expect(id.startsWith('20260322-')).toBe(true);
    }
    expect(new Set([first.identity.storeId, first.identity.deviceId, first.identity.employeeId]).size).toBe(
      3,
    );

    const again = await resolveBridgeIdentity({}, store, new Date('2026-04-01T00:00:00Z'));
    expect(again).toEqual({ identity: first.identity, generated: [] });
  });

  it('configured ids win and are not stored; only the generated ones are', async () => {
    const store = new Store();
    const configured = { userId: '01-000000000233309', storeId: '20170606-69FB-40FF-805C-7724F9A7F221' };
    const { identity, generated } = await resolveBridgeIdentity(configured, store, NOW);
    expect(identity).toMatchObject(configured);
    expect(generated).toEqual(['deviceId', 'employeeId']);
    expect(Object.keys(store.values.get(IDENTITY_STORE_KEY) as object)).toEqual(['deviceId', 'employeeId']);
  });

  it('replaces a stored value that is not in the format', async () => {
    const store = new Store();
    store.values.set(IDENTITY_STORE_KEY, {
      userId: 'garbage',
      storeId: '20170606-69FB-40FF-805C-7724F9A7F221',
    });
    const { identity, generated } = await resolveBridgeIdentity({}, store, NOW);
    expect(identity.storeId).toBe('20170606-69FB-40FF-805C-7724F9A7F221');
    expect(generated).toContain('userId');
    expect(identity.userId).toMatch(BRIDGE_USER_ID_PATTERN);
  });

  it('generateEvotorId matches YYYYMMDD-XXXX-40XX-80XX-XXXXXXXXXXXX', () => {
    for (let i = 0; i < 50; i++) expect(generateEvotorId(NOW)).toMatch(EVOTOR_ID_PATTERN);
  });
});
