import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.js';
import { DEFAULT_AUTH_TIMEOUT_MS, DEFAULT_SALE_TIMEOUT_MS, IntentTerminal } from './terminal.js';

describe('IntentTerminal options', () => {
  it('needs an address or discovery', () => {
    expect(() => new IntentTerminal({})).toThrow(ValidationError);
    expect(() => new IntentTerminal({ discover: false })).toThrow(ValidationError);
    expect(() => new IntentTerminal({ baseUrl: 'ftp://10.0.0.5' })).toThrow(ValidationError);
  });

  it('waits long for a card sale and briefly for AUTH unless told otherwise', () => {
    const defaults = new IntentTerminal({ baseUrl: '10.0.0.5' }).describe();
    expect(defaults).toMatchObject({
      endpoint: 'http://10.0.0.5:37015/v1',
      addressSource: 'configured',
      saleTimeoutMs: DEFAULT_SALE_TIMEOUT_MS,
      authTimeoutMs: DEFAULT_AUTH_TIMEOUT_MS,
      authConfigured: false,
    });
    expect(DEFAULT_SALE_TIMEOUT_MS).toBeGreaterThanOrEqual(120_000);
    const tuned = new IntentTerminal({
      baseUrl: '10.0.0.5',
      saleTimeoutMs: 300_000,
      authTimeoutMs: 2_000,
    }).describe();
    expect(tuned).toMatchObject({ saleTimeoutMs: 300_000, authTimeoutMs: 2_000 });
    expect(() => new IntentTerminal({ baseUrl: '10.0.0.5', saleTimeoutMs: 0 })).toThrow(ValidationError);
  });

  it('refuses an invalid sale before touching the network', async () => {
    // Port 9 on a TEST-NET address: if anything were sent, the call would fail differently.
    const terminal = new IntentTerminal({ baseUrl: 'http://192.0.2.1:9' });
    await expect(terminal.sale({ cashier: '', itemList: [] }, { operationId: 'x' })).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(terminal.describe().lastError).toBeUndefined();
  });
});
