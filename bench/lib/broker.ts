import { startEmbeddedBroker } from '../../src/agent/mqtt/embeddedBroker.js';
import { Mosquitto } from '../../test/support/mosquitto.js';

/** A broker for the MQTT bench and chaos: mosquitto when installed (as in CI), else the embedded aedes. */
export interface BenchBroker {
  url: string;
  kind: 'mosquitto' | 'aedes (embedded)';
  /** Only mosquitto restarts (the chaos suite needs it). */
  mosquitto?: Mosquitto;
  close(): Promise<void>;
}

export async function startBenchBroker(): Promise<BenchBroker> {
  try {
    const mosquitto = await Mosquitto.start();
    return { url: mosquitto.url, kind: 'mosquitto', mosquitto, close: () => mosquitto.dispose() };
  } catch {
    const broker = await startEmbeddedBroker();
    return { url: broker.url, kind: 'aedes (embedded)', close: () => broker.close() };
  }
}
