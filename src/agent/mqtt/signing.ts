import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { MqttSignatureError } from './errors.js';

/**
 * Signed messages (`mqtt.requireSigned`). The MQTT payload is an envelope
 *
 *   {"payload": "<the command or desired-config JSON, as a string>", "sig": "<64 hex digits>"}
 *
 * where sig = HMAC-SHA256(key, UTF-8(topic) ‖ 0x0A ‖ UTF-8(payload)). The signature covers the exact bytes
 * of the inner JSON text (no canonicalisation needed) and the full topic, so a signed `cmd/cashIn` cannot
 * be replayed on `cmd/cashOut` or on another box's topics.
 */

export const signedEnvelopeSchema = z.strictObject({
  payload: z.string(),
  sig: z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hex digits (HMAC-SHA256)'),
});

export function signatureOf(key: string | Buffer, topic: string, payload: string): string {
  return createHmac('sha256', key).update(topic, 'utf8').update('\n').update(payload, 'utf8').digest('hex');
}

/** The envelope a signing sender publishes (used by tools and tests). */
export function signEnvelope(key: string | Buffer, topic: string, payload: string): string {
  return JSON.stringify({ payload, sig: signatureOf(key, topic, payload) });
}

/**
 * Opens an envelope and checks its signature; returns the inner payload text. Throws MqttSignatureError:
 * MQTT_SIGNATURE_REQUIRED when the message is not an envelope, MQTT_SIGNATURE_INVALID when it does not match.
 */
export function openEnvelope(key: string | Buffer, topic: string, text: string): string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined;
  }
  const envelope = signedEnvelopeSchema.safeParse(raw);
  if (!envelope.success) {
    throw new MqttSignatureError(
      'MQTT_SIGNATURE_REQUIRED',
      'This agent only accepts signed messages: send {"payload": "<json text>", "sig": "<hmac-sha256 hex>"}.',
      { field: 'sig' },
    );
  }
  const expected = Buffer.from(signatureOf(key, topic, envelope.data.payload), 'hex');
  const given = Buffer.from(envelope.data.sig, 'hex');
  if (!timingSafeEqual(expected, given)) {
    throw new MqttSignatureError(
      'MQTT_SIGNATURE_INVALID',
      'The signature does not match the payload and topic (wrong key, or the message was altered).',
      { field: 'sig' },
    );
  }
  return envelope.data.payload;
}
