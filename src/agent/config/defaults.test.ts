import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { DEFAULT_RECONNECT } from '../../drivers/atol/reconnect.js';
import { DEFAULT_DISCOVERY_TIMEOUT_MS } from '../../drivers/intent/discovery.js';
import { DEFAULT_AUTH_TIMEOUT_MS, DEFAULT_SALE_TIMEOUT_MS } from '../../drivers/intent/terminal.js';
import { FISCALIZER_DEFAULTS } from '../fiscalizer.js';
import { JOURNAL_DEFAULTS } from '../jobs/config.js';
import { OUTBOX_DEFAULTS } from '../outbox/config.js';
import { configSchema, parseConfig } from './config.js';

/** The schema owns every default: a section says each default once, and modules read them from it. */

interface Def {
  type: string;
  defaultValue?: unknown;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  element?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  options?: z.ZodType[];
}

/** Object defaults other than `{}`: a second copy of what the fields' own defaults say (or will drift from). */
function restatedDefaults(schema: z.ZodType, path: string, found: string[]): string[] {
  const def = (schema as unknown as { _zod: { def: Def } })._zod.def;
  if (def.type === 'default') {
    const value = typeof def.defaultValue === 'function' ? def.defaultValue() : def.defaultValue;
    const isObject = value !== null && typeof value === 'object' && !Array.isArray(value);
    const innerIsObject = (def.innerType as unknown as { _zod: { def: Def } })._zod.def.type === 'object';
    if (isObject && innerIsObject && Object.keys(value as object).length > 0) found.push(path);
  }
  for (const child of [def.innerType, def.in, def.out, def.element]) {
    if (child) restatedDefaults(child, path, found);
  }
  for (const [key, child] of Object.entries(def.shape ?? {}))
    restatedDefaults(child, `${path}.${key}`, found);
  for (const [index, option] of (def.options ?? []).entries())
    restatedDefaults(option, `${path}[${index}]`, found);
  return found;
}

const minimal = {
  devices: [
    { id: 'kkt', kind: 'atol', link: { type: 'tcp', host: '10.0.0.5' }, operator: { name: 'Кассир' } },
  ],
};

describe('config defaults', () => {
  it('restates no default: a section left out is its fields’ own defaults (prefault)', () => {
    expect(restatedDefaults(configSchema, 'config', [])).toEqual([]);
  });

  it('gives the modules the same defaults they take when a part is left out', () => {
    const config = parseConfig(minimal);
    expect(config.fiscalizer).toEqual(FISCALIZER_DEFAULTS);
    expect(config.outbox).toEqual(OUTBOX_DEFAULTS);
    expect(config.journal).toEqual(JOURNAL_DEFAULTS);
    expect(config.devices[0]).toMatchObject({ reconnect: DEFAULT_RECONNECT });
  });

  it('waits as long for a SmartX terminal as its driver does (discovery, AUTH, SALE)', () => {
    const config = parseConfig({ devices: [{ id: 'smartx', kind: 'intent' }] });
    expect(config.devices[0]).toMatchObject({
      discoveryTimeoutMs: DEFAULT_DISCOVERY_TIMEOUT_MS,
      authTimeoutMs: DEFAULT_AUTH_TIMEOUT_MS,
      saleTimeoutMs: DEFAULT_SALE_TIMEOUT_MS,
    });
    // 5 s was the config's own figure; the driver's 10 s is the one (docs/intent.md, "Discovery").
    expect(DEFAULT_DISCOVERY_TIMEOUT_MS).toBe(10_000);
  });

  it('makes the daemon’s device-stall threshold a config field', () => {
    expect(parseConfig(minimal).fiscalizer.deviceStallMs).toBe(300_000);
    expect(parseConfig({ ...minimal, fiscalizer: { deviceStallMs: 60_000 } }).fiscalizer.deviceStallMs).toBe(
      60_000,
    );
  });
});
