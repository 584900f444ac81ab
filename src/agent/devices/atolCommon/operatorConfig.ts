import { z } from 'zod';
import { findControlCharacter } from '../../../lib/printableText.js';

/**
 * The cashier of an ATOL register's receipts and shift documents (tags 1021, 1203), required: FFD wants a
 * cashier on every receipt, and the register would otherwise print whatever name its own tables hold. A
 * bill that names its own cashier (MoySklad) wins over it.
 */
export const atolOperatorSchema = z.strictObject(
  {
    name: z
      .string()
      .min(1)
      .max(64)
      .refine((name) => /\S/.test(name), 'must not be blank')
      .refine((name) => findControlCharacter(name) === undefined, 'must not contain control characters'),
    vatin: z
      .string()
      .regex(/^(\d{10}|\d{12})$/, 'must be an INN of 10 or 12 digits')
      .optional(),
  },
  {
    error: (issue) =>
      issue.input === undefined
        ? 'required: the cashier printed on every receipt (tag 1021), e.g. { "name": "Кассир Иванова" }'
        : undefined,
  },
);
