import { KktAgentError } from '../../lib/errors.js';

/** The emulator was started with options it cannot honour. */
export class EmulatorConfigError extends KktAgentError {
  constructor(option: string, reason: string) {
    super('EMULATOR_CONFIG_INVALID', `ATOL emulator option ${option}: ${reason}`, { option, reason });
  }
}

/** The saved state of the emulated register cannot be read back. */
export class EmulatorStateError extends KktAgentError {
  constructor(path: string, reason: string) {
    super(
      'EMULATOR_STATE_INVALID',
      `The ATOL emulator state in ${path} cannot be used: ${reason}. Move it away to start afresh.`,
      {
        path,
        reason,
      },
    );
  }
}
