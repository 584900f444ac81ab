import type { Logger } from 'pino';
import { LocalModuleClient } from './client.js';
import { LocalModuleWatch } from './condition.js';
import type { LocalModuleConfig } from './config.js';
import { LocalModulePermits } from './permits.js';
import { LocalModuleDoctor } from './probe.js';

/**
 * What an atol-web device gets of its `localModule` config (docs/marking.md): one client, the offline
 * rules for sales when `enabled`, and the doctor's probe whenever the config names a module; the two keep
 * the module's last condition in one watch, which the device's snapshot shows.
 */
export function localModuleParts(
  deviceId: string,
  config: LocalModuleConfig,
  logger: Logger,
): { localModule?: LocalModulePermits; localModuleDoctor: LocalModuleDoctor } {
  const client = new LocalModuleClient({ ...config, logger });
  const watch = new LocalModuleWatch(config.url, config.credentialsFile);
  const localModuleDoctor = new LocalModuleDoctor({ client, config, watch });
  if (!config.enabled) return { localModuleDoctor };
  const localModule = new LocalModulePermits({
    client,
    watch,
    maxSyncAgeHours: config.maxSyncAgeHours,
    whenUnavailable: config.whenUnavailable,
    deviceId,
    logger,
  });
  return { localModule, localModuleDoctor };
}
