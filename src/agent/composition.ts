import { join } from 'node:path';
import type { Logger } from 'pino';
import type { LinkFactory } from '../drivers/atol/kkt.js';
import { TcpLink } from '../drivers/atol/transport/tcpLink.js';
import { WireTraceFile } from '../drivers/atol/transport/wireTraceWriter.js';
import { KktAgentError } from '../lib/errors.js';
import { Agent } from './agent.js';
import type { AgentConfig, DeviceConfig } from './config/config.js';
import type { Connector } from './connectors/types.js';
import type { FiscalDevice } from './devices/device.js';
import { RUSSIAN_VAT_TABLE, type VatPolicy } from './domain/vatRules.js';
import type { DeviceRouter } from './jobs/intake.js';
import type { AgentLogger } from './logging.js';
import type { ReportSink } from './outbox/sink.js';
import { AGENT_VERSION } from './version.js';

type AtolLinkConfig = Extract<DeviceConfig, { kind: 'atol' }>['link'];

/*
 * What a config does not use is never loaded (issue 17: memory of a box that runs for years): each device
 * kind, connector kind and the serial stack (serialport and its native binding) is imported when the config
 * names it. `test/e2e/lazyModules.e2e.test.ts` checks which modules a bridge-only daemon loads.
 */

/** The first ATOL register on USB (or the one with the given serial number), looked up at every connect. */
async function findUsbRegister(serialNumber: string | undefined): Promise<string> {
  const { listAtolSerialPorts, scanAtolUsbDevices } = await import('../drivers/atol/usb/index.js');
  const devices = (await scanAtolUsbDevices()).filter(
    (d) => !serialNumber || d.serialNumber === serialNumber,
  );
  const fromSysfs = devices.find((d) => d.ttyPath)?.ttyPath;
  if (fromSysfs) return fromSysfs;
  const fallback = (await listAtolSerialPorts()).find(
    (p) => !serialNumber || p.serialNumber === serialNumber,
  );
  if (fallback) return fallback.path;
  throw new KktAgentError(
    'KKT_USB_NOT_FOUND',
    `No ATOL register${serialNumber ? ` with serial ${serialNumber}` : ''} is attached over USB (vendor 2912). Check the cable and that the register is on.`,
  );
}

export function linkFactory(link: AtolLinkConfig): LinkFactory {
  switch (link.type) {
    case 'tcp':
      return () => new TcpLink({ host: link.host, port: link.port });
    case 'serial':
      return async () => {
        const { SerialLink } = await import('../drivers/atol/transport/serialLink.js');
        return new SerialLink({ path: link.path, baudRate: link.baudRate });
      };
    case 'usb':
      return async () => {
        const path = await findUsbRegister(link.serialNumber);
        const { SerialLink } = await import('../drivers/atol/transport/serialLink.js');
        return new SerialLink({ path, baudRate: link.baudRate });
      };
  }
}

/** The VAT rules the ATOL registers apply: the configured table, else the built-in one. */
export function vatPolicyOf(agentConfig: AgentConfig): VatPolicy {
  const { table, allowRetiredRatesUntil } = agentConfig.vat;
  return {
    table: table ?? RUSSIAN_VAT_TABLE,
    ...(allowRetiredRatesUntil !== undefined ? { allowRetiredRatesUntil } : {}),
  };
}

export async function createDevice(
  config: DeviceConfig,
  agentConfig: AgentConfig,
  logger: Logger,
): Promise<FiscalDevice> {
  switch (config.kind) {
    case 'atol': {
      const { AtolDevice } = await import('./devices/atol/atolDevice.js');
      return new AtolDevice({
        id: config.id,
        link: linkFactory(config.link),
        operatorPassword: config.operatorPassword,
        adminPassword: config.adminPassword,
        timeZone: config.timeZone ?? agentConfig.timeZone,
        commandTimeoutsMs: config.commandTimeoutsMs,
        transport: { accessPassword: config.accessPassword, replyTimeoutMs: config.replyTimeoutMs },
        reconnect: config.reconnect,
        taxBytes: config.taxBytes,
        receiptDefaults: { operator: config.operator, taxationType: config.taxationType },
        vatPolicy: vatPolicyOf(agentConfig),
        logger,
      });
    }
    case 'atol-web': {
      const { AtolWebDevice } = await import('./devices/atolWeb/atolWebDevice.js');
      // The local module of Честный ЗНАК, when named: permits for sales, the doctor's probe (docs/marking.md).
      const localModule = config.localModule
        ? (await import('./devices/localModule/parts.js')).localModuleParts(
            config.id,
            config.localModule,
            logger,
          )
        : {};
      return new AtolWebDevice({
        id: config.id,
        server: {
          url: config.url,
          auth: config.auth,
          deviceId: config.deviceId,
          pollIntervalMs: config.pollIntervalMs,
          requestTimeoutMs: config.requestTimeoutMs,
          taskTimeoutMs: config.taskTimeoutMs,
          timeZone: config.timeZone ?? agentConfig.timeZone,
          reconnect: config.reconnect,
        },
        receiptDefaults: { operator: config.operator, taxationType: config.taxationType },
        vatPolicy: vatPolicyOf(agentConfig),
        markingCheckTimeoutMs: config.markingCheckTimeoutMs,
        ...localModule,
        timeZone: config.timeZone ?? agentConfig.timeZone,
        logger,
      });
    }
    case 'intent': {
      const { IntentDevice } = await import('./devices/intent/intentDevice.js');
      return new IntentDevice({
        id: config.id,
        baseUrl: config.baseUrl,
        pin: config.pin,
        cashier: config.cashier,
        printCheque: config.printCheque,
        saleTimeoutMs: config.saleTimeoutMs,
        authTimeoutMs: config.authTimeoutMs,
        discoveryTimeoutMs: config.discoveryTimeoutMs,
        timeZone: agentConfig.timeZone,
        logger,
      });
    }
    case 'nonfiscal': {
      const { createNonfiscalDevice } = await import('./devices/nonfiscal/nonfiscalDevice.js');
      return createNonfiscalDevice(config, {
        dataDir: agentConfig.dataDir,
        timeZone: agentConfig.timeZone,
        logger,
      });
    }
  }
}

