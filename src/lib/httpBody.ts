export interface CappedBody {
  /** What was read: the whole body, or its head when the limit was passed while reading. */
  body: Buffer;
  /** Bytes declared (Content-Length over the limit) or counted. */
  bodyBytes: number;
  truncated: boolean;
}

/**
 * Reads a fetch response's body up to `limitBytes`, so a hostile or broken server cannot make the agent
 * buffer gigabytes. Past the limit (declared or counted) the stream is cancelled and `truncated` is set;
 * the head read so far is kept, because an error page's title is in its first bytes.
 */
export async function readBodyCapped(response: Response, limitBytes: number): Promise<CappedBody> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limitBytes) {
    await response.body?.cancel().catch(() => undefined);
    return { body: Buffer.alloc(0), bodyBytes: declared, truncated: true };
  }
  if (!response.body) return { body: Buffer.alloc(0), bodyBytes: 0, truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      await reader.cancel().catch(() => undefined);
      return { body: Buffer.concat(chunks), bodyBytes: total, truncated: true };
    }
    chunks.push(value);
  }
  return { body: Buffer.concat(chunks, total), bodyBytes: total, truncated: false };
}
