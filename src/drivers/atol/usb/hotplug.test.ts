import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { atolRegister, FakeSysfs } from './fakeSysfs.js';
import { type HotplugEvent, UsbPackageHotplug, usbBinaryRunsHere } from './hotplug.js';
import { type AtolUsbWarning, AtolUsbWatcher } from './watcher.js';

/** Stands in for the usb package's native module: records that it was loaded and hands out an Emitter. */
function fakeUsbPackage() {
  const loaded: string[] = [];
  let attach: ((device: { vendorId: number }) => void) | undefined;
  const module = {
    Emitter: class {
      async addAttach(callback: (device: { vendorId: number }) => void) {
        attach = callback;
      }
      async removeAttach() {}
      async addDetach() {}
      async removeDetach() {}
    },
  };
  return {
    loaded,
    load: async () => {
      loaded.push('usb');
      return module;
    },
    plug: (vendorId: number) => attach?.({ vendorId }),
  };
}

describe('usbBinaryRunsHere', () => {
  it('refuses 32-bit ARM below ARMv7 and accepts the CPUs the package has builds for', () => {
    expect(usbBinaryRunsHere('arm', 'armv6l')).toBe(false);
    expect(usbBinaryRunsHere('arm', 'armv5tel')).toBe(false);
    expect(usbBinaryRunsHere('arm', 'armv7l')).toBe(true);
    // 32-bit Raspberry Pi OS on a 64-bit kernel (Pi 3/4/5): the ARMv7 build runs.
    expect(usbBinaryRunsHere('arm', 'aarch64')).toBe(true);
    expect(usbBinaryRunsHere('arm', 'armv8l')).toBe(true);
    expect(usbBinaryRunsHere('arm64', 'aarch64')).toBe(true);
    expect(usbBinaryRunsHere('x64', 'x86_64')).toBe(true);
  });
});

describe('UsbPackageHotplug', () => {
  it('never loads the usb package on an ARMv6 CPU, and says why', async () => {
    const usb = fakeUsbPackage();
    const hotplug = new UsbPackageHotplug({ arch: 'arm', cpu: 'armv6l', load: usb.load });
    await expect(hotplug.start(() => {})).rejects.toMatchObject({
      code: 'USB_BINARY_UNSUPPORTED',
      message: expect.stringContaining('ARMv7'),
    });
    expect(usb.loaded).toEqual([]);
  });

  it('loads it on ARMv7 and forwards attach events', async () => {
    const usb = fakeUsbPackage();
    const hotplug = new UsbPackageHotplug({ arch: 'arm', cpu: 'armv7l', load: usb.load });
    const events: HotplugEvent[] = [];
    await hotplug.start((event) => events.push(event));
    usb.plug(0x2912);
    expect(usb.loaded).toEqual(['usb']);
    expect(events).toEqual([{ type: 'attach', vendorId: 0x2912 }]);
    await hotplug.stop();
  });
});

describe('AtolUsbWatcher on an ARMv6 Pi', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('falls back to polling sysfs with a warning that names the reason', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kkt-usb-armv6-'));
    const sysfs = new FakeSysfs(join(dir, 'sys'));
    const usb = fakeUsbPackage();
    const watcher = new AtolUsbWatcher({
      sysfsRoot: sysfs.root,
      hotplug: new UsbPackageHotplug({ arch: 'arm', cpu: 'armv6l', load: usb.load }),
      pollIntervalMs: 20,
    });
    const warnings: AtolUsbWarning[] = [];
    watcher.on('warning', (warning) => warnings.push(warning));
    await watcher.start();
    sysfs.addDevice(atolRegister('1-1', 3, ['ttyACM0', 'ttyACM1']));
    await expect.poll(() => watcher.devices().map((device) => device.ttyPath)).toEqual(['/dev/ttyACM0']);
    await watcher.stop();
    expect(usb.loaded).toEqual([]);
    expect(warnings).toEqual([
      {
        code: 'ATOL_USB_HOTPLUG_UNAVAILABLE',
        message: expect.stringMatching(/needs ARMv7.*polling every 20 ms/),
      },
    ]);
  });
});
