import { MODELS } from '../../drivers/atol/models.js';
import { EmulatorConfigError } from './errors.js';

/** A register model the emulator can pretend to be: platform 2.5 models with a known line width. */
export interface EmulatedModel {
  /** The `A5` model byte. */
  code: number;
  /** The name `A5` reports, e.g. "АТОЛ 30Ф". */
  name: string;
  /** Characters per receipt line (register 0x18, and the width of rendered printouts). */
  lineWidth: number;
}

export const DEFAULT_MODEL_CODE = 61;

/** The models of the driver's table that speak protocol v3 and have a known line width. */
export const EMULATED_MODELS: ReadonlyMap<number, EmulatedModel> = new Map(
  [...MODELS].flatMap(([code, info]) =>
    info.platform === '2.5' && info.lineWidth !== undefined
      ? [[code, { code, name: info.name, lineWidth: info.lineWidth }] as const]
      : [],
  ),
);

/** "30F", "30Ф", "АТОЛ 30Ф", "atol 30f" all name the same model. */
const normalise = (text: string) =>
  text
    .toLowerCase()
    .replace(/ф/g, 'f')
    .replace(/с/g, 's')
    .replace(/атол|atol|[\s_-]/g, '');

/**
 * Resolves a model given by code (61), by name ("30F", "АТОЛ 30Ф") or as a full description (a custom
 * model with its own code and line width).
 */
export function resolveModel(model: number | string | EmulatedModel | undefined): EmulatedModel {
  if (model === undefined) return EMULATED_MODELS.get(DEFAULT_MODEL_CODE)!;
  if (typeof model === 'object') return { ...model };
  if (typeof model === 'number' || /^\d+$/.test(model)) {
    const found = EMULATED_MODELS.get(Number(model));
    if (found) return found;
  } else {
    const wanted = normalise(model);
    for (const candidate of EMULATED_MODELS.values())
      if (normalise(candidate.name) === wanted) return candidate;
  }
  const known = [...EMULATED_MODELS.values()].map((m) => `${m.name} (${m.code})`).join(', ');
  throw new EmulatorConfigError('model', `unknown ATOL model "${model}"; emulated models: ${known}`);
}
