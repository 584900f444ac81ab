import { ValidationError } from '../../lib/errors.js';

/** The vendor's documented HTTP port and path: `http://<device-ip>:37015/v1`. */
export const SMARTX_HTTP_PORT = 37015;
export const SMARTX_PATH = '/v1';

/**
 * The endpoint for a configured address. `http://192.168.1.2:37015` and `http://192.168.1.2:37015/v1` both
 * mean the same terminal; a bare host gets the documented port.
 */
export function endpointFromBaseUrl(baseUrl: string, field = 'baseUrl'): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(baseUrl) ? baseUrl : `http://${baseUrl}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ValidationError(
      field,
      `"${baseUrl}" is not a URL (expected e.g. http://192.168.1.2:${SMARTX_HTTP_PORT})`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationError(field, `"${baseUrl}" must be an http:// address`);
  }
  // URL drops a scheme's default port (":80"), so look at the text to tell "no port" from "port 80".
  const explicitPort = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^/:?#]*):\d+/i.test(withScheme);
  if (!explicitPort) url.port = String(SMARTX_HTTP_PORT);
  if (url.pathname === '' || url.pathname === '/') url.pathname = SMARTX_PATH;
  return url.toString();
}

/**
 * The endpoint for an SSDP reply: LOCATION's origin plus `/v1` (LOCATION evidently names the server root,
 * `http://<ip>:37015`), or the sender's address on the documented port when LOCATION is missing or invalid.
 */
export function endpointFromReply(location: string | undefined, senderAddress: string): string {
  if (location) {
    try {
      const url = new URL(location);
      if (url.protocol === 'http:' || url.protocol === 'https:') return `${url.origin}${SMARTX_PATH}`;
    } catch {
      // Fall through to the sender's address.
    }
  }
  const host = senderAddress.includes(':') ? `[${senderAddress}]` : senderAddress;
  return `http://${host}:${SMARTX_HTTP_PORT}${SMARTX_PATH}`;
}
