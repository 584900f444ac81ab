import type { DeviceSnapshot } from '../../devices/device.js';
import type { ChequePrinter } from './reports.js';
import { formatMoment } from './wire.js';

/**
 * `POST /state` (B.5.14): the register's health on MoySklad's store page. Built from a device snapshot;
 * fields the device cannot know stay out (a missing *required* field would null its whole object, so
 * `software.name`, `chequePrinter.name` and `sync.lastAttemptMoment` are always present).
 */

export interface StateEnvironmentInput {
  deviceName: string;
  os: string;
  softwareVersion: string;
  timeZone: string;
  /** The store's tax systems as MoySklad codes, comma-separated (what the register is registered for). */
  taxSystem?: string;
}

export interface StateSyncInput {
  /** "OK", or what went wrong last. */
  message: string;
  /** When the agent last tried to talk to MoySklad (ISO). */
  lastAttemptAt: string;
}

export interface StateBody {
  environment: {
    device: string;
    os: string;
    software: { name: string; vendor: string; version: string };
    chequePrinter?: Record<string, unknown>;
  };
  state: {
    sync: { message: string; lastAttemptMoment: string };
    fiscalMemory?: {
      error?: { code: string; message: string };
      notSendDocCount?: number;
      notSendFirstDocMoment?: string;
    };
  };
}

const VENDORS: Record<string, string> = { atol: 'АТОЛ', intent: 'SmartX' };

/** `environment.chequePrinter` (also the approve's `chequePrinter`) from a snapshot. */
export function chequePrinterOf(snapshot: DeviceSnapshot, softwareVersion: string): ChequePrinter {
  const printer: ChequePrinter = {
    vendor: VENDORS[snapshot.kind] ?? snapshot.kind,
    name: snapshot.model ?? snapshot.kind,
    driver: { name: 'kkt-agent', version: softwareVersion },
  };
  if (snapshot.serial) printer.serial = snapshot.serial;
  if (snapshot.firmware) printer.firmwareVersion = snapshot.firmware;
  const ffd = snapshot.details?.ffdVersion;
  if (typeof ffd === 'string') {
    printer.fiscalDataVersion = ffd;
    printer.fiscalMemory = { fiscalDataVersion: ffd };
  }
  return printer;
}

/** `YYYY-MM-DD` or an ISO date-time → posap's `YYYY-MM-DD HH:mm:ss`. */
function momentOf(text: string, timeZone: string): string | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return `${text} 00:00:00`;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : formatMoment(date, timeZone);
}

export function buildStateBody(
  snapshot: DeviceSnapshot | undefined,
  environment: StateEnvironmentInput,
  sync: StateSyncInput,
): StateBody {
  const body: StateBody = {
    environment: {
      device: environment.deviceName,
      os: environment.os,
      software: { name: 'kkt-agent', vendor: 'kkt-agent', version: environment.softwareVersion },
    },
    state: {
      sync: {
        message: sync.message,
        lastAttemptMoment: formatMoment(sync.lastAttemptAt, environment.timeZone),
      },
    },
  };
  if (!snapshot) return body;
  const printer: Record<string, unknown> = { ...chequePrinterOf(snapshot, environment.softwareVersion) };
  const validUntil = snapshot.fn?.validUntil
    ? momentOf(snapshot.fn.validUntil, environment.timeZone)
    : undefined;
  if (validUntil) {
    printer.fiscalMemory = {
      ...(printer.fiscalMemory as object | undefined),
      fiscalValidityDate: validUntil,
    };
  }
  if (environment.taxSystem) printer.taxSystem = environment.taxSystem;
  const deviceTime = snapshot.details?.deviceDateTime;
  if (typeof deviceTime === 'string') {
    const moment = momentOf(deviceTime, environment.timeZone);
    if (moment) printer.frDate = moment;
  }
  body.environment.chequePrinter = printer;

  const fiscalMemory: NonNullable<StateBody['state']['fiscalMemory']> = {};
  const warnings = snapshot.fn?.warnings ?? [];
  if (warnings.length > 0) {
    fiscalMemory.error = { code: warnings[0]!, message: warnings.join(', ') };
  } else if (!snapshot.online) {
    fiscalMemory.error = { code: 'OFFLINE', message: 'the register does not answer' };
  }
  if (snapshot.ofd) {
    fiscalMemory.notSendDocCount = snapshot.ofd.unsentCount;
    const oldest = snapshot.ofd.oldestUnsentAt
      ? momentOf(snapshot.ofd.oldestUnsentAt, environment.timeZone)
      : undefined;
    if (oldest) fiscalMemory.notSendFirstDocMoment = oldest;
  }
  if (Object.keys(fiscalMemory).length > 0) body.state.fiscalMemory = fiscalMemory;
  return body;
}

/** The body without the attempt time: what decides whether something changed. */
export function stateFingerprint(body: StateBody): string {
  return JSON.stringify({ ...body, state: { ...body.state, sync: { message: body.state.sync.message } } });
}
