import { wallClockAt } from '../../lib/time.js';
import { allowedVatTypes, RUSSIAN_VAT_TABLE, vatPeriodOn } from '../domain/vatRules.js';
import type { AgentConfig } from './config.js';

/** `YYYY-MM-DD` of `instant` in `timeZone`. */
function localDate(instant: Date, timeZone: string): string {
  const { year, month, day } = wallClockAt(instant, timeZone);
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/**
 * What a valid config still gets wrong for the shop: a VAT rate table that cannot be used today, a transition
 * that has ended, a SmartX cashier left at its placeholder. `config validate` prints these, and the daemon
 * logs them at start; none stops the agent (docs/configuration.md, "Warnings").
 */
export function configWarnings(config: AgentConfig, now: Date = new Date()): string[] {
  const warnings: string[] = [];
  const today = localDate(now, config.timeZone);
  const atolDevices = config.devices
    .map((device, index) => ({ device, index }))
    .filter(({ device }) => device.kind === 'atol' || device.kind === 'atol-web');

  if (atolDevices.length > 0) {
    const table = config.vat.table ?? RUSSIAN_VAT_TABLE;
    const source = config.vat.table ? 'vat.table' : 'the built-in VAT rate table';
    const period = vatPeriodOn(table, today);
    if (period === undefined) {
      warnings.push(
        `${source} starts on ${table[0]!.from}, after today (${today}): every receipt on an ATOL register is refused until then`,
      );
    } else {
      for (const { device, index } of atolDevices) {
        const system = 'taxationType' in device ? device.taxationType : undefined;
        const rates = allowedVatTypes(period, system).filter((vat) => vat !== 'none');
        if (rates.length === 0) {
          warnings.push(
            `devices[${index}] (${device.id}): ${source} allows no VAT rate today for taxation system ` +
              `${system ?? '(not set)'}; only bills without VAT will print`,
          );
        }
      }
    }
    if (config.vat.table) {
      const builtInChanges = RUSSIAN_VAT_TABLE.filter((p) => p.from > table[table.length - 1]!.from);
      for (const change of builtInChanges) {
        warnings.push(
          `vat.table ends with a period from ${table[table.length - 1]!.from}, but the law changed on ${change.from} ` +
            `(${change.basis}); the configured table hides that change`,
        );
      }
    }
    const until = config.vat.allowRetiredRatesUntil;
    if (until !== undefined && until < today) {
      warnings.push(`vat.allowRetiredRatesUntil (${until}) has passed: retired VAT rates are refused again`);
    }
  }

  config.devices.forEach((device, index) => {
    if (device.kind === 'intent' && device.cashier === 'Кассир') {
      warnings.push(
        `devices[${index}].cashier is the placeholder "Кассир": set the name of the person at the terminal`,
      );
    }
  });
  return warnings;
}
