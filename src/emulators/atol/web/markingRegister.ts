import { DriverError } from '../../../drivers/atol/web/driverErrors.js';
import { decodeMarkingCodeBase64, gs1Parts } from '../../../lib/markingCode.js';
import { TaskFailure } from './registerPort.js';

/**
 * The emulated register's side of driver 10's marking tasks (docs/marking.md, "The emulator"): one check
 * at a time, the FN's table of accepted codes, and ОИСМ's answer decided by the code's serial (AI 21), so a
 * test picks a fault by the code it scans:
 *
 * | serial starts with | ОИСМ answers                                                  |
 * | `NOTFOUND`         | 2005: the code failed its check (unknown to Честный ЗНАК)     |
 * | `SOLD`             | 2109: planned status incorrect (already withdrawn from circulation) |
 * | `EXPIRED`          | 2109: sale stopped                                            |
 * | `FAKE`             | the FN's own check fails (verification part not genuine)      |
 * | `NOOISM`           | no answer: driver error 402 (no connection with the ISM server) |
 * | `SLOW`             | as a good code, but only after `SLOW_ANSWER_MS`               |
 * | `SILENT`           | never ready (the agent's wait runs out)                        |
 * | anything else      | every check passes (2106 = 0x0F)                              |
 */

export const SLOW_ANSWER_MS = 1500;

/** 2106 bits as ATOL's JSON names them; the FN's byte is their sum (bit 0 … bit 4). */
export interface CheckBits {
  imcCheckFlag: boolean;
  imcCheckResult: boolean;
  imcStatusInfo: boolean;
  imcEstimatedStatusCorrect: boolean;
  ecrStandAloneFlag: boolean;
}

const bits = (flag: boolean, result: boolean, info: boolean, correct: boolean): CheckBits => ({
  imcCheckFlag: flag,
  imcCheckResult: result,
  imcStatusInfo: info,
  imcEstimatedStatusCorrect: correct,
  ecrStandAloneFlag: false,
});

export const checkByte = (b: CheckBits): number =>
  (b.imcCheckFlag ? 1 : 0) |
  (b.imcCheckResult ? 2 : 0) |
  (b.imcStatusInfo ? 4 : 0) |
  (b.imcEstimatedStatusCorrect ? 8 : 0) |
  (b.ecrStandAloneFlag ? 16 : 0);

interface RunningCheck {
  code: string;
  status: string;
  readyAtMs: number;
  answer: Record<string, unknown>;
  offline: Record<string, unknown>;
  checkResult: CheckBits;
  ready: boolean;
}

export interface AcceptedCode {
  status: string;
  checkResult: CheckBits;
}

/** What a serial prefix makes ОИСМ say: the status answer's body once ready, and the 2106 it implies. */
function oismAnswer(serial: string): { online?: Record<string, unknown>; error?: number; result: CheckBits } {
  const good = bits(true, true, true, true);
  if (serial.startsWith('NOOISM'))
    return { error: DriverError.NO_CONNECTION_WITH_SERVER, result: bits(true, true, false, false) };
  if (serial.startsWith('NOTFOUND')) {
    const result = bits(true, false, true, false);
    return {
      result,
      online: {
        itemInfoCheckResult: result,
        markOperatorResponse: { responseStatus: false, itemStatusCheck: false },
        markOperatorItemStatus: 'itemEstimatedStatusIncorrect',
        markOperatorResponseResult: 'correct',
      },
    };
  }
  const statusAnswer = (itemStatus: string, result: CheckBits) => ({
    result,
    online: {
      itemInfoCheckResult: result,
      markOperatorResponse: {
        responseStatus: true,
        itemStatusCheck: itemStatus === 'itemEstimatedStatusCorrect',
      },
      markOperatorItemStatus: itemStatus,
      markOperatorResponseResult: 'correct',
    },
  });
  if (serial.startsWith('SOLD'))
    return statusAnswer('itemEstimatedStatusIncorrect', bits(true, true, true, false));
  if (serial.startsWith('EXPIRED')) return statusAnswer('itemSaleStopped', bits(true, true, true, false));
  return statusAnswer('itemEstimatedStatusCorrect', good);
}

