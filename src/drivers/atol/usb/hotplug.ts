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

/**
 * Hotplug through the `usb` package (nusb, listening to the kernel's netlink uevents). Its native Emitter
 * is used directly: the package's WebUSB wrapper rethrows emitter failures from a timer, which would take
 * the whole agent down on a machine without USB. Here a failure rejects `start()` instead.
 */
export class UsbPackageHotplug implements HotplugSource {
  private emitter: NativeEmitter | undefined;

  async start(onEvent: (event: HotplugEvent) => void): Promise<void> {
    if (this.emitter) return;
    const native = (await import('usb/index.js')) as unknown as NativeUsbModule & {
      default?: NativeUsbModule;
    };
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
