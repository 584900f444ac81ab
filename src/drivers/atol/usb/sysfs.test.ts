import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { atolRegister, FakeSysfs } from './fakeSysfs.js';
import { listAtolSerialPorts } from './serialPorts.js';
import { scanAtolUsbDevices } from './sysfs.js';

let dir: string;
let sysfs: FakeSysfs;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kkt-sysfs-'));
  sysfs = new FakeSysfs(join(dir, 'sys'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const scan = () => scanAtolUsbDevices({ sysfsRoot: sysfs.root, devRoot: '/dev' });

describe('scanAtolUsbDevices', () => {
  it('finds an ATOL register and maps its CDC interfaces to ttys, protocol port first', async () => {
    sysfs.addDevice(atolRegister('1-1.4', 7, ['ttyACM1', 'ttyACM2']));
    expect(await scan()).toEqual([
      {
        sysfsName: '1-1.4',
        busNumber: 1,
        portPath: '1.4',
        deviceNumber: 7,
        vendorId: 0x2912,
        productId: 0x0005,
        serialNumber: '00106712345678',
        manufacturer: 'ATOL',
        product: 'FPrint-22PTK',
        ports: [
          { interfaceNumber: 0, ttyName: 'ttyACM1', ttyPath: '/dev/ttyACM1' },
          { interfaceNumber: 2, ttyName: 'ttyACM2', ttyPath: '/dev/ttyACM2' },
        ],
        ttyPath: '/dev/ttyACM1',
        portsComplete: true,
      },
    ]);
  });

  it('matches on the vendor id whatever the product id, and ignores other vendors', async () => {
    sysfs.addDevice({ ...atolRegister('1-1.2', 3, ['ttyACM0', 'ttyACM1']), productId: '0042' });
    sysfs.addDevice({
      name: '1-1.3',
      vendorId: '0403',
      productId: '6001',
      deviceNumber: 4,
      interfaces: [{ number: '00', interfaceClass: 'ff', tty: 'ttyUSB0' }],
    });
    const devices = await scan();
    expect(devices.map((device) => [device.sysfsName, device.productId])).toEqual([['1-1.2', 0x42]]);
  });

  it('reports a register whose ttys are not there yet as incomplete', async () => {
    sysfs.addDevice(atolRegister('2-1', 9, ['ttyACM0', undefined]));
    const [device] = await scan();
    expect(device?.portsComplete).toBe(false);
    expect(device?.ttyPath).toBe('/dev/ttyACM0');
  });

  it('finds usb-serial ttys below the interface directory', async () => {
    sysfs.addDevice({
      name: '1-1',
      vendorId: '2912',
      productId: '0001',
      deviceNumber: 2,
      interfaces: [{ number: '00', interfaceClass: 'ff' }],
    });
    sysfs.addTty('1-1', '00', 'ttyUSB3');
    const [device] = await scan();
    expect(device?.ports).toEqual([{ interfaceNumber: 0, ttyName: 'ttyUSB3', ttyPath: '/dev/ttyUSB3' }]);
  });

  it('returns nothing where there is no USB bus', async () => {
    expect(await scanAtolUsbDevices({ sysfsRoot: join(dir, 'no-such-sysfs') })).toEqual([]);
  });
});

describe('listAtolSerialPorts', () => {
  it("keeps ATOL's ports, protocol port first, from serialport's list", async () => {
    const ports = await listAtolSerialPorts(async () => [
      {
        path: '/dev/ttyACM1',
        manufacturer: 'ATOL',
        serialNumber: '00106712345678',
        pnpId: 'usb-ATOL_FPrint-22PTK_00106712345678-if02',
        locationId: undefined,
        productId: '0005',
        vendorId: '2912',
      },
      {
        path: '/dev/ttyUSB0',
        manufacturer: 'FTDI',
        serialNumber: 'A1',
        pnpId: 'usb-FTDI-if00-port0',
        locationId: undefined,
        productId: '6001',
        vendorId: '0403',
      },
      {
        path: '/dev/ttyACM0',
        manufacturer: 'ATOL',
        serialNumber: '00106712345678',
        pnpId: 'usb-ATOL_FPrint-22PTK_00106712345678-if00',
        locationId: undefined,
        productId: '0005',
        vendorId: '2912',
      },
    ]);
    expect(ports.map((port) => [port.path, port.interfaceNumber])).toEqual([
      ['/dev/ttyACM0', 0],
      ['/dev/ttyACM1', 2],
    ]);
  });
});
