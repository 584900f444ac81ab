/**
 * The room table of docs/ARCHITECTURE.md as data: where each room lives and which rooms it may import.
 * `npm run lint` enforces it (biome.json, `noRestrictedImports` per room); rooms.e2e.test.ts proves that every
 * import the table forbids fails the lint and every one it allows passes. Node modules and packages are
 * always allowed (except where a room says "node only"); tests beside the code (`*.test.ts`) may import
 * anything, like everything under `test/`.
 */

export interface Room {
  /** A folder (ends in `/`) or one file. */
  path: string;
  mayImport: readonly string[];
}

const CORE = [
  'lib',
  'domain',
  'store',
  'jobs',
  'devices',
  'fiscalizer',
  'outbox',
  'connectors',
  'crashPoints',
  'journalImport',
  'doctor',
];
const AGENT_ROOMS = [
  ...CORE,
  'agent',
  'control',
  'state',
  'mqtt',
  'schedules',
  'systemd',
  'config',
  'logging',
  'logFile',
  'version',
];
const DRIVERS = ['drivers/http', 'drivers/atol', 'drivers/intent'];

export const ROOMS: Record<string, Room> = {
  lib: { path: 'src/lib/', mayImport: [] },
  'drivers/http': { path: 'src/drivers/http/', mayImport: [] },
  'drivers/atol': { path: 'src/drivers/atol/', mayImport: ['lib', 'drivers/http'] },
  'drivers/intent': { path: 'src/drivers/intent/', mayImport: ['lib', 'drivers/http'] },
  emulators: { path: 'src/emulators/', mayImport: ['lib', ...DRIVERS] },
  domain: { path: 'src/agent/domain/', mayImport: ['lib'] },
  store: { path: 'src/agent/store/', mayImport: ['lib', 'crashPoints'] },
  crashPoints: { path: 'src/agent/crashPoints.ts', mayImport: [] },
  jobs: { path: 'src/agent/jobs/', mayImport: ['lib', 'domain', 'store', 'crashPoints'] },
  devices: { path: 'src/agent/devices/', mayImport: ['lib', ...DRIVERS, 'domain', 'jobs'] },
  fiscalizer: {
    path: 'src/agent/fiscalizer.ts',
    mayImport: ['lib', 'domain', 'jobs', 'devices', 'crashPoints'],
  },
  outbox: { path: 'src/agent/outbox/', mayImport: ['lib', 'domain', 'store', 'jobs', 'crashPoints'] },
  journalImport: {
    path: 'src/agent/journalImport.ts',
    mayImport: ['lib', 'store', 'jobs', 'outbox', 'crashPoints'],
  },
  connectors: { path: 'src/agent/connectors/', mayImport: ['lib', 'domain', 'jobs', 'outbox', 'devices'] },
  doctor: { path: 'src/agent/doctor/', mayImport: ['lib', 'domain', 'store', 'devices', 'crashPoints'] },
  agent: { path: 'src/agent/agent.ts', mayImport: CORE },
  control: { path: 'src/agent/control/', mayImport: [...CORE, 'agent'] },
  state: { path: 'src/agent/state/', mayImport: [...CORE, 'agent'] },
  schedules: { path: 'src/agent/schedules/', mayImport: [...CORE, 'agent'] },
  mqtt: {
    path: 'src/agent/mqtt/',
    mayImport: [...CORE, 'agent', 'control', 'state', 'config', 'logging', 'version'],
  },
  systemd: { path: 'src/agent/systemd/', mayImport: ['lib'] },
  logging: { path: 'src/agent/logging.ts', mayImport: ['lib', 'logFile'] },
  logFile: { path: 'src/agent/logFile.ts', mayImport: [] },
  version: { path: 'src/agent/version.ts', mayImport: [] },
  config: {
    path: 'src/agent/config/',
    mayImport: [...DRIVERS, ...AGENT_ROOMS.filter((room) => room !== 'config')],
  },
  composition: { path: 'src/agent/composition.ts', mayImport: [...DRIVERS, ...AGENT_ROOMS] },
  daemon: { path: 'src/agent/daemon.ts', mayImport: [...DRIVERS, ...AGENT_ROOMS, 'composition'] },
  cli: { path: 'src/cli/', mayImport: [...DRIVERS, ...AGENT_ROOMS, 'composition', 'daemon', 'emulators'] },
};
