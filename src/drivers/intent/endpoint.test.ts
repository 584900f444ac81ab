import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.js';
import { endpointFromBaseUrl, endpointFromReply } from './endpoint.js';

describe('endpointFromBaseUrl', () => {
  it.each([
    ['http://192.168.1.2:37015', 'http://192.168.1.2:37015/v1'],
    ['http://192.168.1.2:37015/', 'http://192.168.1.2:37015/v1'],
    ['http://192.168.1.2:37015/v1', 'http://192.168.1.2:37015/v1'],
    ['192.168.1.2', 'http://192.168.1.2:37015/v1'],
    ['http://kassa.local', 'http://kassa.local:37015/v1'],
    ['http://kassa.local:80', 'http://kassa.local/v1'],
  ])('%s → %s', (baseUrl, endpoint) => {
    expect(endpointFromBaseUrl(baseUrl)).toBe(endpoint);
  });

  it('refuses what is not an http address', () => {
    expect(() => endpointFromBaseUrl('ftp://192.168.1.2')).toThrow(ValidationError);
    expect(() => endpointFromBaseUrl('http://')).toThrow(ValidationError);
  });
});

describe('endpointFromReply', () => {
  it("uses LOCATION's origin, or the sender on the documented port", () => {
    expect(endpointFromReply('http://192.168.1.2:37015', '192.168.1.2')).toBe('http://192.168.1.2:37015/v1');
    expect(endpointFromReply('http://192.168.1.2:37015/description.xml', '192.168.1.2')).toBe(
      'http://192.168.1.2:37015/v1',
    );
    expect(endpointFromReply(undefined, '192.168.1.9')).toBe('http://192.168.1.9:37015/v1');
    expect(endpointFromReply('not a url', '192.168.1.9')).toBe('http://192.168.1.9:37015/v1');
  });
});
