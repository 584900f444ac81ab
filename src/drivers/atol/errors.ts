import { KktAgentError } from '../../lib/errors.js';

/**
 * The register may have fiscalized the receipt but we could not learn it (the link dropped while closing,
 * or the read-back failed after a successful close). Never retry on this: reconcile with the register.
 */
export class KktOutcomeUnknownError extends KktAgentError {
  constructor(operation: string, phase: string, cause: unknown) {
    super(
      'KKT_OUTCOME_UNKNOWN',
      `The register may have completed "${operation}" but did not confirm it (${phase}). It must be reconciled with the register before anything is retried.`,
      { operation, phase, cause: cause instanceof Error ? cause.message : String(cause) },
      { cause, outcome: 'unknown' },
    );
  }
}

export class KktNotConnectedError extends KktAgentError {
  constructor(description: string) {
    super(
      'KKT_NOT_CONNECTED',
      `The register (${description}) is not connected; nothing was sent.`,
      { link: description },
      { outcome: 'not-sent' },
    );
  }
}

export class KktUnsupportedModelError extends KktAgentError {
  constructor(model: number, name: string) {
    super(
      'KKT_UNSUPPORTED_MODEL',
      `Register model ${model} (${name}) is not a platform 2.5 model this driver speaks to; use the ATOL driver-10 backend.`,
      { model, name },
    );
  }
}

/**
 * A receipt carries a VAT rate whose `EB` byte this register's table does not know (docs/protocol/atol-v3.md
 * §8). Nothing was sent. The device's `taxBytes` configuration supplies the byte.
 */
export class KktTaxRateUnknownError extends KktAgentError {
  constructor(
    readonly rates: readonly string[],
    model: string,
  ) {
    super(
      'KKT_TAX_RATE_UNKNOWN',
      `No tax byte is known for ${rates.join(', ')} on this register (${model}); nothing was sent. Set the byte in the device's "taxBytes" configuration once the register's documentation or a cancelled probe receipt shows which byte the register takes.`,
      { rates: [...rates], model },
      { outcome: 'not-sent' },
    );
  }
}

/** The register's FFD version has no receipt form this driver writes (FFD 1.0 needs the legacy `E6`). */
export class KktUnsupportedFfdError extends KktAgentError {
  constructor(ffdVersion: number) {
    super(
      'KKT_UNSUPPORTED_FFD',
      `The register works to FFD version code ${ffdVersion}; this driver writes FFD 1.05 and 1.2 receipts only. Nothing was sent.`,
      { ffdVersion },
      { outcome: 'not-sent' },
    );
  }
}
