import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openEnvelope, signatureOf, signEnvelope } from './signing.js';

const topic = 'kkt/box-1/cmd/cashIn';
const payload = '{"cmdId":"c1","amountMinor":100,"issuedAt":"2026-01-01T00:00:00Z"}';

describe('signing', () => {
  it('signs HMAC-SHA256 over topic, newline and the payload text', () => {
    const expected = createHmac('sha256', 'k').update(`${topic}\n${payload}`).digest('hex');
    expect(signatureOf('k', topic, payload)).toBe(expected);
    expect(JSON.parse(signEnvelope('k', topic, payload))).toEqual({ payload, sig: expected });
  });

  it('opens a good envelope and refuses unsigned, altered, re-targeted or wrongly keyed ones', () => {
    const envelope = signEnvelope('k', topic, payload);
    expect(openEnvelope('k', topic, envelope)).toBe(payload);
    expect(() => openEnvelope('k', topic, payload)).toThrow(
      expect.objectContaining({ code: 'MQTT_SIGNATURE_REQUIRED' }),
    );
    const altered = JSON.stringify({ ...JSON.parse(envelope), payload: payload.replace('100', '900') });
    expect(() => openEnvelope('k', topic, altered)).toThrow(
      expect.objectContaining({ code: 'MQTT_SIGNATURE_INVALID' }),
    );
    expect(() => openEnvelope('k', 'kkt/box-1/cmd/cashOut', envelope)).toThrow(
      expect.objectContaining({ code: 'MQTT_SIGNATURE_INVALID' }),
    );
    expect(() => openEnvelope('other', topic, envelope)).toThrow(
      expect.objectContaining({ code: 'MQTT_SIGNATURE_INVALID' }),
    );
  });
});