export class MarkingRegister {
  private check: RunningCheck | undefined;
  /** The FN's table of codes accepted for the next receipt, by code. */
  private readonly accepted = new Map<string, AcceptedCode>();

  constructor(private readonly nowMs: () => number) {}

  begin(params: unknown): unknown {
    if (this.check && !this.check.ready) {
      throw new TaskFailure(DriverError.MARKING_CODE_VALIDATION_IN_PROGRESS);
    }
    const p = (params ?? {}) as Record<string, unknown>;
    const code = typeof p.imc === 'string' ? decodeMarkingCodeBase64(p.imc) : undefined;
    if (code === undefined)
      throw new TaskFailure(DriverError.INVALID_MARKING_CODE, 'Некорректный КМ (imc: не base64)');
    const status = typeof p.itemEstimatedStatus === 'string' ? p.itemEstimatedStatus : '';
    if (!['itemPieceSold', 'itemDryForSale', 'itemPieceReturn', 'itemDryReturn'].includes(status)) {
      throw new TaskFailure(DriverError.INVALID_MARKING_CODE_STATUS);
    }
    const serial = gs1Parts(code)?.serial ?? '';
    const fake = serial.startsWith('FAKE');
    const offline = { fmCheck: true, fmCheckResult: !fake, fmCheckErrorReason: fake ? 'other' : 'no' };
    const { online, error, result } = oismAnswer(serial);
    const slow = serial.startsWith('SLOW');
    const silent = serial.startsWith('SILENT');
    const answer: Record<string, unknown> = {
      ready: true,
      sentImcRequest: true,
      driverError: error
        ? { code: error, error: 'serverNoConnect', description: 'Нет связи с сервером ИСМ' }
        : { code: 0, error: 'none', description: 'Ошибок нет' },
      ...(online ? { onlineValidation: online } : {}),
    };
    this.check = {
      code,
      status,
      readyAtMs: silent ? Number.POSITIVE_INFINITY : this.nowMs() + (slow ? SLOW_ANSWER_MS : 0),
      answer,
      offline,
      checkResult: fake ? bits(true, false, false, false) : result,
      ready: false,
    };
    return { offlineValidation: offline };
  }

  status(): unknown {
    const check = this.running();
    if (this.nowMs() < check.readyAtMs) return { ready: false, sentImcRequest: true };
    check.ready = true;
    return check.answer;
  }

  accept(): unknown {
    const check = this.finished();
    this.accepted.set(check.code, { status: check.status, checkResult: check.checkResult });
    this.check = undefined;
    return { itemInfoCheckResult: check.checkResult };
  }

  decline(): unknown {
    this.finished();
    this.check = undefined;
    return {};
  }

  cancel(): unknown {
    this.check = undefined;
    return {};
  }

  /** `clearMarkingCodeValidationResult`: empties the FN's table. */
  clear(): unknown {
    this.accepted.clear();
    return {};
  }

  /** The receipt takes an accepted code (and the FN forgets it once the receipt closes, `sold`). */
  take(code: string, status: string): AcceptedCode {
    const found = this.accepted.get(code);
    if (!found) throw new TaskFailure(DriverError.NO_MARKING_CODE_IN_TABLE);
    if (found.status !== status) throw new TaskFailure(DriverError.INVALID_MARKING_CODE_STATUS);
    return found;
  }

  /** The receipt closed: its codes leave the table. */
  sold(codes: readonly string[]): void {
    for (const code of codes) this.accepted.delete(code);
  }

  private running(): RunningCheck {
    if (!this.check) throw new TaskFailure(DriverError.INVALID_STATE);
    return this.check;
  }

  private finished(): RunningCheck {
    const check = this.running();
    if (!check.ready) throw new TaskFailure(DriverError.INVALID_STATE);
    return check;
  }
}
