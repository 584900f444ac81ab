/** What the driver reads of a register: its identity, its state and its FN (the `Kkt` facade returns these). */

export interface KktStatus {
  mode: number;
  submode: number;
  deviceDateTime: string;
  fiscalized: boolean;
  shift: { state: 'closed' | 'open' | 'expired'; number: number; openedAt?: string; expiresAt?: string };
  receipt: { open: boolean; type: number; sumKop: number };
  paper: { present: boolean; nearEnd: boolean };
  coverOpen: boolean;
  printerError: boolean;
}

export interface DeviceInfo {
  model: number;
  modelName: string;
  platform: '2.5' | '5.0' | 'unknown';
  serial: string;
  firmwareVersion: string;
  lineWidth: number;
  /** Register 0x36: the FFD version codes of the register and of its FN (2 = 1.05, 4 = 1.2). */
  ffdVersion: { kkt: number; fn: number };
}

export interface FnInfo {
  serial: string;
  /** FN life phase (`A4 30`): 1 ready for registration, 3 fiscal mode, 7 and 15 archive closed. */
  lifePhase?: number;
  lastDocumentNumber: number;
  lastDocumentDateTime: string;
  validUntil: string;
  registrationsRemaining: number;
  warnings: {
    needReplacement: boolean;
    resourceExhausted: boolean;
    memoryOverflow: boolean;
    ofdTimeout: boolean;
    criticalError: boolean;
  };
  ofd: { unsentCount: number; firstUnsentNumber?: number; firstUnsentDateTime?: string };
  inn: string;
  registrationNumber: string;
  taxationTypes: string[];
}
