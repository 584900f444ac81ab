import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './repoRoot.js';

/**
 * The Node flags the systemd unit starts the agent with (the words of `ExecStart=` between `node` and the
 * script), so tests, chaos and the bench run the daemon as the box runs it.
 */
export function unitNodeFlags(unitPath = join(REPO_ROOT, 'systemd', 'kkt-agent.service')): string[] {
  const line = readFileSync(unitPath, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('ExecStart='));
  if (!line) throw new Error(`${unitPath} has no ExecStart=`);
  const words = line.slice('ExecStart='.length).trim().split(/\s+/);
  const script = words.findIndex((word) => word.endsWith('kkt-agent.js'));
  return words.slice(1, script);
}
