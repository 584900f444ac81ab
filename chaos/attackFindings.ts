import { table } from '../bench/lib/markdown.js';

/**
 * What a black-box attack on the running daemon found (issue 18: the agent tried as a broken cloud, a broken
 * register, a hostile MQTT client and a careless technician would try it), each with the test that keeps
 * it fixed. RELIABILITY.md lists them under the chaos table; add a row with every finding that is fixed.
 */
export interface AttackFinding {
  /** The item of issue 18. */
  item: number;
  attack: string;
  now: string;
  /** Test files and test names (or a chaos scenario) that fail if the finding comes back. */
  keptBy: string;
}

export const ATTACK_FINDINGS: readonly AttackFinding[] = [
  {
    item: 2,
    attack:
      'The oldest listed bill answering 500, hanging, redirecting, sending garbage or resetting the ' +
      'connection stopped every poll cycle there: the newer bills were never fetched although HELLO and ' +
      'LIST had just answered, and a bill answering garbage was fetched and warned about on every poll.',
    now:
      'A failing bill gets its own backoff (`billRetry`, 60 s doubling to 30 min) and a `BILLS_FAILING` ' +
      'alert in `status` and the state document, and the newer bills print; a cycle stops only when the ' +
      "cloud itself is down (HELLO, or OX's cashdesk, asked again after a failure that could be the " +
      "cloud's) or the store cannot write. One warning per bill and kind of failure, one per broken " +
      "list row until it changes. The same rule for MoySklad's orders and OX's sells (the connector " +
      "runtime's `eachBill`).",
    keptBy:
      '`test/e2e/badBill.e2e.test.ts` (500, hang, redirect, garbage, reset; retried on its backoff; the ' +
      'bridge dying mid-cycle; a malformed bill recorded once), `src/agent/connectors/runtime.test.ts`',
  },
  {
    item: 3,
    attack:
      'The register printed the receipt (its close ran), the link went silent, and the job was BLOCKED after 10 ' +
      'reconcile tries; when the register answered again the job stayed BLOCKED, and `jobs resolve --not-printed` ' +
      'printed a second receipt with the same marker.',
    now:
      'A job blocked because the register could not be asked (`RECONCILE_UNREACHABLE`) is asked again as soon as ' +
      'it answers (at once on reconnect, else with backoff); `--not-printed` first searches the FN for the ' +
      "job's marker after its anchor and refuses naming the FD (`JOB_RECEIPT_FOUND`, also with `--force`), or " +
      'while the register cannot be searched (`JOB_RECEIPT_UNCHECKED`); `--force` takes it then, with the typed ' +
      'warning `RESOLVE_FORCED`.',
    keptBy: '`test/e2e/blockedOutage.e2e.test.ts` (all three), `src/agent/devices/atolCommon/fnScan.test.ts`',
  },
  {
    item: 4,
    attack:
      'An MQTT inline bill claiming another connector\'s bill (`source: "bridge"`, its account and billId) ' +
      'was printed and never reported (every sink\'s draft failed), and the real bridge bill became "already known".',
    now:
      'Inline bills may claim only `mqtt.inlineBillSources` (default `mqtt`; `VALIDATION_FAILED` on `bill.source`); ' +
      "a sink that cannot draft no longer cancels the others' reports; a receipt fiscalized but unreported past " +
      '`outbox.unreportedAlertMs` is an alert in `status` and the state document.',
    keptBy:
      '`test/mqtt/hostile.e2e.test.ts` "18.4 …" (both), `test/corpus/mqttCommands.corpus.test.ts`, ' +
      '`src/agent/outbox/outbox.test.ts` "a sink that cannot draft …"',
  },
  {
    item: 5,
    attack:
      "An MQTT 5 command whose response topic was another box's `cmd/closeShift`: this box published its " +
      'answer there and the other box ran a Z report (the extra keys of the answer were silently dropped).',
    now:
      'A response topic inside any `…/cmd/…` tree refuses the command (`MQTT_RESPONSE_TOPIC_REFUSED`); ' +
      'command parameters are strict (an unknown key is `VALIDATION_FAILED`, the key named).',
    keptBy:
      '`test/mqtt/hostile.e2e.test.ts` "18.5 …" (both), `test/corpus/mqttCommands.corpus.test.ts` ' +
      '(response topics, unknown parameters)',
  },
  {
    item: 6,
    attack:
      '`control.socketPath` pointed at the jobs journal: the daemon deleted the journal at start to make room ' +
      'for its socket.',
    now:
      'Only a stale socket is removed (lstat); anything else stops the start (`CONTROL_SOCKET_PATH_TAKEN`, exit 78) ' +
      "and stays; `config validate` refuses a socket or log file over the data directory's files, and a " +
      'relative or `..` data directory, socket or log path, naming the field.',
    keptBy: '`test/e2e/hostile.e2e.test.ts` "18.6 …", `test/corpus/configs.corpus.test.ts`',
  },
  {
    item: 7,
    attack:
      'The data directory deleted (or renamed away and replaced) under the running daemon: receipts ' +
      'were journaled into deleted files, the CLI said the agent was not running, and a restart on the ' +
      'empty directory printed every listed bill again.',
    now:
      "The directory's and `agent.db`'s identity (dev+ino) is checked before every write and every " +
      '`journal.dataDirCheckMs`; gone, every write is refused with `DATA_DIR_GONE` (so no receipt ' +
      'starts), the database is copied out (`agent.db.rescued`), a marker is left, the agent exits 75, ' +
      "and systemd's restart stops at the marker with `DATA_DIR_GONE` and exit 78.",
    keptBy: '`test/e2e/dataDir.e2e.test.ts` "issue 18.7" (deleted, replaced, `agent.db` deleted)',
  },
  {
    item: 8,
    attack:
      'The register went silent with its TCP connection (or serial port) still open: later bills waited ' +
      'forever while `status` said online.',
    now:
      'After `reconnect.reopenAfterTimeouts` timeouts in a row (default 3) the link is dropped and reopened; ' +
      '`status` says "not answering since …"; the receipt cut off is reconciled, never printed twice.',
    keptBy:
      '`test/e2e/silentRegister.e2e.test.ts` (TCP, a deaf TCP connection, the socat PTY), ' +
      '`test/emulator-atol/faults.test.ts` (`silent`, `deafConnection`)',
  },
  {
    item: 10,
    attack: 'SIGHUP killed the daemon without a log line and left a stale control socket.',
    now:
      'SIGHUP reopens the log file and logs `daemon.sighup`; the socket is removed at every exit the process ' +
      "makes itself (a SIGKILL's is replaced at the next start).",
    keptBy: '`test/e2e/hostile.e2e.test.ts` "18.10 …"',
  },
  {
    item: 11,
    attack:
      '`status` said "OK: nothing needs attention" while journal writes failed (a full disk) and while a ' +
      'receipt sat FISCALIZED without a report.',
    now: 'Both are attention items in `status` and alerts in the state document.',
    keptBy: '`test/e2e/hostile.e2e.test.ts` "18.11 …"',
  },
  {
    item: 12,
    attack: '`--log-file X.log` wrote `X.1.log`, mode 0644.',
    now: 'The named file itself, mode 0640, rotated beside it (`X.log.1` …).',
    keptBy: '`test/e2e/hostile.e2e.test.ts` "18.12 …", `src/agent/logFile.test.ts`',
  },
  {
    item: 13,
    attack:
      'Once in about 47 quick chaos runs the agent stopped answering after the first PTY teardown: a serial ' +
      'write caught by the port closing never settled (serialport queues it until the port opens again), and ' +
      'everything waiting on the register waited with it.',
    now: 'A write settles when its link closes; the serial link no longer waits on tcdrain.',
    keptBy:
      '`npm run chaos -- --quick --only pty-soak` (opt-in soak), `test/emulator-atol/pty.test.ts` "a write in ' +
      'flight …", `src/drivers/atol/transport/link.test.ts`',
  },
];

/** The attack findings of issue 18 and the tests that keep them (chaos/attackFindings.ts). */
export function attackFindingsMarkdown(): string {
  return [
    '## Attack findings (issue 18)',
    '',
    'The running daemon tried as a broken cloud, a broken register, a hostile MQTT client and a careless ' +
      'technician would try it. What did not hold, what holds now, and the test that fails if it comes back:',
    '',
    table(
      ['#', 'attack', 'now', 'kept by'],
      ATTACK_FINDINGS.map((f) =>
        [`18.${f.item}`, f.attack, f.now, f.keptBy].map((cell) => String(cell).replaceAll('|', '\\|')),
      ),
    ),
  ].join('\n');
}
