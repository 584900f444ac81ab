import { EventEmitter } from 'node:events';
import { errorMessage } from '../../../lib/errors.js';
import { type HotplugEvent, type HotplugSource, UsbPackageHotplug } from './hotplug.js';
import {
  ATOL_USB_VENDOR_ID,
  type AtolUsbDevice,
  type SysfsScanOptions,
  scanAtolUsbDevices,
} from './sysfs.js';

export interface AtolUsbWatcherOptions extends SysfsScanOptions {
  /** Attach/detach hints; `null` relies on polling alone. Default: the `usb` package (netlink uevents). */
  hotplug?: HotplugSource | null;
  /** Rescan sysfs this often in any case (missed events, no hotplug). 0 disables. */
  pollIntervalMs?: number;
  /** After a register appears, how long to wait for the kernel to create its ttys before reporting it anyway. */
  ttyWaitMs?: number;
  /** Rescan delay while waiting for ttys, and after a hotplug hint (events come in bursts). */
  settleMs?: number;
}

export type AtolUsbWarning =
  | { code: 'ATOL_USB_HOTPLUG_UNAVAILABLE'; message: string }
  | { code: 'ATOL_USB_SCAN_FAILED'; message: string }
  | { code: 'ATOL_USB_PORTS_MISSING'; message: string; device: AtolUsbDevice };

interface WatcherEvents {
  attached: [device: AtolUsbDevice];
  detached: [device: AtolUsbDevice];
  /** Something the operator may need to know; discovery keeps going. */
  warning: [warning: AtolUsbWarning];
}

const identity = (device: AtolUsbDevice) => `${device.sysfsName}#${device.deviceNumber}`;

/**
 * Follows ATOL registers on USB. `attached` fires once a register's serial ports exist (so `ttyPath` can be
 * opened), `detached` when it is gone; a replug in the same socket gives `detached` then `attached`.
 * sysfs is the source of truth; hotplug events only say when to look again, and a slow poll catches
 * anything they miss. Without a USB bus (containers) it simply reports nothing.
 */
export class AtolUsbWatcher extends EventEmitter<WatcherEvents> {
  private readonly scanOptions: SysfsScanOptions;
  private readonly hotplug: HotplugSource | null;
  private readonly pollIntervalMs: number;
  private readonly ttyWaitMs: number;
  private readonly settleMs: number;
  private readonly known = new Map<string, AtolUsbDevice>();
  private readonly incompleteSince = new Map<string, number>();
  private readonly warnedIncomplete = new Set<string>();
  private pollTimer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private scanQueue: Promise<void> = Promise.resolve();
  private running = false;

  constructor(options: AtolUsbWatcherOptions = {}) {
    super();
    const { hotplug, pollIntervalMs, ttyWaitMs, settleMs, ...scanOptions } = options;
    this.scanOptions = scanOptions;
    this.hotplug = hotplug === undefined ? new UsbPackageHotplug() : hotplug;
    this.pollIntervalMs = pollIntervalMs ?? 5000;
    this.ttyWaitMs = ttyWaitMs ?? 5000;
    this.settleMs = settleMs ?? 250;
  }

  /** Registers currently attached with their ports. */
  devices(): AtolUsbDevice[] {
    return [...this.known.values()];
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    if (this.hotplug) {
      try {
        await this.hotplug.start((event) => this.onHotplug(event));
      } catch (error) {
        this.emit('warning', {
          code: 'ATOL_USB_HOTPLUG_UNAVAILABLE',
          message: `USB hotplug events are unavailable (${errorMessage(error)}); polling every ${this.pollIntervalMs} ms`,
        });
      }
    }
    if (this.pollIntervalMs > 0) {
      this.pollTimer = setInterval(() => void this.rescan(), this.pollIntervalMs).unref();
    }
    await this.rescan();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.pollTimer);
    clearTimeout(this.settleTimer);
    this.pollTimer = undefined;
    this.settleTimer = undefined;
    await this.hotplug?.stop();
    await this.scanQueue;
  }

  /** Compares sysfs with what was reported and emits the differences. Scans never overlap. */
  rescan(): Promise<void> {
    this.scanQueue = this.scanQueue.then(() => this.scanOnce());
    return this.scanQueue;
  }

  private onHotplug(event: HotplugEvent): void {
    if (event.type === 'attach' && event.vendorId !== ATOL_USB_VENDOR_ID) return;
    this.scheduleRescan();
  }

  private scheduleRescan(): void {
    if (!this.running || this.settleTimer) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      void this.rescan();
    }, this.settleMs).unref();
  }

  private async scanOnce(): Promise<void> {
    if (!this.running) return;
    let found: AtolUsbDevice[];
    try {
      found = await scanAtolUsbDevices(this.scanOptions);
    } catch (error) {
      this.emit('warning', {
        code: 'ATOL_USB_SCAN_FAILED',
        message: `USB scan failed: ${errorMessage(error)}`,
      });
      return;
    }
    if (!this.running) return;

    const present = new Map(found.map((device) => [identity(device), device]));
    for (const [key, device] of this.known) {
      if (!present.has(key)) {
        this.known.delete(key);
        this.emit('detached', device);
      }
    }
    for (const key of this.incompleteSince.keys()) {
      if (!present.has(key)) this.forgetIncomplete(key);
    }

    const now = Date.now();
    let waiting = false;
    for (const [key, device] of present) {
      if (this.known.has(key)) continue;
      if (!device.portsComplete) {
        const since = this.incompleteSince.get(key) ?? now;
        this.incompleteSince.set(key, since);
        if (now - since < this.ttyWaitMs) {
          waiting = true;
          continue;
        }
        if (!this.warnedIncomplete.has(key)) {
          this.warnedIncomplete.add(key);
          this.emit('warning', {
            code: 'ATOL_USB_PORTS_MISSING',
            message:
              `ATOL register on USB ${device.sysfsName} has ${device.ports.length === 0 ? 'no' : 'not all its'} ` +
              'serial ports; is the cdc_acm driver loaded?',
            device,
          });
        }
        if (device.ports.length === 0) continue;
      }
      this.forgetIncomplete(key);
      this.known.set(key, device);
      this.emit('attached', device);
    }
    if (waiting) this.scheduleRescan();
  }

  private forgetIncomplete(key: string): void {
    this.incompleteSince.delete(key);
    this.warnedIncomplete.delete(key);
  }
}

/** Creates and starts a watcher; failures to start are reported as `warning`, never thrown. */
export function watchAtolDevices(options: AtolUsbWatcherOptions = {}): AtolUsbWatcher {
  const watcher = new AtolUsbWatcher(options);
  watcher.start().catch((error: unknown) => {
    watcher.emit('warning', {
      code: 'ATOL_USB_SCAN_FAILED',
      message: `USB discovery failed: ${errorMessage(error)}`,
    });
  });
  return watcher;
}
