import type { LevelWithSilent, Logger } from 'pino';
import type { AgentConfig } from '../config/config.js';
import type { AgentLogger } from '../logging.js';

/** Applies part of a new config to the running agent. `paths` are the fields it owns (prefixes). */
export interface LiveApplier {
  readonly name: string;
  readonly paths: ReadonlyArray<readonly string[]>;
  apply(config: AgentConfig): void | Promise<void>;
}

export interface LiveLogger extends AgentLogger {
  /** Changes the root and every module logger created so far (and later) to the given levels. */
  setLevels(level: LevelWithSilent, modules: Record<string, LevelWithSilent>): void;
}

/**
 * Wraps the agent's logger so log levels can change while it runs: module loggers are remembered (weakly)
 * when created and re-levelled on `setLevels`. Children those loggers made earlier keep their level.
 */
export function withLiveLevels(
  log: AgentLogger,
  initial: { level: LevelWithSilent; modules: Record<string, LevelWithSilent> },
): LiveLogger {
  let levels = { level: initial.level, modules: { ...initial.modules } };
  const modules: Array<{ name: string; logger: WeakRef<Logger> }> = [];
  return {
    root: log.root,
    flush: () => log.flush(),
    module(name, bindings) {
      const logger = log.module(name, bindings);
      logger.level = levels.modules[name] ?? levels.level;
      modules.push({ name, logger: new WeakRef(logger) });
      return logger;
    },
    setLevels(level, moduleLevels) {
      levels = { level, modules: { ...moduleLevels } };
      log.root.level = level;
      for (let i = modules.length - 1; i >= 0; i--) {
        const entry = modules[i]!;
        const logger = entry.logger.deref();
        if (logger) logger.level = levels.modules[entry.name] ?? level;
        else modules.splice(i, 1);
      }
    },
  };
}

/** The live applier of `log.level` and `log.modules`. */
export function logLevelApplier(log: LiveLogger): LiveApplier {
  return {
    name: 'log-levels',
    paths: [
      ['log', 'level'],
      ['log', 'modules'],
    ],
    apply: (config) => log.setLevels(config.log.level, config.log.modules),
  };
}

/** `version` alone changing needs nothing done. */
export const versionApplier: LiveApplier = { name: 'version', paths: [['version']], apply: () => undefined };
