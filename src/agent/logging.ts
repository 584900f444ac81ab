import pino, { type LevelWithSilent, type Logger, type StreamEntry } from 'pino';
import pretty from 'pino-pretty';
import { LogFile } from './logFile.js';

/**
 * Keys whose values never reach a log: credentials and customer contacts. Each event logs facts (ids,
 * codes, counts), so these should not appear at all; redaction is the safety net.
 */
const REDACTED_KEYS = [
  'token',
  'password',
  'pin',
  'secret',
  'authorization',
  'auth',
  'emailOrPhone',
  'email',
  'phone',
  'customer',
];

/** Each key at the top level and up to three levels down (pino's `*` matches one level). */
export const REDACTED_PATHS = REDACTED_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]);

export interface LoggingOptions {
  level: LevelWithSilent;
  /** Levels per module (`kkt`, `outbox`, `connector`…), applied to child loggers. */
  modules?: Record<string, LevelWithSilent>;
  /** Human-readable output; default: when stdout is a terminal. */
  pretty?: boolean;
  /** A rotating log file for systems without journald: the named file, rotated beside it (`<path>.1`…). */
  file?: { path: string; maxSizeMb: number; keep: number };
  /** Where JSON lines go (default stdout, written synchronously so journald gets every line). */
  destination?: NodeJS.WritableStream;
}

const LEVEL_ORDER: LevelWithSilent[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** The most verbose of several levels: the root must let through what any module wants. */
function mostVerbose(levels: LevelWithSilent[]): LevelWithSilent {
  return levels.reduce((a, b) => (LEVEL_ORDER.indexOf(a) <= LEVEL_ORDER.indexOf(b) ? a : b));
}

export interface AgentLogger {
  root: Logger;
  /** A child logger for a module, at that module's configured level. */
  module(name: string, bindings?: Record<string, unknown>): Logger;
  flush(): Promise<void>;
}

/** The logger the daemon owns: also its log file's life cycle. */
export interface DaemonLogger extends AgentLogger {
  /** Starts the log file again at its path (SIGHUP after logrotate moved it); false without a log file. */
  reopenFile(): Promise<boolean>;
  /** Closes the log file after what was written has reached it (the last thing a stopping daemon does). */
  close(): Promise<void>;
}

export function createLogger(options: LoggingOptions): DaemonLogger {
  const modules = options.modules ?? {};
  const rootLevel = mostVerbose([options.level, ...Object.values(modules)]);
  const streams: StreamEntry[] = [];
  const usePretty = options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true);
  if (usePretty) {
    streams.push({
      level: 'trace',
      stream: pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }),
    });
  } else {
    streams.push({ level: 'trace', stream: options.destination ?? pino.destination({ fd: 1, sync: true }) });
  }
  let file: LogFile | undefined;
  if (options.file) {
    file = new LogFile({
      path: options.file.path,
      maxSizeBytes: options.file.maxSizeMb * 1024 * 1024,
      keep: options.file.keep,
      // Said where the other logs still go (stdout, journald); never through the failing file.
      onError: (error) =>
        process.stderr.write(
          `${JSON.stringify({ level: 50, time: new Date().toISOString(), event: 'log.file-failed', path: options.file?.path, reason: error.message })}\n`,
        ),
    });
    streams.push({ level: 'trace', stream: file });
  }
  const root = pino(
    {
      level: rootLevel,
      base: { pid: process.pid },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.multistream(streams),
  );
  const rootOnly = root.child({}, { level: options.level });
  return {
    root: rootOnly,
    module: (name, bindings = {}) =>
      root.child({ module: name, ...bindings }, { level: modules[name] ?? options.level }),
    flush: () => new Promise((resolve) => root.flush(() => resolve())),
    reopenFile: async () => {
      if (!file) return false;
      await file.reopen();
      return true;
    },
    close: async () => {
      if (!file || file.writableFinished) return;
      const closing = file;
      await new Promise<void>((resolve) => closing.end(() => resolve()));
    },
  };
}
