/**
 * Test-only fault injection: `KKT_AGENT_CRASH_AT=store:job-PRINTING:after` makes the process SIGKILL itself
 * at that point, which is how the kill-point matrix proves recovery around every store transaction. Unset in
 * production, where every call is a cheap Set lookup that finds nothing.
 */
const points = new Set(
  (process.env.KKT_AGENT_CRASH_AT ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean),
);

export function crashPoint(name: string): void {
  if (points.size > 0 && points.has(name)) {
    process.stderr.write(`kkt-agent: crash point ${name} reached, killing the process\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
