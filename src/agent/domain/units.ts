import { ValidationError } from '../../lib/errors.js';

import { MEASUREMENT_UNIT_NAMES, MEASUREMENT_UNITS, type MeasurementUnit } from '../../lib/ffd.js';

export { MEASUREMENT_UNIT_NAMES, MEASUREMENT_UNITS, type MeasurementUnit };

export function isMeasurementUnit(value: unknown): value is MeasurementUnit {
  return typeof value === 'string' && Object.hasOwn(MEASUREMENT_UNITS, value);
}

/** The tag 2108 code written to the device. */
export function unitFfdCode(unit: MeasurementUnit): number {
  return MEASUREMENT_UNITS[unit];
}

export function unitFromFfdCode(code: number, field = 'unit'): MeasurementUnit {
  for (const name of MEASUREMENT_UNIT_NAMES) {
    if (MEASUREMENT_UNITS[name] === code) return name;
  }
  throw new ValidationError(field, `unknown measurement unit code ${code}`);
}

/*
 * Names as sources write them: the bridge's `unitname` ("Штука", "Грамм"), abbreviations as printed on
 * receipts ("шт.", "кг", "кв. м"), OX System's `unit` ("pcs", "kg", "meter") and ATOL's own names. Keys
 * are normalized by `unitKey`: lower case, "ё" → "е", no spaces, dots, "·", "*" or "-".
 */
const UNIT_ALIASES: Record<MeasurementUnit, readonly string[]> = {
  piece: ['шт', 'штука', 'штуки', 'штук', 'pcs', 'pc', 'piece'],
  gram: ['г', 'гр', 'грамм', 'граммы', 'граммов', 'g', 'gram'],
  kilogram: ['кг', 'килограмм', 'килограммы', 'килограммов', 'kg', 'kilogram'],
  ton: ['т', 'тонна', 'тонны', 'тонн', 't', 'ton'],
  centimeter: ['см', 'сантиметр', 'сантиметры', 'сантиметров', 'cm', 'centimeter'],
  decimeter: ['дм', 'дециметр', 'дециметры', 'дециметров', 'dm', 'decimeter'],
  meter: ['м', 'метр', 'метры', 'метров', 'm', 'meter'],
  squareCentimeter: ['квсм', 'см2', 'см²', 'квадратныйсантиметр', 'squarecentimeter'],
  squareDecimeter: ['квдм', 'дм2', 'дм²', 'квадратныйдециметр', 'squaredecimeter'],
  squareMeter: ['квм', 'м2', 'м²', 'квадратныйметр', 'squaremeter'],
  milliliter: ['мл', 'миллилитр', 'миллилитры', 'миллилитров', 'ml', 'milliliter'],
  liter: ['л', 'литр', 'литры', 'литров', 'l', 'liter'],
  cubicMeter: ['кубм', 'м3', 'м³', 'кубическийметр', 'cubicmeter'],
  kilowattHour: ['квтч', 'киловаттчас', 'kwh', 'kilowatthour'],
  gkal: ['гкал', 'гигакалория', 'gcal', 'gkal'],
  day: ['сут', 'сутки', 'день', 'дней', 'дн', 'day'],
  hour: ['ч', 'час', 'часы', 'часов', 'h', 'hour'],
  minute: ['мин', 'минута', 'минуты', 'минут', 'min', 'minute'],
  second: ['с', 'сек', 'секунда', 'секунды', 'секунд', 's', 'sec', 'second'],
  kilobyte: ['кбайт', 'кб', 'килобайт', 'kb', 'kilobyte'],
  megabyte: ['мбайт', 'мб', 'мегабайт', 'mb', 'megabyte'],
  gigabyte: ['гбайт', 'гб', 'гигабайт', 'gb', 'gigabyte'],
  terabyte: ['тбайт', 'тб', 'терабайт', 'tb', 'terabyte'],
  otherUnits: ['иные', 'иныеединицы', 'иныемеры', 'otherunits'],
};

function unitKey(text: string): string {
  return text
    .toLowerCase()
    .replace(/ё/g, 'е')
    .replace(/[\s.·⋅*-]+/g, '');
}

const UNIT_BY_KEY: ReadonlyMap<string, MeasurementUnit> = new Map(
  MEASUREMENT_UNIT_NAMES.flatMap((unit) =>
    UNIT_ALIASES[unit].map((alias) => [unitKey(alias), unit] as const),
  ),
);

/**
 * Maps a unit name or abbreviation to a unit ("Штука", "шт." → piece; "Грамм", "г" → gram; "кВт·ч" →
 * kilowattHour). Unknown names throw ValidationError; the caller decides whether to default to `piece`.
 */
export function parseUnitName(text: string, field = 'unit'): MeasurementUnit {
  const unit = UNIT_BY_KEY.get(unitKey(text));
  if (unit === undefined) throw new ValidationError(field, `unknown measurement unit "${text}"`);
  return unit;
}
