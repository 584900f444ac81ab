import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** ATOL's USB vendor id. Product ids differ between models and firmware, so only the vendor is matched. */
export const ATOL_USB_VENDOR_ID = 0x2912;

/** A serial port the kernel created for one interface of the register. */
export interface AtolUsbPort {
  interfaceNumber: number;
  /** `ttyACM0` */
  ttyName: string;
  /** `/dev/ttyACM0` */
  ttyPath: string;
}

export interface AtolUsbDevice {
  /** sysfs name, `<bus>-<port path>`, e.g. `1-1.4`: stable for a given physical socket. */
  sysfsName: string;
  busNumber: number;
  /** Hub port chain, e.g. `1.4`. */
  portPath: string;
  /** Changes on every re-enumeration, so it tells a replug from the same attachment. */
  deviceNumber: number;
  vendorId: number;
  /** For information only; never used to decide whether a device is a register. */
  productId: number;
  serialNumber?: string;
  manufacturer?: string;
  product?: string;
  /** The register's serial ports by interface number; the first one speaks the ATOL protocol. */
  ports: AtolUsbPort[];
  /** The protocol port (the first CDC interface), once the kernel has created it. */
  ttyPath?: string;
  /** False while a CDC-ACM interface still waits for its tty (the driver binds after the device appears). */
  portsComplete: boolean;
}

export interface SysfsScanOptions {
  /** Root of sysfs; a fake tree in tests. */
  sysfsRoot?: string;
  /** Where device nodes live. */
  devRoot?: string;
}

const CDC_COMMUNICATION_CLASS = 0x02;

async function readAttribute(dir: string, name: string): Promise<string | undefined> {
  try {
    return (await readFile(join(dir, name), 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

const hex = (text: string | undefined): number | undefined =>
  text !== undefined && /^[0-9a-f]+$/i.test(text) ? Number.parseInt(text, 16) : undefined;
const decimal = (text: string | undefined): number | undefined =>
  text !== undefined && /^\d+$/.test(text) ? Number.parseInt(text, 10) : undefined;

// cdc_acm puts the node under `<interface>/tty/ttyACM0`; usb-serial drivers under `<interface>/ttyUSB0/tty/ttyUSB0`.
async function ttysOfInterface(interfaceDir: string): Promise<string[]> {
  const viaClass = (await listDir(join(interfaceDir, 'tty'))).filter((name) => name.startsWith('tty'));
  const direct = (await listDir(interfaceDir)).filter((name) => /^tty(USB|ACM)\d+$/.test(name));
  return [...new Set([...viaClass, ...direct])].sort();
}

async function readInterfaces(
  deviceDir: string,
  sysfsName: string,
  devRoot: string,
): Promise<{ ports: AtolUsbPort[]; complete: boolean }> {
  const ports: AtolUsbPort[] = [];
  let complete = true;
  const interfaceNames = (await listDir(deviceDir)).filter((name) => name.startsWith(`${sysfsName}:`));
  for (const name of interfaceNames) {
    const dir = join(deviceDir, name);
    const interfaceNumber =
      hex(await readAttribute(dir, 'bInterfaceNumber')) ?? Number(name.split('.').at(-1));
    const ttys = await ttysOfInterface(dir);
    if (ttys.length === 0 && hex(await readAttribute(dir, 'bInterfaceClass')) === CDC_COMMUNICATION_CLASS) {
      complete = false;
    }
    for (const ttyName of ttys) ports.push({ interfaceNumber, ttyName, ttyPath: join(devRoot, ttyName) });
  }
  ports.sort((a, b) => a.interfaceNumber - b.interfaceNumber || a.ttyName.localeCompare(b.ttyName));
  return { ports, complete: complete && ports.length > 0 };
}

async function readDevice(
  devicesDir: string,
  sysfsName: string,
  devRoot: string,
): Promise<AtolUsbDevice | undefined> {
  const dir = join(devicesDir, sysfsName);
  const vendorId = hex(await readAttribute(dir, 'idVendor'));
  if (vendorId !== ATOL_USB_VENDOR_ID) return undefined;
  const busNumber = decimal(await readAttribute(dir, 'busnum')) ?? decimal(sysfsName.split('-')[0]);
  const deviceNumber = decimal(await readAttribute(dir, 'devnum'));
  if (busNumber === undefined || deviceNumber === undefined) return undefined; // vanished mid-scan
  const portPath = (await readAttribute(dir, 'devpath')) ?? sysfsName.slice(sysfsName.indexOf('-') + 1);
  const { ports, complete } = await readInterfaces(dir, sysfsName, devRoot);
  const device: AtolUsbDevice = {
    sysfsName,
    busNumber,
    portPath,
    deviceNumber,
    vendorId,
    productId: hex(await readAttribute(dir, 'idProduct')) ?? 0,
    ports,
    portsComplete: complete,
  };
  const serialNumber = await readAttribute(dir, 'serial');
  const manufacturer = await readAttribute(dir, 'manufacturer');
  const product = await readAttribute(dir, 'product');
  if (serialNumber) device.serialNumber = serialNumber;
  if (manufacturer) device.manufacturer = manufacturer;
  if (product) device.product = product;
  if (ports[0]) device.ttyPath = ports[0].ttyPath;
  return device;
}

/**
 * Lists the ATOL registers on the USB bus by reading sysfs (`/sys/bus/usb/devices`), with the tty of each
 * CDC interface. Needs no permissions and no libusb; a machine without USB (a container) yields [].
 */
export async function scanAtolUsbDevices(options: SysfsScanOptions = {}): Promise<AtolUsbDevice[]> {
  const sysfsRoot = options.sysfsRoot ?? '/sys';
  const devRoot = options.devRoot ?? '/dev';
  const devicesDir = join(sysfsRoot, 'bus/usb/devices');
  // Device entries are `<bus>-<ports>`; `usbN` are root hubs and `<device>:<config>.<interface>` interfaces.
  const names = (await listDir(devicesDir)).filter((name) => /^\d+-[\d.]+$/.test(name));
  const devices: AtolUsbDevice[] = [];
  for (const name of names) {
    const device = await readDevice(devicesDir, name, devRoot);
    if (device) devices.push(device);
  }
  return devices.sort((a, b) => a.busNumber - b.busNumber || a.portPath.localeCompare(b.portPath));
}
