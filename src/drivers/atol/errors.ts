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
