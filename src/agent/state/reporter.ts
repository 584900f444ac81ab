import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { errorMessage } from '../../lib/errors.js';
import { type StateDocument, stateFingerprint } from './document.js';

export interface StateReporterOptions {
  collect: () => Promise<StateDocument>;
  intervalMs: number;
  debounceMs: number;
  logger: Logger;
}

interface StateReporterEvents {
  /** `reason`: `interval` (sent whatever changed), `change` (only when different), `request`. */
  state: [doc: StateDocument, reason: 'interval' | 'change' | 'request'];
}

/**
 * Builds the state document on a schedule and after changes (debounced), and hands it to its outputs
 * (MQTT, POST /state) through the `state` event. A change that alters nothing but clocks is not sent.
 */
export class StateReporter extends EventEmitter<StateReporterEvents> {
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private lastFingerprint: string | undefined;
  private latestDoc: StateDocument | undefined;
  private building: Promise<void> = Promise.resolve();
  private running = false;
  private intervalMs: number;
  private debounceMs: number;

  constructor(private readonly options: StateReporterOptions) {
    super();
    this.intervalMs = options.intervalMs;
    this.debounceMs = options.debounceMs;
  }

  get latest(): StateDocument | undefined {
    return this.latestDoc;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
    void this.refresh('interval');
  }

  /** Something changed (a job, a device, a shift): send a new document after the debounce time. */
  changed(): void {
    if (!this.running || this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.refresh('change');
    }, this.debounceMs);
  }

  reconfigure(options: { intervalMs: number; debounceMs: number }): void {
    this.intervalMs = options.intervalMs;
    this.debounceMs = options.debounceMs;
    if (this.running) this.schedule();
  }

  /** Builds a document now and emits it (whatever changed). Builds run one at a time. */
  refresh(reason: 'interval' | 'change' | 'request' = 'request'): Promise<void> {
    const run = this.building.then(async () => {
      if (!this.running && reason !== 'request') return;
      let doc: StateDocument;
      try {
        doc = await this.options.collect();
      } catch (error) {
        this.options.logger.error({ event: 'state.collect-failed', reason: errorMessage(error) });
        return;
      }
      const fingerprint = stateFingerprint(doc);
      this.latestDoc = doc;
      if (reason === 'change' && fingerprint === this.lastFingerprint) return;
      this.lastFingerprint = fingerprint;
      this.emit('state', doc, reason);
    });
    this.building = run.catch(() => undefined);
    return run;
  }

  stop(): void {
    this.running = false;
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    this.timer = undefined;
    this.debounce = undefined;
  }

  private schedule(): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => void this.refresh('interval'), this.intervalMs);
    this.timer.unref();
  }
}
