import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { atolRegister, FakeSysfs } from './fakeSysfs.js';
import type { HotplugEvent, HotplugSource } from './hotplug.js';
import type { AtolUsbDevice } from './sysfs.js';
import { type AtolUsbWarning, AtolUsbWatcher, watchAtolDevices } from './watcher.js';

/** Hotplug the test fires by hand, as the kernel would after a plug or unplug. */
class ManualHotplug implements HotplugSource {
  private listener: ((event: HotplugEvent) => void) | undefined;
  stopped = false;

  async start(onEvent: (event: HotplugEvent) => void): Promise<void> {
    this.listener = onEvent;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.listener = undefined;
  }

  fire(event: HotplugEvent): void {
    this.listener?.(event);
  }
}

let dir: string;
let sysfs: FakeSysfs;
let hotplug: ManualHotplug;
let watcher: AtolUsbWatcher;
let log: string[];
let warnings: AtolUsbWarning[];

function record(target: AtolUsbWatcher): void {
  const describeDevice = (device: AtolUsbDevice) =>
    `${device.sysfsName}#${device.deviceNumber} ${device.ttyPath ?? '-'} ${device.serialNumber ?? '-'}`;
  target.on('attached', (device) => log.push(`attached ${describeDevice(device)}`));
  target.on('detached', (device) => log.push(`detached ${describeDevice(device)}`));
  target.on('warning', (warning) => warnings.push(warning));
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kkt-usb-watch-'));
  sysfs = new FakeSysfs(join(dir, 'sys'));
  hotplug = new ManualHotplug();
  log = [];
  warnings = [];
  watcher = new AtolUsbWatcher({
    sysfsRoot: sysfs.root,
    devRoot: '/dev',
    hotplug,
    pollIntervalMs: 0,
    settleMs: 10,
    ttyWaitMs: 60_000,
  });
  record(watcher);
});

afterEach(async () => {
  await watcher.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('AtolUsbWatcher', () => {
  it('reports registers already plugged in at start', async () => {
    sysfs.addDevice(atolRegister('1-1.4', 5, ['ttyACM0', 'ttyACM1']));
    await watcher.start();
    expect(log).toEqual(['attached 1-1.4#5 /dev/ttyACM0 00106712345678']);
    expect(watcher.devices().map((device) => device.ttyPath)).toEqual(['/dev/ttyACM0']);
  });

  it('follows attach and detach', async () => {
    await watcher.start();
    expect(log).toEqual([]);

    sysfs.addDevice(atolRegister('1-1.2', 6, ['ttyACM0', 'ttyACM1']));
    hotplug.fire({ type: 'attach', vendorId: 0x2912 });
    await expect.poll(() => log).toEqual(['attached 1-1.2#6 /dev/ttyACM0 00106712345678']);

    sysfs.removeDevice('1-1.2');
    hotplug.fire({ type: 'detach' });
    await expect.poll(() => log).toContain('detached 1-1.2#6 /dev/ttyACM0 00106712345678');
    expect(watcher.devices()).toEqual([]);
  });

  it('waits for the kernel to create the ttys before reporting a new register', async () => {
    await watcher.start();
    sysfs.addDevice(atolRegister('1-1.3', 8, [undefined, undefined]));
    hotplug.fire({ type: 'attach', vendorId: 0x2912 });
    await watcher.rescan();
    expect(log).toEqual([]);

    sysfs.addTty('1-1.3', '00', 'ttyACM4');
    sysfs.addTty('1-1.3', '02', 'ttyACM5');
    await expect.poll(() => log).toEqual(['attached 1-1.3#8 /dev/ttyACM4 00106712345678']);
    expect(watcher.devices()[0]?.ports.map((port) => port.ttyName)).toEqual(['ttyACM4', 'ttyACM5']);
  });

  it('tells a replug in the same socket from the same attachment', async () => {
    sysfs.addDevice(atolRegister('1-1.4', 5, ['ttyACM0', 'ttyACM1']));
    await watcher.start();
    sysfs.removeDevice('1-1.4');
    sysfs.addDevice(atolRegister('1-1.4', 11, ['ttyACM0', 'ttyACM1']));
    await watcher.rescan();
    expect(log).toEqual([
      'attached 1-1.4#5 /dev/ttyACM0 00106712345678',
      'detached 1-1.4#5 /dev/ttyACM0 00106712345678',
      'attached 1-1.4#11 /dev/ttyACM0 00106712345678',
    ]);
  });

  it('ignores hotplug events of other vendors', async () => {
    await watcher.start();
    sysfs.addDevice(atolRegister('1-1.4', 5, ['ttyACM0', 'ttyACM1']));
    hotplug.fire({ type: 'attach', vendorId: 0x0403 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(log).toEqual([]);
  });

  it('warns about a register whose ports never appear, once', async () => {
    await watcher.stop();
    watcher = new AtolUsbWatcher({
      sysfsRoot: sysfs.root,
      hotplug,
      pollIntervalMs: 0,
      settleMs: 5,
      ttyWaitMs: 30,
    });
    record(watcher);
    sysfs.addDevice(atolRegister('1-1.4', 5, [undefined, undefined]));
    await watcher.start();
    await expect.poll(() => warnings.map((warning) => warning.code)).toEqual(['ATOL_USB_PORTS_MISSING']);
    await watcher.rescan();
    expect(warnings).toHaveLength(1);
    expect(log).toEqual([]);
  });

  it('finds registers by polling when there is no hotplug source', async () => {
    await watcher.stop();
    watcher = new AtolUsbWatcher({ sysfsRoot: sysfs.root, hotplug: null, pollIntervalMs: 20 });
    record(watcher);
    await watcher.start();
    sysfs.addDevice(atolRegister('3-2', 4, ['ttyACM7', 'ttyACM8']));
    await expect.poll(() => log).toEqual(['attached 3-2#4 /dev/ttyACM7 00106712345678']);
  });

  it('keeps going, with a warning, when hotplug cannot start', async () => {
    await watcher.stop();
    const broken: HotplugSource = {
      start: async () => {
        throw new Error('netlink not permitted');
      },
      stop: async () => {},
    };
    watcher = new AtolUsbWatcher({ sysfsRoot: sysfs.root, hotplug: broken, pollIntervalMs: 20 });
    record(watcher);
    sysfs.addDevice(atolRegister('1-1', 2, ['ttyACM0', 'ttyACM1']));
    await watcher.start();
    expect(warnings.map((warning) => warning.code)).toEqual(['ATOL_USB_HOTPLUG_UNAVAILABLE']);
    expect(log).toEqual(['attached 1-1#2 /dev/ttyACM0 00106712345678']);
  });

  it('stops its hotplug source on stop', async () => {
    await watcher.start();
    await watcher.stop();
    expect(hotplug.stopped).toBe(true);
  });
});

describe('watchAtolDevices with the real usb package', () => {
  it('starts and stops without crashing, with or without a USB bus', async () => {
    const real = watchAtolDevices({ sysfsRoot: sysfs.root, pollIntervalMs: 0 });
    const seen: string[] = [];
    real.on('warning', (warning) => seen.push(warning.code));
    sysfs.addDevice(atolRegister('1-1.4', 5, ['ttyACM0', 'ttyACM1']));
    // poll's default second is too short for a loaded machine; it returns as soon as the device is seen.
    await expect.poll(() => real.devices().length, { timeout: 10_000 }).toBe(1);
    await real.stop();
    // Hotplug may or may not be available here; either way discovery went on.
    expect(seen.every((code) => code === 'ATOL_USB_HOTPLUG_UNAVAILABLE')).toBe(true);
  });
});
