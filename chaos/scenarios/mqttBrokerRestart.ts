import mqtt from 'mqtt';
import { Mosquitto } from '../../test/support/mosquitto.js';
import { mqttBill } from '../lib/bills.js';
import { ChaosRig, sleep } from '../lib/rig.js';
import { between, notRunRow, type Scenario } from '../lib/scenario.js';

interface ReceiptEventMessage {
  eventId?: string;
  bill?: { billId?: string };
}

export const mqttBrokerRestartScenario: Scenario = {
  name: 'mqtt-restart',
  title: 'MQTT broker restart while bills arrive',
  description:
    'Bills arrive only as MQTT `cmd/fiscalize` commands (QoS 1, inline bill) from a cloud client with a ' +
    'persistent session, one every 20 ms; every tenth is sent a second time with the same cmdId (a ' +
    'redelivery). While they arrive, the real mosquitto (persistence on) is stopped and started again ' +
    "several times, down for 0.3–1.5 s each. Reports are the agent's `event/receipt` messages (distinct " +
    '`eventId` per bill), received by the same cloud client.',
  async run({ quick, random, log }) {
    const bills = quick ? 30 : 300;
    const restarts = quick ? 1 : 4;
    let broker: Mosquitto;
    try {
      broker = await Mosquitto.start();
    } catch (error) {
      return [
        notRunRow(
          'MQTT broker restart',
          bills,
          `mosquitto could not start: ${(error as Error).message.split('\n')[0]}`,
        ),
      ];
    }
    const deviceId = `chaos-${process.pid}`;
    const rig = await ChaosRig.open({ bills: 0, mqtt: { url: broker.url, deviceId } });
    const root = `kkt/${deviceId}`;
    const cloud = await mqtt.connectAsync(broker.url, {
      protocolVersion: 4,
      clientId: `cloud-${deviceId}`,
      clean: false,
      reconnectPeriod: 100,
    });
    try {
      const answers = new Map<string, string[]>();
      let online = false;
      cloud.on('message', (topic, payload) => {
        if (topic === `${root}/status`) {
          online = (JSON.parse(payload.toString('utf8')) as { state?: string }).state === 'online';
          return;
        }
        if (topic === `${root}/resp/fiscalize`) {
          const answer = JSON.parse(payload.toString('utf8')) as {
            cmdId?: string;
            ok?: boolean;
            error?: { code?: string };
          };
          const list = answers.get(answer.cmdId ?? '?') ?? [];
          list.push(answer.ok ? 'ok' : (answer.error?.code ?? 'error'));
          answers.set(answer.cmdId ?? '?', list);
          return;
        }
        if (topic !== `${root}/event/receipt`) return;
        const event = JSON.parse(payload.toString('utf8')) as ReceiptEventMessage;
        if (event.bill?.billId && event.eventId) rig.ledger.report(event.bill.billId, event.eventId);
      });
      await cloud.subscribeAsync([`${root}/event/receipt`, `${root}/resp/fiscalize`, `${root}/status`], {
        qos: 1,
      });
      rig.supervisor.start();
      await rig.supervisor.ready();
      // The agent's birth is published after it subscribed to its commands: from then on its session queues
      // them even while it is away. (A command sent before the agent's very first subscription reaches no one.)
      const deadline = Date.now() + 20_000;
      while (!online && Date.now() < deadline) await sleep(20);
      const billIds: string[] = [];
      const restartAt = new Set(
        Array.from({ length: restarts }, (_, i) => Math.floor(((i + 1) * bills) / (restarts + 1))),
      );
      const sends: Promise<unknown>[] = [];
      // A publish caught in mqtt.js's queue when the connection drops fails with "Connection closed" and is
      // not kept for the next session: the cloud sends it again, as a real one would (same cmdId).
      const publish = async (payload: string): Promise<void> => {
        for (let attempt = 1; ; attempt++) {
          try {
            await cloud.publishAsync(`${root}/cmd/fiscalize`, payload, { qos: 1 });
            return;
          } catch (error) {
            // Never rejects: the bill then counts as lost in the verdict, which is what it would be.
            if (attempt >= 50) {
              log(`  a command could not be sent: ${(error as Error).message}`);
              return;
            }
            await sleep(200);
          }
        }
      };
      let restartsDone = 0;
      for (let i = 0; i < bills; i++) {
        const id = 700_001 + i;
        billIds.push(String(id));
        const payload = JSON.stringify({ cmdId: `chaos-${id}`, bill: mqttBill(id) });
        sends.push(publish(payload));
        if (i % 10 === 9) {
          const again = payload;
          setTimeout(() => sends.push(publish(again)), between(random, 50, 800));
        }
        if (restartAt.has(i)) {
          // The broker goes away in the middle of the stream; publishing goes on into the client's queue.
          void (async () => {
            await broker.stop();
            await sleep(between(random, 300, 1500));
            await broker.restart();
            restartsDone++;
          })();
        }
        await sleep(20);
      }
      while (restartsDone < restarts) await sleep(50);
      await Promise.allSettled(sends);
      // Progress-aware, as in torn-wal: only 60 s without a document or report fails.
      const settled = await rig.settle(60_000 + bills * 200, billIds, { stallMs: 60_000 });
      const verdict = rig.verdict(billIds);
      const missing = billIds.filter((id) => rig.ledger.printed(id) === 0);
      const missingNote = missing
        .slice(0, 5)
        .map((id) => `${id}: answers ${JSON.stringify(answers.get(`chaos-${id}`) ?? [])}`)
        .join('; ');
      log(`  ${restartsDone} broker restarts${missing.length > 0 ? `; never printed: ${missingNote}` : ''}`);
      return [
        {
          scenario: 'MQTT broker restart',
          runs: 1,
          ...verdict,
          gated: true,
          notes:
            `mosquitto restarted ${restartsDone}× mid-stream; ${Math.floor(bills / 10)} commands redelivered ` +
            `with the same cmdId` +
            (settled ? '' : `; not settled: ${await rig.jobStates()}; never printed: ${missingNote}`),
        },
      ];
    } finally {
      await cloud.endAsync(true).catch(() => undefined);
      await rig.close();
      await broker.dispose();
    }
  },
};
