import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { readFileIfExists, writeFileDurable } from '../../../lib/durableFile.js';
import { MoyskladCredentialsError } from './errors.js';
import { UUID_PATTERN } from './wire.js';

/**
 * The store token and cashier uid that `POST /admin/attach/{id}` returned, kept in a file of its own with
 * mode 0600 (the agent's config may be world-readable; this file must not be). Written by
 * `kkt-agent moysklad pair`, read by the connector at start and again when the token is refused.
 */

export const CREDENTIALS_VERSION = 1;

export const moyskladCredentialsSchema = z.strictObject({
  version: z.literal(CREDENTIALS_VERSION),
  baseUrl: z.url(),
  retailStore: z.strictObject({
    id: z.string().regex(UUID_PATTERN),
    name: z.string().max(512),
  }),
  organizationId: z.string().regex(UUID_PATTERN).optional(),
  token: z.string().regex(/^[0-9A-Za-z]{16,256}$/),
  cashierUid: z.string().min(1).max(256),
  attachedAt: z.string(),
});

export type MoyskladCredentials = z.infer<typeof moyskladCredentialsSchema>;

export async function writeCredentials(path: string, credentials: MoyskladCredentials): Promise<void> {
  const checked = moyskladCredentialsSchema.parse(credentials);
  await writeFileDurable(path, `${JSON.stringify(checked, null, 2)}\n`, { mode: 0o600 });
}

export interface LoadedCredentials {
  credentials: MoyskladCredentials;
  /** mtime + size: a cheap way to notice a re-pairing. */
  fingerprint: string;
  /** The file can be read by group or others (it should be 0600). */
  tooOpen: boolean;
}

export async function readCredentials(path: string): Promise<LoadedCredentials> {
  let text: string | undefined;
  try {
    text = await readFileIfExists(path);
  } catch (error) {
    throw new MoyskladCredentialsError(path, 'the file cannot be read', error);
  }
  if (text === undefined) throw new MoyskladCredentialsError(path, 'the file does not exist');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MoyskladCredentialsError(path, 'the file is not JSON', error);
  }
  const parsed = moyskladCredentialsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue ? issue.path.join('.') || '(root)' : '(root)';
    throw new MoyskladCredentialsError(path, `field ${field} is invalid`);
  }
  const info = await stat(path);
  return {
    credentials: parsed.data,
    fingerprint: `${info.mtimeMs}:${info.size}:${info.ino}`,
    tooOpen: (info.mode & 0o077) !== 0,
  };
}

/** The fingerprint only, undefined when the file is gone. */
export async function credentialsFingerprint(path: string): Promise<string | undefined> {
  try {
    const info = await stat(path);
    return `${info.mtimeMs}:${info.size}:${info.ino}`;
  } catch {
    return undefined;
  }
}