/**
 * Which device fiscalizes a bill: the first routing rule that matches (source, account, currency), then the
 * account's own `device`, then the default device, then the first device that takes the bill's currency.
 */
export function createRouter(config: AgentConfig, devices: FiscalDevice[]): DeviceRouter {
  // An account's own `device` setting, keyed `<source>/<account>`.
  const accountDevice = new Map<string, string>();
  for (const account of config.connectors.bridge)
    if (account.device) accountDevice.set(`bridge/${account.id}`, account.device);
  for (const account of config.connectors.moysklad)
    if (account.device) accountDevice.set(`moysklad/${account.id}`, account.device);
  for (const account of config.connectors.oxsystem)
    if (account.device) accountDevice.set(`oxsystem/${account.id}`, account.device);
  return (bill) => {
    const rule = config.routing.rules.find(
      (r) =>
        (r.source === undefined || r.source === bill.source) &&
        (r.account === undefined || r.account === bill.account) &&
        (r.currency === undefined || r.currency === bill.currency),
    );
    if (rule) return rule.device;
    const own = accountDevice.get(`${bill.source}/${bill.account}`);
    if (own) return own;
    if (config.routing.defaultDevice) return config.routing.defaultDevice;
    return (devices.find((d) => d.currencies.includes(bill.currency)) ?? devices[0]!).id;
  };
}

export async function createConnectors(config: AgentConfig): Promise<Connector[]> {
  const { bridge, moysklad, oxsystem } = config.connectors;
  const connectors: Connector[] = [];
  if (bridge.length > 0) {
    const { BridgeConnector } = await import('./connectors/bridge/connector.js');
    connectors.push(...bridge.map((account) => new BridgeConnector(account)));
  }
  if (moysklad.length > 0) {
    const { MoyskladConnector } = await import('./connectors/moysklad/connector.js');
    connectors.push(
      ...moysklad.map((account) => new MoyskladConnector(account, { softwareVersion: AGENT_VERSION })),
    );
  }
  if (oxsystem.length > 0) {
    const { OxSystemConnector } = await import('./connectors/oxsystem/connector.js');
    connectors.push(...oxsystem.map((account) => new OxSystemConnector(account)));
  }
  return connectors;
}

export interface BuildOptions {
  fsync?: boolean;
  extraSinks?: ReportSink[];
}

export async function buildAgent(
  config: AgentConfig,
  log: AgentLogger,
  options: BuildOptions = {},
): Promise<Agent> {
  const devices = await Promise.all(
    config.devices.map((device) => createDevice(device, config, log.module('device', { device: device.id }))),
  );
  return Agent.open({
    dataDir: config.dataDir,
    logger: log.root,
    loggerFor: log.module,
    devices,
    connectors: await createConnectors(config),
    sinks: options.extraSinks,
    router: createRouter(config, devices),
    fiscalizer: config.fiscalizer,
    outbox: config.outbox,
    journal: config.journal,
    intake: { ...config.intake, timeZone: config.timeZone },
    recovery: config.recovery,
    fsync: options.fsync,
  });
}

export const controlSocketPath = (config: AgentConfig): string =>
  config.control.socketPath ?? join(config.dataDir, 'control.sock');

/**
 * Traces the wire of every device that has frames (ATOL protocol v3) into one file, each line naming its
 * device (docs/protocol/atol-v3.md §14), until the returned function is called; that puts back whatever
 * tap each device had before.
 */
export function traceDevicesWire(path: string, devices: readonly FiscalDevice[]): () => void {
  const file = new WireTraceFile(path);
  const restore = devices.flatMap((device) => {
    if (!device.traceWire) return [];
    const previous = device.traceWire(() => file.tap(device.id));
    return [() => device.traceWire?.(previous)];
  });
  return () => {
    for (const undo of restore) undo();
    file.close();
  };
}
