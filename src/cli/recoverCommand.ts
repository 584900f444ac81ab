import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DATABASE_FILE } from '../agent/agent.js';
import type { AgentConfig } from '../agent/config/config.js';
import { declareStoreLost, type RecoveryStatus } from '../agent/jobs/recovery.js';
import { AgentDatabase } from '../agent/store/database.js';
import { claimDataDir } from '../agent/store/dataDirLock.js';
import type { StoreOriginRecord } from '../agent/store/storeOrigin.js';
import { KktAgentError } from '../lib/errors.js';
import { agentOptions, type CliHelpers } from './cliHelpers.js';

/**
 * `kkt-agent recover`: after a dead SD card or a data directory restored from an old copy
 * (docs/operations.md, "Replacing the SD card"). `--from-register` declares the store lost, so the next
 * start reads the registers back before taking any bill; `--confirm` lets a device that cannot be read
 * back print again; without either it shows what the read-back found.
 */

/** Declares the store in `config.dataDir` lost; only while no agent holds it (the lock names the holder). */
export async function declareLostStandalone(config: AgentConfig, by: string, note?: string) {
  const lock = await claimDataDir(resolve(config.dataDir));
  try {
    const db = AgentDatabase.open(join(config.dataDir, DATABASE_FILE));
    try {
      return declareStoreLost(db, by, note);
    } finally {
      db.close();
    }
  } finally {
    lock.release();
  }
}

/**
 * What a technician checks beyond the registers, per configured cloud and device: what the lost data
 * directory held that the agent cannot read back (docs/operations.md, "Replacing the SD card").
 */
export function recoveryChecklist(config: AgentConfig): string[] {
  const steps: string[] = [];
  for (const device of config.devices) {
    if (device.kind === 'atol' || device.kind === 'atol-web')
      steps.push(
        `Device ${device.id}: its FN is read back at the start (recover.depthHours, shifts); receipts of ours found there are reported, not printed again.`,
      );
    else if (device.kind === 'intent')
      steps.push(
        `Device ${device.id}: the SmartX terminal cannot be read back. Check its sales since the card died, resolve the jobs it blocks, then run "kkt-agent recover --confirm ${device.id}".`,
      );
    else steps.push(`Device ${device.id}: finds its own earlier print-outs by job id; nothing to do.`);
  }
  for (const account of config.connectors.bridge) {
    const ids = account.ids ?? {};
    const missing = (['userId', 'storeId', 'deviceId', 'employeeId'] as const).filter((k) => !ids[k]);
    steps.push(
      missing.length === 0
        ? `Bridge ${account.id}: its ids are in the config; the bridge sees the same device.`
        : `Bridge ${account.id}: ${missing.join(', ')} are not in the config and were kept on the card; new ones are made, so the bridge sees a new device. To keep the old ones, set connectors.bridge[].ids from the bridge's last ReceiptCreated events before starting.`,
    );
  }
  for (const account of config.connectors.moysklad)
    steps.push(
      existsSync(account.credentialsFile)
        ? `MoySklad ${account.id}: the pairing (${account.credentialsFile}) is outside the data directory and still there.`
        : `MoySklad ${account.id}: the pairing file ${account.credentialsFile} is gone: run "kkt-agent moysklad pair" again (it revokes the old token).`,
    );
  for (const account of config.connectors.oxsystem)
    steps.push(
      `OX ${account.id}: the poll cursor was on the card; it starts again from connectors.oxsystem[].startFrom, and sells already printed are recognised by their receipts on the FN.`,
    );
  if (config.mqtt)
    steps.push(
      'MQTT: nothing to restore; the state is published again and commands sent while the agent was down are not kept.',
    );
  return steps;
}

