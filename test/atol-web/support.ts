import { randomUUID } from 'node:crypto';
import type { ReceiptInput } from '../../src/drivers/atol/receipt.js';
import { AtolWebKkt, type AtolWebKktOptions } from '../../src/drivers/atol/web/index.js';
import type { JournalEntry } from '../../src/emulators/atol/index.js';
import {
  type AtolWebEmulator,
  type AtolWebEmulatorOptions,
  startAtolWebEmulator,
  type WebRequestEvent,
} from '../../src/emulators/atol/web/index.js';

export const TZ = 'Europe/Moscow';

export interface WebHarness {
  web: AtolWebEmulator;
  /** Every fiscal document the register made, in order, as its journal records them. */
  documents: JournalEntry[];
  receipts(): JournalEntry[];
  /** Bugs the facade or the register reported while running (tests expect none). */
  warnings: Error[];
  /** Web faults that fired, by name. */
  faults: string[];
  /** Every HTTP request the facade answered (or cut). */
  requests: WebRequestEvent[];
}

/** The web facade on a free port, in front of a fresh in-memory register with fast reports. */
export async function startWeb(options: AtolWebEmulatorOptions = {}): Promise<WebHarness> {
  const web = await startAtolWebEmulator({
    port: 0,
    register: { port: 0, persist: false, timeZone: TZ, asyncLatencyMs: 0, zReportStepMs: 20, xReportMs: 20 },
    ...options,
  });
  const documents: JournalEntry[] = [];
  const warnings: Error[] = [];
  const faults: string[] = [];
  const requests: WebRequestEvent[] = [];
  web.on('fault', (event) => faults.push(event.name));
  web.on('request', (event) => requests.push(event));
  web.register.on('document', (entry) => documents.push(entry));
  web.on('warning', (error) => warnings.push(error));
  web.register.on('warning', (error) => warnings.push(error));
  return {
    web,
    documents,
    warnings,
    faults,
    requests,
    receipts: () => documents.filter((d) => d.kind === 'receipt'),
  };
}

/** The backend with quick polling and short timeouts, no background reconnects. */
export function webKkt(web: AtolWebEmulator, options: AtolWebKktOptions = {}): AtolWebKkt {
  return new AtolWebKkt({
    url: web.url,
    pollIntervalMs: 10,
    requestTimeoutMs: 2000,
    connectTimeoutMs: 1000,
    taskTimeoutMs: 5000,
    timeZone: TZ,
    reconnect: { enabled: false },
    ...options,
  });
}

export function coffeeReceipt(marker?: string): Omit<ReceiptInput, 'type'> {
  return {
    taxationType: 'usnIncome',
    operator: { name: 'Иванова А.С.' },
    items: [
      {
        type: 'position',
        name: 'Капучино 300 мл',
        priceKop: 18_000,
        quantityMilli: 2000,
        amountKop: 36_000,
        tax: { type: 'none' },
      },
      {
        type: 'position',
        name: 'Круассан',
        priceKop: 9550,
        quantityMilli: 1000,
        amountKop: 9550,
        tax: { type: 'vat20' },
      },
    ],
    payments: [{ type: 'electronically', sumKop: 45_550 }],
    totalKop: 45_550,
    ...(marker ? { marker } : {}),
  };
}

/** `getFnDocument` straight from the facade, as the driver's JSON answers it. */
export async function fnDocumentTlv(web: AtolWebEmulator, number: number): Promise<Record<string, unknown>> {
  const uuid = randomUUID();
  await fetch(`${web.url}/api/v2/requests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ uuid, request: [{ type: 'getFnDocument', fiscalDocumentNumber: number }] }),
  });
  for (;;) {
    const answer = (await (await fetch(`${web.url}/api/v2/requests/${uuid}`)).json()) as {
      results: Array<{ status: string; result?: { documentTLV: Record<string, unknown> } }>;
    };
    const [first] = answer.results;
    if (first?.status === 'ready') return first.result!.documentTLV;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * One `atol-web` device `kkt` on the emulator's web server, with quick polls and reconnects for tests;
 * `device` adds to or overrides its fields (its `localModule`…).
 */
export function webDeviceConfig(
  webUrl: string,
  device: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id: 'kkt',
    kind: 'atol-web',
    url: webUrl,
    pollIntervalMs: 20,
    requestTimeoutMs: 2000,
    taskTimeoutMs: 5000,
    markingCheckTimeoutMs: 3000,
    operator: { name: 'Кассир' },
    taxationType: 'osn',
    reconnect: { initialDelayMs: 100, maxDelayMs: 400 },
    ...device,
  };
}

/**
 * The config of an agent selling MoySklad retail demands on one `atol-web` device `kkt` (quick polls and
 * backoffs for tests); `device` adds to or overrides the device's fields (its `localModule`…).
 */
export function moyskladWebConfig(options: {
  webUrl: string;
  moyskladUrl: string;
  credentialsFile: string;
  device?: Record<string, unknown>;
}): Record<string, unknown> {
  return {
    timeZone: TZ,
    devices: [webDeviceConfig(options.webUrl, options.device)],
    fiscalizer: { retryDelayMs: 100, maxRetryDelayMs: 400 },
    outbox: { initialBackoffMs: 100, maxBackoffMs: 400 },
    connectors: {
      moysklad: [
        {
          id: 'shop',
          baseUrl: options.moyskladUrl,
          credentialsFile: options.credentialsFile,
          pollIntervalMs: 100,
          timeoutMs: 1000,
          retries: 1,
          retryDelayMs: 20,
          maxRetryDelayMs: 100,
          authRetryMs: 200,
          state: { enabled: false },
        },
      ],
    },
  };
}
