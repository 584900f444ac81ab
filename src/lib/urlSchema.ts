import { z } from 'zod';

export interface UrlSchemaOptions {
  /** Allowed schemes without the colon: `['http', 'https']`. */
  protocols: readonly string[];
  /** Where credentials belong instead of the URL, for the message (`auth`, `postToken`…). */
  credentialsGoIn: string;
  allowQuery?: boolean;
}

/**
 * A URL in a config file: parsed without throwing (a bad one is an issue on its field, never an escaped
 * TypeError), with an allowed scheme, a host, no credentials inside it and, unless allowed, no query.
 */
export function urlSchema(options: UrlSchemaOptions) {
  const schemes = options.protocols.map((p) => `${p}://`).join(', ');
  return z.string().superRefine((text, ctx) => {
    const fail = (message: string) => ctx.addIssue({ code: 'custom', message });
    if (!URL.canParse(text)) return fail(`expected a URL (${schemes})`);
    const url = new URL(text);
    if (!options.protocols.includes(url.protocol.slice(0, -1))) return fail(`expected a URL (${schemes})`);
    if (url.hostname === '') return fail('the URL has no host');
    if (url.username !== '' || url.password !== '')
      return fail(`put credentials in \`${options.credentialsGoIn}\`, not in the URL`);
    if (!options.allowQuery && url.search !== '') return fail('the URL must not have a query');
  });
}
