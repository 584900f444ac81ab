import { describe, expect, it } from 'vitest';
import { AtolWebKkt } from '../../src/drivers/atol/web/index.js';
import { runAtolWebEmulatorCli } from '../../src/emulators/atol/web/index.js';

describe('the CLI entry of the web facade (kkt-agent emulator atol-web)', () => {
  it('starts the facade and its register, with credentials and faults from the command line', async () => {
    let printed = '';
    const out = { write: (text: string) => (printed += text) };
    const web = await runAtolWebEmulatorCli(
      {
        port: '0',
        tcp: 0,
        persist: false,
        timeZone: 'Europe/Moscow',
        user: 'kassa',
        password: 'pw',
        fault: ['drop-after-accept@sell', 'no-paper'],
        quiet: true,
      },
      out,
      out,
    );
    try {
      expect(printed).toMatch(/ATOL driver-10 web server emulator: .+ http:\/\/127\.0\.0\.1:\d+\/api\/v2/);
      expect(web.activeFaults.dropAfterAccept).toBe(1);
      expect(web.register.activeFaults.noPaper).toBe(true);
      const kkt = new AtolWebKkt({
        url: web.url,
        auth: { username: 'kassa', password: 'pw' },
        pollIntervalMs: 10,
      });
      const status = await kkt.status();
      expect(status.paper.present).toBe(false);
    } finally {
      await web.close();
    }
  });

  it('refuses bad options before starting', async () => {
    await expect(runAtolWebEmulatorCli({ port: 'eighty' })).rejects.toThrow(/port/);
  });
});
