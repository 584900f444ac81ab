import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Debian installs the broker in /usr/sbin, which is not on every user's PATH. */
export const MOSQUITTO_BIN =
  process.env['MOSQUITTO_BIN'] ?? (existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto');

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port} in time`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface TlsMaterial {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

/** A throw-away CA, a server certificate for 127.0.0.1/localhost and a client certificate, made with openssl. */
export async function generateTlsMaterial(dir: string): Promise<TlsMaterial> {
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(
    'req',
    '-x509',
    ...ec,
    '-days',
    '2',
    '-subj',
    '/CN=kkt-test-ca',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
  );
  await writeFile(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const [name, subject, ext] of [
    ['server', '/CN=localhost', ['-extfile', f('server.ext')]],
    ['client', '/CN=kkt-agent-test', []],
  ] as const) {
    await openssl('req', ...ec, '-subj', subject, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
    await openssl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.crt'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      f(`${name}.crt`),
      ...ext,
    );
  }
  return {
    caFile: f('ca.crt'),
    serverCertFile: f('server.crt'),
    serverKeyFile: f('server.key'),
    clientCertFile: f('client.crt'),
    clientKeyFile: f('client.key'),
  };
}

export interface MosquittoOptions {
  /** Adds a TLS listener that requires a client certificate and a password from this map. */
  tls?: { users: Record<string, string> };
  /** Keeps sessions and retained messages across `restart()` (default true). */
  persistence?: boolean;
}

/**
 * A real mosquitto for tests, on free loopback ports with a generated config: an anonymous plain listener,
 * optionally a TLS listener (own CA, client certificate and password file via mosquitto_passwd).
 */
export class Mosquitto {
  private process: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  stderr = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly tlsPort: number | undefined,
    readonly tlsMaterial: TlsMaterial | undefined,
    private readonly configFile: string,
  ) {}

  static async start(options: MosquittoOptions = {}): Promise<Mosquitto> {
    const dir = await mkdtemp(join(tmpdir(), 'kkt-mosquitto-'));
    const port = await freePort();
    const lines = [
      'per_listener_settings true',
      `user ${userInfo().username}`,
      `persistence ${options.persistence === false ? 'false' : 'true'}`,
      `persistence_location ${dir}/`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
    ];
    let tlsPort: number | undefined;
    let material: TlsMaterial | undefined;
    if (options.tls) {
      material = await generateTlsMaterial(dir);
      tlsPort = await freePort();
      const passwordFile = join(dir, 'passwords');
      let first = true;
      for (const [user, password] of Object.entries(options.tls.users)) {
        await run('mosquitto_passwd', [...(first ? ['-c'] : []), '-b', passwordFile, user, password]);
        first = false;
      }
      lines.push(
        `listener ${tlsPort} 127.0.0.1`,
        'allow_anonymous false',
        `password_file ${passwordFile}`,
        `cafile ${material.caFile}`,
        `certfile ${material.serverCertFile}`,
        `keyfile ${material.serverKeyFile}`,
        'require_certificate true',
      );
    }
    const configFile = join(dir, 'mosquitto.conf');
    await writeFile(configFile, `${lines.join('\n')}\n`);
    const broker = new Mosquitto(dir, port, tlsPort, material, configFile);
    await broker.launch();
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get tlsUrl(): string {
    return `mqtts://127.0.0.1:${this.tlsPort}`;
  }

  private async launch(): Promise<void> {
    const child = spawn(MOSQUITTO_BIN, ['-c', this.configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.process = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await Promise.all([
      waitForPort(this.port, 5000),
      ...(this.tlsPort ? [waitForPort(this.tlsPort, 5000)] : []),
    ]).catch((error: Error) => {
      throw new Error(`${error.message}\n${this.stderr}`);
    });
  }

  /** SIGTERM: mosquitto saves its persistence file (sessions, retained) and exits. */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGTERM');
    await this.exited;
  }

  /** Starts again on the same ports with the same config (and persisted state). */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
