import { machine } from 'node:os';
import { KktAgentError } from '../../../lib/errors.js';

/** A hint that the USB device set changed; the watcher rescans sysfs to learn what exactly. */
export type HotplugEvent = { type: 'attach'; vendorId: number } | { type: 'detach' };

export interface HotplugSource {
  start(onEvent: (event: HotplugEvent) => void): Promise<void>;
  stop(): Promise<void>;
}

interface NativeUsbDevice {
  vendorId: number;
}

interface NativeEmitter {
  addAttach(callback: (device: NativeUsbDevice) => void): Promise<void>;
  removeAttach(): Promise<void>;
  addDetach(callback: (handle: string) => void): Promise<void>;
  removeDetach(): Promise<void>;
}

interface NativeUsbModule {
  Emitter: new () => NativeEmitter;
}

/** The CPU cannot run the `usb` package's native binary, so it is not loaded at all. */
export class UsbBinaryUnsupportedError extends KktAgentError {
  constructor(arch: string, cpu: string) {
    super(
      'USB_BINARY_UNSUPPORTED',
      `the usb package has no binary for this CPU (${arch} on ${cpu}: its 32-bit ARM build needs ARMv7), so it is not loaded`,
      { arch, cpu },
    );
  }
}

/**
 * Whether the `usb` package's binary can run here. Its only 32-bit ARM build targets ARMv7: on an ARMv6
 * CPU (Pi Zero W, Pi 1) loading it kills the process with SIGILL, which no try/catch can stop, so the
 * decision is made from the kernel's machine name (armv7l, or aarch64 under a 64-bit kernel with a 32-bit
 * userland) before anything is loaded. Other CPUs without a build fail to load it with a catchable error.
 */
export function usbBinaryRunsHere(arch: string = process.arch, cpu: string = machine()): boolean {
  if (arch !== 'arm') return true;
  return /^(armv[7-9]|aarch64|armv8)/.test(cpu);
}

export interface UsbPackageHotplugOptions {
  /** `process.arch` and `os.machine()` (tests). */
  arch?: string;
  cpu?: string;
  /** Loads the `usb` package's native module (tests). */
  load?: () => Promise<unknown>;
}

const loadUsbPackage = () => import('usb/index.js');

/**
 * Hotplug through the `usb` package (nusb, listening to the kernel's netlink uevents). Its native Emitter
 * is used directly: the package's WebUSB wrapper rethrows emitter failures from a timer, which would take
 * the whole agent down on a machine without USB. Here a failure rejects `start()` instead, and the watcher
 * falls back to polling sysfs.
 */
export class UsbPackageHotplug implements HotplugSource {
  private emitter: NativeEmitter | undefined;
  private readonly arch: string;
  private readonly cpu: string;
  private readonly load: () => Promise<unknown>;

  constructor(options: UsbPackageHotplugOptions = {}) {
    this.arch = options.arch ?? process.arch;
    this.cpu = options.cpu ?? machine();
    this.load = options.load ?? loadUsbPackage;
  }

  async start(onEvent: (event: HotplugEvent) => void): Promise<void> {
    if (this.emitter) return;
    if (!usbBinaryRunsHere(this.arch, this.cpu)) throw new UsbBinaryUnsupportedError(this.arch, this.cpu);
    const native = (await this.load()) as NativeUsbModule & { default?: NativeUsbModule };
    const Emitter = native.Emitter ?? native.default?.Emitter;
    if (!Emitter) throw new Error('the usb package exposes no hotplug Emitter');
    const emitter = new Emitter();
    await emitter.addAttach((device) => onEvent({ type: 'attach', vendorId: device.vendorId }));
    try {
      await emitter.addDetach(() => onEvent({ type: 'detach' }));
    } catch (error) {
      await emitter.removeAttach().catch(() => {});
      throw error;
    }
    this.emitter = emitter;
  }

  async stop(): Promise<void> {
    const emitter = this.emitter;
    this.emitter = undefined;
    if (!emitter) return;
    await emitter.removeAttach().catch(() => {});
    await emitter.removeDetach().catch(() => {});
  }
}
