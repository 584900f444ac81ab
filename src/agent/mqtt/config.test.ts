import { describe, expect, it } from 'vitest';
import { parseWithSchema } from '../../lib/json.js';
import { mqttConfigSchema } from './config.js';
import { MqttTopics } from './topics.js';

const parse = (value: unknown) => parseWithSchema(mqttConfigSchema, value);

describe('the mqtt config section', () => {
  it('fills defaults', () => {
    expect(parse({ url: 'mqtts://broker.example:8883' })).toMatchObject({
      topicPrefix: 'kkt',
      protocol: 'auto',
      keepaliveSeconds: 30,
      sessionExpirySeconds: 86_400,
      commandTtlHours: 24,
      maxPayloadBytes: 1_048_576,
      receipts: true,
      requireSigned: false,
    });
  });

  it('names the field of each mistake', () => {
    const field = (value: unknown) => {
      try {
        parse(value);
        return undefined;
      } catch (error) {
        return (error as { field?: string }).field;
      }
    };
    expect(field({ url: 'http://broker' })).toBe('url');
    expect(field({ url: 'mqtt://user:pw@broker' })).toBe('url');
    expect(field({ url: 'mqtt://b', deviceId: 'a/b' })).toBe('deviceId');
    expect(field({ url: 'mqtt://b', topicPrefix: 'kkt/#' })).toBe('topicPrefix');
    expect(field({ url: 'mqtt://b', password: 'x', passwordFile: '/p' })).toBe('passwordFile');
    expect(field({ url: 'mqtt://b', requireSigned: true })).toBe('requireSigned');
    expect(field({ url: 'mqtt://b', tls: { certFile: '/c' } })).toBe('tls.keyFile');
  });
});

describe('topics', () => {
  it('builds the tree and parses command topics', () => {
    const topics = new MqttTopics('shops/kkt', 'box-1');
    expect(topics.status).toBe('shops/kkt/box-1/status');
    expect(topics.commandFilter).toBe('shops/kkt/box-1/cmd/+');
    expect(topics.commandName('shops/kkt/box-1/cmd/cashIn')).toBe('cashIn');
    expect(topics.commandName('shops/kkt/box-1/cmd/a/b')).toBeUndefined();
    expect(topics.commandName('shops/kkt/box-2/cmd/cashIn')).toBeUndefined();
    expect(topics.isOwn('shops/kkt/box-1/state')).toBe(true);
    expect(topics.isOwn('shops/kkt/box-10/state')).toBe(false);
  });
});
