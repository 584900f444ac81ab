/**
 * The codes lib's own errors carry, each with what it means (docs/errors.md is made from this list).
 * Every room keeps a list like this one in its `errorCodes.ts` and registers it in `ErrorCodeRegistry`
 * (lib/errors.ts), so a code no list names fails `tsc`.
 */
export const LIB_ERROR_CODES = {
  VALIDATION_FAILED:
    'An input (bill, config, command, answer) failed validation; the message names the field and the reason. Nothing was done.',
  UNEXPECTED:
    'An error the agent did not raise on purpose (a bug or an unforeseen failure); its message is all there is. Report it with the log.',
  JSON_MALFORMED: 'A JSON text could not be parsed; the message gives the line and column. Nothing was done.',
  TEXT_CONTROL_CHARACTER:
    'A text for the receipt contains a control character a register cannot print. Fix the text at its source.',
  TEXT_NOT_PRINTABLE:
    "A text for the receipt has no character the register's code page can print. Fix the text at its source.",
  STORAGE_WRITE_FAILED:
    'A file could not be written to disk (full, read-only, failing). Nothing changed; free space or check the storage.',
  STORAGE_READ_FAILED:
    'A file exists but could not be read (permissions, a directory in its place, a failing disk). Check the path named.',
} as const;
