import { z } from 'zod';
import { billShapeSchema } from '../domain/bill.js';
import { RECEIPT_KIND_NAMES } from '../domain/receiptKind.js';
import { JOB_STATES, type Job } from './job.js';

/**
 * A stored job as the agent reads it back: every field the code relies on, with its type, so a record
 * of the wrong shape is refused with the field named instead of failing later with a TypeError. Objects are
 * loose: a field a later version adds is kept, not stripped. The bill is checked for structure and limits
 * (`billShapeSchema`), not re-validated arithmetically: it was validated when it arrived.
 */

const int = z.number().int();
const text = z.string();

export const fiscalDataSchema = z.looseObject({
  deviceId: text,
  deviceKind: text,
  fiscalDocumentNumber: int.optional(),
  fiscalSign: text.optional(),
  dateTime: text,
  dateTimeUtc: text,
  shiftNumber: int.optional(),
  receiptNumber: text.optional(),
  fnNumber: text.optional(),
  registrationNumber: text.optional(),
  totalMinor: int,
  extra: z.record(z.string(), z.string()).optional(),
});

export const jobSchema: z.ZodType<Job> = z.looseObject({
  id: z.string().min(1).max(64),
  key: text,
  seq: int.positive(),
  bill: billShapeSchema.optional(),
  summary: z.looseObject({
    source: text,
    account: text,
    billId: text,
    number: text.optional(),
    totalMinor: int.optional(),
    currency: text.optional(),
    order: text.optional(),
  }),
  operation: z.enum(RECEIPT_KIND_NAMES),
  related: z
    .looseObject({
      jobId: text,
      key: text,
      fiscalDocumentNumber: int.optional(),
      fiscalSign: text.optional(),
      dateTime: text.optional(),
    })
    .optional(),
  deviceId: text,
  state: z.enum(JOB_STATES),
  receivedAt: text,
  updatedAt: text,
  trigger: z.looseObject({
    kind: z.enum(['poll', 'command', 'mqtt', 'cli', 'test']),
    ref: text.optional(),
  }),
  attempts: int.min(0),
  printing: z
    .looseObject({ lastDocumentNumberBefore: int.optional(), fnSerial: text.optional(), startedAt: text })
    .optional(),
  fiscal: fiscalDataSchema.optional(),
  failure: z
    .looseObject({ code: text, message: text, field: text.optional(), at: text, retryable: z.boolean() })
    .optional(),
  blocked: z.looseObject({ code: text, message: text, at: text }).optional(),
  resolution: z.looseObject({ printed: z.boolean(), by: text, at: text, note: text.optional() }).optional(),
});