function renderStatus(status: RecoveryStatus): string {
  const lines = [
    `Store: ${status.origin} (rebuild ${status.rebuild}) since ${status.since}${status.note ? ` — ${status.note}` : ''}`,
    `Receipts read back: ${status.receipts.found} found, ${status.receipts.taken} taken by their bills`,
  ];
  for (const device of status.devices) {
    const read = device.documentsAtMost
      ? `${device.documentsRead} of at most ${device.documentsAtMost} documents`
      : `${device.documentsRead} documents`;
    lines.push(
      `  ${device.deviceId}: ${device.phase}${device.mode ? ` (${device.mode})` : ''}, ${read}, ${device.receiptsFound} receipts of ours` +
        `${device.coveredSince ? `, back to ${device.coveredSince}` : ''}${device.complete ? ', the whole FN' : ''}` +
        `${device.error ? `; stopped: ${device.error}` : ''}`,
    );
  }
  return lines.join('\n');
}

export function registerRecoverCommand(program: Command, helpers: CliHelpers): void {
  agentOptions(
    program
      .command('recover')
      .description(
        'after a dead SD card: declare the store lost so the registers are read back before any bill is taken, confirm a device that cannot be read back, or show the read-back',
      ),
  )
    .option(
      '--from-register',
      'declare the store lost (the agent must be stopped): the next start rebuilds it from the registers',
      false,
    )
    .option(
      '--confirm <device>',
      'a device that cannot be read back: its earlier sales are accounted for; a device blocked because another register answers (RECOVERY_REGISTER_CHANGED): that register serves it from now on',
    )
    .option('--note <text>', 'why, kept with the declaration')
    .option('--json', 'print JSON', false)
    .action(
      async (options: {
        config?: string;
        socket?: string;
        fromRegister: boolean;
        confirm?: string;
        note?: string;
        json: boolean;
      }) => {
        const by = `cli:${process.env.SUDO_USER ?? process.env.USER ?? 'unknown'}`;
        // --from-register works on the data directory, with the agent stopped; the rest asks the agent.
        const config = options.fromRegister
          ? await helpers.loadConfig(options.config).catch(helpers.fail)
          : undefined;
        if (options.fromRegister && options.confirm)
          helpers.fail(new KktAgentError('CLI_USAGE', 'Give --from-register or --confirm, not both.'));
        if (options.fromRegister) {
          const record: StoreOriginRecord = await declareLostStandalone(config!, by, options.note).catch(
            helpers.fail,
          );
          const steps = recoveryChecklist(config!);
          if (options.json) process.stdout.write(`${JSON.stringify({ store: record, steps }, null, 2)}\n`);
          else
            process.stdout.write(
              [
                `The store in ${config!.dataDir} is declared lost. At its next start the agent reads every register back`,
                'before it takes any bill ("kkt-agent status" shows the progress). Before starting it, check:',
                ...steps.map((step, index) => `  ${index + 1}. ${step}`),
                'Then: systemctl start kkt-agent',
                '',
              ].join('\n'),
            );
          return;
        }
        if (options.confirm) {
          const result = (await helpers
            .call(options, 'recovery.confirm', {
              device: options.confirm,
              by,
            })
            .catch(helpers.fail)) as {
            device: {
              deviceId: string;
              phase: string;
              registerSerial?: string;
              previousRegisterSerial?: string;
            };
          };
          const { device } = result;
          if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
          else if (device.previousRegisterSerial !== undefined || device.registerSerial !== undefined)
            process.stdout.write(
              `Device ${device.deviceId} now takes register ${device.registerSerial ?? '(serial unknown)'} (was ${device.previousRegisterSerial ?? '(serial unknown)'}): its FN is read back for receipts of ours, then it prints.\n`,
            );
          else process.stdout.write(`Device ${device.deviceId} is ${device.phase}: it prints again.\n`);
          return;
        }
        const status = (await helpers.call(options, 'recovery.status').catch(helpers.fail)) as RecoveryStatus;
        process.stdout.write(`${options.json ? JSON.stringify(status, null, 2) : renderStatus(status)}\n`);
      },
    );
}
