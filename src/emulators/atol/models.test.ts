import { describe, expect, it } from 'vitest';
import { EmulatorConfigError } from './errors.js';
import { resolveModel } from './models.js';

describe('resolveModel', () => {
  it('defaults to ATOL 30Ф and accepts codes and names in either alphabet', () => {
    expect(resolveModel(undefined)).toEqual({ code: 61, name: 'АТОЛ 30Ф', lineWidth: 32 });
    expect(resolveModel(63).lineWidth).toBe(48);
    expect(resolveModel('22F').code).toBe(63);
    expect(resolveModel('АТОЛ 55Ф')).toMatchObject({ code: 62, lineWidth: 36 });
    expect(resolveModel('atol 42fs').code).toBe(77);
  });

  it('refuses platform 5 models and unknown names', () => {
    expect(() => resolveModel('Sigma 10')).toThrow(EmulatorConfigError);
    expect(() => resolveModel(86)).toThrow(/emulated models/);
  });
});
