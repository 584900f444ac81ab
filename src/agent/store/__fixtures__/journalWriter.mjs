// Crash-test child: appends to a journal until it is SIGKILLed. It prints a sequence number only after the
// `set` calls for it resolved, so every printed number is a record the journal promised was durable.
import { JsonlJournal } from '../../../../dist/src/agent/store/journal.js';

const [path, compactEveryText] = process.argv.slice(2);
const compactEvery = Number(compactEveryText);
const journal = await JsonlJournal.open(path);

let next = 0;
for (const value of journal.entries()) next = Math.max(next, value[1].seq + 1);
process.stdout.write(
  `${JSON.stringify({ opened: true, size: journal.size, next, recovery: journal.recovery })}\n`,
);

for (let seq = next; ; seq += 1) {
  await journal.set(`record-${seq}`, { seq, note: 'x'.repeat(seq % 50) });
  await journal.set('latest', { seq });
  process.stdout.write(`${seq}\n`);
  if (seq % compactEvery === 0) await journal.compact();
}
