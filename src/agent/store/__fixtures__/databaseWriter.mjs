// Crash-test child: commits rows to an agent database until it is SIGKILLed. It prints a sequence number
// only after the commit for it returned, so every printed number is a row the database promised was durable.
// Runs the built store (npm test builds dist/ first).
import { AgentDatabase } from '../../../../dist/src/agent/store/database.js';

const [path, checkpointEveryText] = process.argv.slice(2);
const db = AgentDatabase.open(path, { fsync: true, checkpointEveryCommits: Number(checkpointEveryText) });
const next = Number(db.statement('SELECT count(*) FROM imported_journals').pluck().get());
process.stdout.write(`${JSON.stringify({ opened: true, next })}\n`);

const insert = db.statement('INSERT INTO imported_journals (file, at, records) VALUES (?, ?, ?)');
for (let seq = next; ; seq += 1) {
  // Rows of varying size, some spanning several pages, so frames and commits fall on different offsets.
  db.write('soak', () => insert.run(`row-${seq}`, 'x'.repeat((seq * 977) % 9000), seq));
  process.stdout.write(`${seq}\n`);
  if (seq % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
}
