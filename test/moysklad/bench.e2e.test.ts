import { describe, expect, it } from 'vitest';
import { benchMoysklad } from '../../bench/moysklad.js';

describe('benchMoysklad', () => {
  it('drains queued documents to the mock with the real limits and no 429', async () => {
    const result = await benchMoysklad({ documents: 60 });
    expect(result).toMatchObject({ documents: 60, count429: 0, requests: 62 });
    expect(result.requestsPerSecond).toBeGreaterThan(0);
    expect(result.shareOfAllowedRate).toBeGreaterThan(0);
  });
});
