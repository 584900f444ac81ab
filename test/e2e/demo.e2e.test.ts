import { describe, expect, it } from 'vitest';
import { runCli } from '../support/agentProcess.js';

/** The README's first command, `npm run demo`, runs `kkt-agent demo`; `--once` makes it a finite round. */
describe('kkt-agent demo --once', () => {
  it('prints every sample bill exactly once, reports it to the CRM and over MQTT, and exits 0', {
    timeout: 90_000,
  }, async () => {
    const { code, stdout } = await runCli(['demo', '--once']);
    expect(code).toBe(0);
    expect(stdout).toContain('КАССОВЫЙ ЧЕК');
    expect(stdout).toContain('ОТЧЁТ ОБ ОТКРЫТИИ СМЕНЫ');
    expect(stdout).toContain('◀ ReceiptCreated posted to the CRM');
    expect(stdout).toMatch(/◀ MQTT kkt\/demo\/resp\/fiscalize: \{"cmdId":"demo-push-1","ok":true/);
    const done = stdout.match(
      /Done: (\d+) receipt\(s\) printed and reported, (\d+) fiscal documents on the register, (\d+) ReceiptCreated events received by the CRM, (\d+) receipt events over MQTT/,
    );
    expect(done).not.toBeNull();
    const [, reported, documents, crmEvents, mqttEvents] = done!.map(Number);
    expect(documents).toBe(reported! + 1); // one shift opening
    expect(crmEvents).toBe(reported! - 1); // the MQTT-pushed bill has no CRM
    expect(mqttEvents).toBe(reported);
  });
});
