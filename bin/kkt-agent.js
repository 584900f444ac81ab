#!/usr/bin/env node
// The installed command. The agent is compiled to dist/ by `npm run build`; run node on it directly
// (systemd does too) so that signals and sd_notify reach the agent's own process.
import('../dist/src/cli/main.js').then(
  (cli) => cli.main(process.argv),
  (error) => {
    process.stderr.write(`kkt-agent is not built (${error.message}). Run: npm run build\n`);
    process.exit(1);
  },
);
