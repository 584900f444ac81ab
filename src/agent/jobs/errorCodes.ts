import type { CodesIn } from '../../lib/errors.js';

/**
 * The codes of the job store's and the intake's errors, with what each means (docs/errors.md is made from
 * this list).
 */
export const JOBS_ERROR_CODES = {
  BILL_INVALID:
    'The intake refused a bill that is not valid; the message names the field. Nothing was fiscalized.',
  JOB_DUPLICATE: 'A job for this bill already exists: each bill is fiscalized once.',
  JOB_NOT_FOUND: 'No job has the id given.',
  JOB_ILLEGAL_TRANSITION:
    'A job was asked to change to a state it cannot reach from its own (a bug: report it with the log).',
  JOB_INVALID: 'A job that does not fit the stored-record schema was refused; nothing was stored.',
  RELATED_JOB_UNKNOWN: 'The job a return or correction names does not exist (or retention has dropped it).',
  RELATED_JOB_IN_FLIGHT:
    'The job a return or correction names may still print (received, printing or blocked); wait for it, or resolve it first.',
  RELATED_JOB_NOT_RETURNABLE:
    'The job named cannot be returned or corrected in this way (its state or kind).',
  RETURN_EXCEEDS_SALE:
    'The return takes back more than the sale sold, earlier returns counted. Nothing was created; the message names the position.',
  SETTLEMENT_ALREADY_CORRECTED:
    'This settlement has already been corrected once; a second correction is refused.',
  ADVANCE_RETURN_EXCEEDS_PREPAID:
    'The advance returned is more than what is left of the order’s prepayments.',
  OFFSET_EXCEEDS_PREPAID: 'The prepayment offset is more than what is left of the order’s prepayments.',
  CREDIT_PAYMENT_EXCEEDS_CREDIT: 'The credit repayment is more than what is left of the order’s credit.',
  RECOVERY_NOTHING_TO_CONFIRM:
    'No device of this id waits for a technician after a lost store; nothing to confirm.',
  RECOVERY_REGISTER_CHANGED:
    'Another register answers at the device’s address than the one the store knows (its serial, or its FN where the serial is unknown): a register swapped, or an SD card from another box. The device prints nothing until a technician runs "kkt-agent recover --confirm <device>" or puts the right register or card back.',
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry {
    jobs: CodesIn<typeof JOBS_ERROR_CODES>;
  }
}
