import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Builds a sysfs tree the way Linux lays it out for USB (real directories under devices/, symlinks in
 * bus/usb/devices/), for tests and for trying discovery on a machine without the hardware.
 */
export interface FakeUsbInterface {
  /** hex, e.g. '00' */
  number: string;
  /** bInterfaceClass, hex: '02' CDC communication, '0a' CDC data, 'ff' vendor specific */
  interfaceClass: string;
  /** tty created by the driver, e.g. 'ttyACM0' */
  tty?: string;
}

export interface FakeUsbDevice {
  /** `<bus>-<port path>`, e.g. '1-1.4' */
  name: string;
  vendorId: string;
  productId: string;
  deviceNumber: number;
  serialNumber?: string;
  manufacturer?: string;
  product?: string;
  interfaces: FakeUsbInterface[];
}

export class FakeSysfs {
  constructor(readonly root: string) {
    mkdirSync(join(root, 'bus/usb/devices'), { recursive: true });
    mkdirSync(join(root, 'devices/platform/usb'), { recursive: true });
  }

  private deviceDir(name: string): string {
    return join(this.root, 'devices/platform/usb', name);
  }

  private link(name: string, target: string): void {
    const path = join(this.root, 'bus/usb/devices', name);
    symlinkSync(relative(join(this.root, 'bus/usb/devices'), target), path);
  }

  addDevice(device: FakeUsbDevice): void {
    const dir = this.deviceDir(device.name);
    mkdirSync(dir, { recursive: true });
    const [bus, portPath] = device.name.split('-') as [string, string];
    const attributes: Record<string, string | undefined> = {
      idVendor: device.vendorId,
      idProduct: device.productId,
      busnum: bus,
      devnum: String(device.deviceNumber),
      devpath: portPath,
      serial: device.serialNumber,
      manufacturer: device.manufacturer,
      product: device.product,
    };
    for (const [name, value] of Object.entries(attributes)) {
      if (value !== undefined) writeFileSync(join(dir, name), `${value}\n`);
    }
    this.link(device.name, dir);
    for (const iface of device.interfaces) this.addInterface(device.name, iface);
  }

  addInterface(deviceName: string, iface: FakeUsbInterface): void {
    const name = `${deviceName}:1.${Number.parseInt(iface.number, 16)}`;
    const dir = join(this.deviceDir(deviceName), name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'bInterfaceNumber'), `${iface.number}\n`);
    writeFileSync(join(dir, 'bInterfaceClass'), `${iface.interfaceClass}\n`);
    this.link(name, dir);
    if (iface.tty) this.addTty(deviceName, iface.number, iface.tty);
  }

  /** What cdc_acm does when it binds an interface, a moment after the device appeared. */
  addTty(deviceName: string, interfaceNumber: string, tty: string): void {
    const name = `${deviceName}:1.${Number.parseInt(interfaceNumber, 16)}`;
    mkdirSync(join(this.deviceDir(deviceName), name, 'tty', tty), { recursive: true });
  }

  removeDevice(deviceName: string): void {
    rmSync(join(this.root, 'bus/usb/devices', deviceName), { force: true });
    rmSync(this.deviceDir(deviceName), { recursive: true, force: true });
    // Interface links dangle once the device directory is gone, as in the kernel; drop them too.
    for (let i = 0; i < 16; i += 1)
      rmSync(join(this.root, 'bus/usb/devices', `${deviceName}:1.${i}`), { force: true });
  }
}

/** An ATOL register as it enumerates: two CDC-ACM functions (ports), each a communication + data pair. */
export function atolRegister(
  name: string,
  deviceNumber: number,
  ttys: [string | undefined, string | undefined],
  serialNumber = '00106712345678',
): FakeUsbDevice {
  return {
    name,
    vendorId: '2912',
    productId: '0005',
    deviceNumber,
    serialNumber,
    manufacturer: 'ATOL',
    product: 'FPrint-22PTK',
    interfaces: [
      { number: '00', interfaceClass: '02', ...(ttys[0] ? { tty: ttys[0] } : {}) },
      { number: '01', interfaceClass: '0a' },
      { number: '02', interfaceClass: '02', ...(ttys[1] ? { tty: ttys[1] } : {}) },
      { number: '03', interfaceClass: '0a' },
    ],
  };
}
