import { SerialPort } from 'serialport';

type PortInfo = Awaited<ReturnType<typeof SerialPort.list>>[number];

export interface AtolSerialPortCandidate {
  path: string;
  serialNumber?: string;
  productId?: string;
  pnpId?: string;
  /** USB interface number read from the pnpId (`...-if00`), when there is one. */
  interfaceNumber?: number;
}

/**
 * Fallback discovery through serialport's own port list (udev data on Linux): the ports whose USB vendor id
 * is ATOL's, protocol port (lowest interface number) first. Use it where sysfs is not available.
 */
export async function listAtolSerialPorts(
  list: () => Promise<PortInfo[]> = () => SerialPort.list(),
): Promise<AtolSerialPortCandidate[]> {
  const ports = await list();
  return ports
    .filter((port) => port.vendorId?.toLowerCase() === '2912')
    .map((port) => {
      const candidate: AtolSerialPortCandidate = { path: port.path };
      if (port.serialNumber) candidate.serialNumber = port.serialNumber;
      if (port.productId) candidate.productId = port.productId;
      if (port.pnpId) {
        candidate.pnpId = port.pnpId;
        const match = /-if(\d+)/.exec(port.pnpId);
        if (match) candidate.interfaceNumber = Number.parseInt(match[1] as string, 16);
      }
      return candidate;
    })
    .sort(
      (a, b) =>
        (a.serialNumber ?? '').localeCompare(b.serialNumber ?? '') ||
        (a.interfaceNumber ?? 0) - (b.interfaceNumber ?? 0) ||
        a.path.localeCompare(b.path),
    );
}
