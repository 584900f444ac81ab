import { z } from 'zod';
import { LosslessNumber, stringifyJsonLossless } from '../../../lib/json.js';
import { formatMoney, formatQuantity } from '../../domain/index.js';
import { shiftChequeSchema } from './shifts.js';
import { syncMeta } from './wire.js';

/**
 * The reports the sink drafts, and how each becomes a posap body at delivery. A draft holds everything
 * decided once (syncIds, moments, fiscal data, amounts in kopecks and thousandths); rendering only adds the
 * base URL to hrefs and writes numbers in their wire form, so every retry sends the very same document.
 */

export const REPORT_KINDS = {
  openShift: 'moysklad.openShift',
  closeShift: 'moysklad.closeShift',
  retailDemand: 'moysklad.retailDemand',
  approve: 'moysklad.approve',
  reject: 'moysklad.reject',
} as const;

const plainMeta = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));

/** Which shift a report belongs to. `syncId` is known when drafted after start; otherwise found at delivery. */
export const shiftRefSchema = z.strictObject({
  deviceId: z.string(),
  number: z.number().int().min(0).optional(),
  fnNumber: z.string().optional(),
  syncId: z.string().optional(),
});
export type ShiftRef = z.infer<typeof shiftRefSchema>;

export const openShiftDraftSchema = z.strictObject({
  account: z.string(),
  shift: shiftRefSchema.required({ syncId: true, number: true }),
  name: z.string(),
  openmoment: z.string(),
  start: shiftChequeSchema,
  adopted: z.boolean(),
});
export type OpenShiftDraft = z.infer<typeof openShiftDraftSchema>;

export const shiftEndSchema = shiftChequeSchema.extend({
  chequesTotal: z.number().int().min(0).optional(),
  fiscalDocsTotal: z.number().int().min(0).optional(),
});

export const closeShiftDraftSchema = z.strictObject({
  account: z.string(),
  shift: shiftRefSchema,
  closemoment: z.string(),
  /** What the shift's open said, when known at draft time (else taken from the shift registry). */
  start: shiftChequeSchema.optional(),
  end: shiftEndSchema,
});
export type CloseShiftDraft = z.infer<typeof closeShiftDraftSchema>;

/** `cheque{…}` of a sale or an approve (B.6), with the sum in kopecks until rendering. */
export const chequeDraftSchema = z.strictObject({
  fiscal: z.boolean(),
  online: z.boolean(),
  printed: z.boolean(),
  number: z.string().optional(),
  sumKop: z.number().int().min(0),
  fnNumber: z.string().optional(),
  fiscalDocSign: z.string().optional(),
  fiscalDocNumber: z.string().optional(),
  time: z.string(),
});
export type ChequeDraft = z.infer<typeof chequeDraftSchema>;

export const chequePrinterSchema = z.strictObject({
  vendor: z.string().optional(),
  name: z.string(),
  serial: z.string().optional(),
  fiscalDataVersion: z.string().optional(),
  driver: z.strictObject({ name: z.string(), version: z.string().optional() }).optional(),
  fiscalMemory: z.strictObject({ fiscalDataVersion: z.string().optional() }).optional(),
  firmwareVersion: z.string().optional(),
});
export type ChequePrinter = z.infer<typeof chequePrinterSchema>;

export const retailDemandDraftSchema = z.strictObject({
  account: z.string(),
  billId: z.string(),
  syncId: z.string(),
  shift: shiftRefSchema,
  name: z.string(),
  moment: z.string(),
  customerOrder: plainMeta,
  agent: plainMeta.optional(),
  vatEnabled: z.boolean(),
  positions: z
    .array(
      z.strictObject({
        assortment: plainMeta,
        quantityMilli: z.number().int().min(1),
        priceKop: z.number().int().min(0),
        vat: z.number().int().min(0).max(100),
        vatEnabled: z.boolean(),
      }),
    )
    .min(1),
  cashSumKop: z.number().int().min(0),
  noCashSumKop: z.number().int().min(0),
  taxSystem: z.string().optional(),
  cheque: chequeDraftSchema,
  chequePrinter: chequePrinterSchema.optional(),
});
export type RetailDemandDraft = z.infer<typeof retailDemandDraftSchema>;

