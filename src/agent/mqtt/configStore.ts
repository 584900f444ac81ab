import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { readFileIfExists, writeFileDurable } from '../../lib/durableFile.js';
import { type ErrorCode, errorMessage, KktAgentError } from '../../lib/errors.js';
import { parseWithSchema } from '../../lib/json.js';
import { type AgentConfig, configSchema, parseConfig } from '../config/config.js';

/**
 * How the config file and a remote config (MQTT `config/desired`) combine — docs/mqtt.md, "Remote config":
 *
 * - A remote config is a whole config, validated by the file's schema. It replaces the file's config
 *   while its version is higher than the file's `version`, except the local-only fields below, which
 *   always come from the file (a remote config naming them has them ignored, and is told so).
 * - The accepted remote config is kept in `<dataDir>/remote-config.json` (the file under /etc is read-only
 *   to the service) and used again at every start, until the file's `version` reaches or passes it.
 */

/** Fields only the file sets: where the data lives, the local control socket, the broker connection and its
 * signing key (a broker account must not be able to change who may reconfigure the box), the log file. */
export const LOCAL_ONLY_PATHS: ReadonlyArray<readonly string[]> = [
  ['dataDir'],
  ['control'],
  ['mqtt'],
  ['log', 'file'],
];

export const persistedRemoteConfigSchema = z.strictObject({
  version: z.number().int().min(1),
  receivedAt: z.string(),
  /** The desired config as received, minus local-only fields. Holds secrets: the file is 0600. */
  config: z.record(z.string(), z.unknown()),
  hash: z.string(),
});

export type PersistedRemoteConfig = z.output<typeof persistedRemoteConfigSchema>;

export class RemoteConfigFile {
  readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, 'remote-config.json');
  }

  async read(): Promise<PersistedRemoteConfig | undefined> {
    const text = await readFileIfExists(this.path);
    if (text === undefined) return undefined;
    return parseWithSchema(persistedRemoteConfigSchema, JSON.parse(text));
  }

  write(doc: PersistedRemoteConfig): Promise<void> {
    return writeFileDurable(this.path, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
  }
}

