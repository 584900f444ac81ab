import { z } from 'zod';
import type { ErrorCode } from '../../lib/errors.js';

/**
 * The control protocol between the `kkt-agent` CLI and the running daemon: one JSON object per line over
 * a unix socket. Requests carry an id; the answer echoes it.
 */
export const controlRequestSchema = z.object({
  id: z.union([z.string(), z.number()]),
  method: z.string().min(1).max(64),
  params: z.record(z.string(), z.unknown()).default({}),
});

export type ControlRequest = z.infer<typeof controlRequestSchema>;

export type ControlResponse =
  | { id: string | number | null; ok: true; result: unknown }
  | { id: string | number | null; ok: false; error: { code: ErrorCode; message: string; details?: unknown } };

/** A line longer than this is refused: the control socket is for commands, not bulk data. */
export const MAX_CONTROL_LINE_BYTES = 1024 * 1024;
