import type httpModule from 'node:http';
import type httpsModule from 'node:https';
import { createRequire } from 'node:module';

/**
 * node:http and node:https for the HTTP clients, loaded through `require`. From Node 22 node:http carries
 * lazy `WebSocket`, `CloseEvent` and `MessageEvent` exports that load undici; an ESM `import` of a built-in
 * copies every export into its namespace and so loads undici too, which the agent avoids by not using fetch
 * (docs/BENCHMARKS.md, "Where idle memory goes"). `require` hands back the module object and touches none.
 */
const require = createRequire(import.meta.url);

export type Http = typeof httpModule;
export type Https = typeof httpsModule;

export function nodeHttp(): Http {
  return require('node:http') as Http;
}

export function nodeHttps(): Https {
  return require('node:https') as Https;
}
