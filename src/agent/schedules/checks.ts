import type { DeviceSnapshot } from '../devices/device.js';

export interface Alert {
  code: 'SHIFT_NEAR_LIMIT' | 'OFD_BACKLOG' | 'FN_EXPIRING' | 'FN_WARNING';
  device: string;
  message: string;
  since: string;
}

const DAY_MS = 86_400_000;

/** True when an open shift must be closed now to stay inside its 24 h limit. */
export function shiftNeedsClosing(
  snapshot: DeviceSnapshot,
  now: number,
  closeBeforeMinutes: number,
): boolean {
  if (closeBeforeMinutes <= 0 || !snapshot.online || !snapshot.shift) return false;
  if (snapshot.shift.state === 'expired') return true;
  if (snapshot.shift.state !== 'open' || !snapshot.shift.expiresAt) return false;
  return Date.parse(snapshot.shift.expiresAt) - now <= closeBeforeMinutes * 60_000;
}

/** What a technician should know about a device now: OFD backlog, FN near its end, FN warnings. */
export function deviceAlerts(
  snapshot: DeviceSnapshot,
  now: number,
  options: { ofdAlertDays: number; fnExpiryWarnDays: number },
): Alert[] {
  const alerts: Alert[] = [];
  const since = new Date(now).toISOString();
  const oldest = snapshot.ofd?.oldestUnsentAt;
  if (snapshot.ofd && snapshot.ofd.unsentCount > 0 && oldest) {
    const ageDays = (now - Date.parse(oldest)) / DAY_MS;
    if (ageDays >= options.ofdAlertDays) {
      const daysLeft = Math.max(0, Math.floor(30 - ageDays));
      alerts.push({
        code: 'OFD_BACKLOG',
        device: snapshot.id,
        message: `${snapshot.ofd.unsentCount} documents not sent to the OFD since ${oldest}; the register blocks itself in ${daysLeft} day(s). Check its internet connection and OFD settings.`,
        since,
      });
    }
  }
  const validUntil = snapshot.fn?.validUntil;
  if (validUntil) {
    const daysLeft = Math.floor((Date.parse(validUntil) - now) / DAY_MS);
    if (daysLeft <= options.fnExpiryWarnDays) {
      alerts.push({
        code: 'FN_EXPIRING',
        device: snapshot.id,
        message: `The fiscal storage (FN) expires on ${validUntil} (${Math.max(daysLeft, 0)} day(s)). Order a replacement and re-register the register.`,
        since,
      });
    }
  }
  if (snapshot.fn?.warnings?.length) {
    alerts.push({
      code: 'FN_WARNING',
      device: snapshot.id,
      message: `FN warnings: ${snapshot.fn.warnings.join(', ')}`,
      since,
    });
  }
  return alerts;
}