export const approveDraftSchema = z.strictObject({
  account: z.string(),
  billId: z.string(),
  operation: plainMeta,
  shift: shiftRefSchema,
  cheque: chequeDraftSchema,
  chequePrinter: chequePrinterSchema.optional(),
  taxSystem: z.string().optional(),
});
export type ApproveDraft = z.infer<typeof approveDraftSchema>;

export const rejectDraftSchema = z.strictObject({
  account: z.string(),
  billId: z.string(),
  operation: plainMeta,
  fiscalErrMsg: z.string(),
});
export type RejectDraft = z.infer<typeof rejectDraftSchema>;

// --- rendering --------------------------------------------------------------------------------------------

export interface RenderContext {
  baseUrl: string;
  chequeSumUnit: 'kopecks' | 'rubles';
}

const shiftMeta = (context: RenderContext, syncId: string) => ({
  meta: syncMeta(context.baseUrl, 'retailshift', syncId),
});

function renderCheque(cheque: ChequeDraft, context: RenderContext): Record<string, unknown> {
  const { sumKop, ...rest } = cheque;
  // Every posap sum is kopecks (18000 "counts in kopecks"); the doc's cheque.sum example looks like rubles.
  const sum = context.chequeSumUnit === 'rubles' ? new LosslessNumber(formatMoney(sumKop, 'RUB')) : sumKop;
  return { ...rest, sum };
}

export function renderOpenShift(draft: OpenShiftDraft, context: RenderContext): string {
  return stringifyJsonLossless({
    retailShift: shiftMeta(context, draft.shift.syncId),
    name: draft.name,
    openmoment: draft.openmoment,
    cheque: { start: draft.start },
  });
}

export function renderCloseShift(
  draft: CloseShiftDraft,
  syncId: string,
  start: z.infer<typeof shiftChequeSchema> | undefined,
  context: RenderContext,
): string {
  return stringifyJsonLossless({
    retailShift: shiftMeta(context, syncId),
    closemoment: draft.closemoment,
    cheque: { ...(start ? { start } : {}), end: draft.end },
  });
}

export function renderRetailDemand(
  draft: RetailDemandDraft,
  shiftSyncId: string,
  context: RenderContext,
): string {
  const body: Record<string, unknown> = {
    meta: syncMeta(context.baseUrl, 'retaildemand', draft.syncId),
    retailShift: shiftMeta(context, shiftSyncId),
    name: draft.name,
    moment: draft.moment,
    customerOrder: { meta: draft.customerOrder },
    positions: draft.positions.map((position) => ({
      assortment: { meta: position.assortment },
      quantity: new LosslessNumber(formatQuantity(position.quantityMilli)),
      price: position.priceKop,
      // The price already is the discounted one the receipt shows.
      discount: 0,
      vat: position.vat,
      vatEnabled: position.vatEnabled,
    })),
    cashSum: draft.cashSumKop,
    noCashSum: draft.noCashSumKop,
    qrSum: 0,
    vatEnabled: draft.vatEnabled,
    vatIncluded: true,
    cheque: renderCheque(draft.cheque, context),
  };
  if (draft.agent) body.agent = { meta: draft.agent };
  if (draft.taxSystem) body.taxSystem = draft.taxSystem;
  if (draft.chequePrinter) body.environment = { chequePrinter: draft.chequePrinter };
  return stringifyJsonLossless(body);
}

export function renderApprove(draft: ApproveDraft, shiftSyncId: string, context: RenderContext): string {
  const body: Record<string, unknown> = {
    meta: draft.operation,
    cheque: renderCheque(draft.cheque, context),
    retailShift: shiftMeta(context, shiftSyncId),
  };
  if (draft.chequePrinter) body.chequePrinter = draft.chequePrinter;
  if (draft.taxSystem) body.taxSystem = draft.taxSystem;
  return stringifyJsonLossless(body);
}

export function renderReject(draft: RejectDraft): string {
  return stringifyJsonLossless({ meta: draft.operation, fiscalErrMsg: draft.fiscalErrMsg });
}