export interface StartupConfig {
  /** The config the agent runs with. */
  config: AgentConfig;
  fileConfig: AgentConfig;
  source: 'file' | 'remote';
  version: number;
  /** The hash of the remote config in effect (source `remote`). */
  remoteHash?: string;
  /** Why a persisted remote config was not used, for the log. */
  notice?: { code: string; message: string };
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function getPath(root: unknown, path: readonly string[]): unknown {
  let node = root;
  for (const key of path) {
    if (!isObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

function deletePath(root: Json, path: readonly string[]): boolean {
  const parent = getPath(root, path.slice(0, -1));
  const key = path.at(-1)!;
  if (!isObject(parent) || !Object.hasOwn(parent, key)) return false;
  delete parent[key];
  return true;
}

function setPath(root: Json, path: readonly string[], value: unknown): void {
  let node: Json = root;
  for (const key of path.slice(0, -1)) {
    if (!Object.hasOwn(node, key)) node[key] = {};
    const next = node[key];
    // A non-object here is the remote config's mistake: validation reports it.
    if (!isObject(next)) return;
    node = next;
  }
  node[path.at(-1)!] = value;
}

/** The remote config without local-only fields, and the names of those it carried. */
export function stripLocalOnly(remote: Json): { config: Json; ignoredFields: string[] } {
  const config = structuredClone(remote);
  const ignoredFields: string[] = [];
  for (const path of LOCAL_ONLY_PATHS) if (deletePath(config, path)) ignoredFields.push(path.join('.'));
  delete config['version'];
  return { config, ignoredFields };
}

/**
 * The effective config of a remote config: its fields, the file's local-only fields, and the envelope's
 * version. Throws ConfigError (CONFIG_INVALID, naming the field) when the result fails the schema.
 */
export function combineConfigs(
  remote: Json,
  fileConfig: AgentConfig,
  version: number,
): { config: AgentConfig; ignoredFields: string[] } {
  const { config: merged, ignoredFields } = stripLocalOnly(remote);
  for (const path of LOCAL_ONLY_PATHS) {
    const local = getPath(fileConfig, path);
    if (local !== undefined) setPath(merged, path, structuredClone(local));
  }
  merged['version'] = version;
  return { config: parseConfig(merged, 'the remote config'), ignoredFields };
}

/** JSON with sorted keys, so equal configs hash equal whatever their key order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .filter((key) => value[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${stableJson(value[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function configHash(config: unknown): string {
  return createHash('sha256').update(stableJson(config)).digest('hex');
}

/**
 * Picks the config to start with: the persisted remote config when its version is above the file's and it
 * still validates (with this agent's schema), the file otherwise. Never throws for the remote part.
 */
export async function resolveStartupConfig(
  fileConfig: AgentConfig,
  store = new RemoteConfigFile(fileConfig.dataDir),
): Promise<StartupConfig> {
  const fromFile: StartupConfig = {
    config: fileConfig,
    fileConfig,
    source: 'file',
    version: fileConfig.version,
  };
  let remote: PersistedRemoteConfig | undefined;
  try {
    remote = await store.read();
  } catch (error) {
    return {
      ...fromFile,
      notice: {
        code: 'REMOTE_CONFIG_UNREADABLE' satisfies ErrorCode,
        message: `${store.path}: ${errorMessage(error)}`,
      },
    };
  }
  if (!remote) return fromFile;
  if (remote.version <= fileConfig.version) {
    return {
      ...fromFile,
      notice: {
        code: 'REMOTE_CONFIG_OLDER' satisfies ErrorCode,
        message: `The remote config version ${remote.version} is not above the file's version ${fileConfig.version}; the file is used.`,
      },
    };
  }
  try {
    const { config } = combineConfigs(remote.config, fileConfig, remote.version);
    return { config, fileConfig, source: 'remote', version: remote.version, remoteHash: remote.hash };
  } catch (error) {
    const code: ErrorCode = error instanceof KktAgentError ? error.code : 'CONFIG_INVALID';
    return { ...fromFile, notice: { code, message: errorMessage(error) } };
  }
}

/** Leaf paths whose values differ. Arrays count as one value (a changed list is one changed field). */
export function changedPaths(before: unknown, after: unknown, prefix: string[] = []): string[][] {
  if (isObject(before) && isObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].flatMap((key) => changedPaths(before[key], after[key], [...prefix, key]));
  }
  return stableJson(before) === stableJson(after) ? [] : [prefix];
}

interface SchemaNode {
  meta(): Record<string, unknown> | undefined;
  def: { type: string; innerType?: unknown; shape?: Record<string, unknown> };
}

const isSchemaNode = (value: unknown): value is SchemaNode =>
  typeof value === 'object' && value !== null && 'def' in value && 'meta' in value;

/** Paths of the fields marked `.meta({ restartRequired: true })` in a zod object schema (nested objects included). */
export function restartRequiredPaths(schema: unknown = configSchema, prefix: string[] = []): string[][] {
  let node: unknown = schema;
  // Unwrap default/optional/nullable, honouring a marker at any wrapper level.
  while (isSchemaNode(node)) {
    if (node.meta()?.['restartRequired'] === true) return [prefix];
    if (['default', 'optional', 'nullable', 'prefault'].includes(node.def.type)) node = node.def.innerType;
    else break;
  }
  if (!isSchemaNode(node) || node.def.type !== 'object' || !node.def.shape) return [];
  return Object.entries(node.def.shape).flatMap(([key, child]) =>
    restartRequiredPaths(child, [...prefix, key]),
  );
}

const startsWith = (path: readonly string[], prefix: readonly string[]) =>
  prefix.length <= path.length && prefix.every((key, i) => path[i] === key);

export interface ChangePlan {
  /** True when the change cannot be applied in the running process. */
  restart: boolean;
  /** Changed fields that force the restart. */
  restartFields: string[];
  /** Changed fields a live applier handles. */
  liveFields: string[];
}

/**
 * The rule: a changed field under a `restartRequired` marker forces a restart; any other changed field is
 * applied live when a live applier claims it, and forces a restart when none does (it is read only at start).
 */
export function planChange(
  changed: readonly string[][],
  livePaths: ReadonlyArray<readonly string[]>,
  restartPaths: ReadonlyArray<readonly string[]> = restartRequiredPaths(),
): ChangePlan {
  const restartFields: string[] = [];
  const liveFields: string[] = [];
  for (const path of changed) {
    const marked = restartPaths.some((prefix) => startsWith(path, prefix));
    const live = !marked && livePaths.some((prefix) => startsWith(path, prefix));
    (live ? liveFields : restartFields).push(path.join('.'));
  }
  return { restart: restartFields.length > 0, restartFields, liveFields };
}

export { startsWith as pathStartsWith };
