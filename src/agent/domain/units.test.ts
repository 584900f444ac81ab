import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.js';
import {
  MEASUREMENT_UNIT_NAMES,
  MEASUREMENT_UNITS,
  type MeasurementUnit,
  parseUnitName,
  unitFfdCode,
  unitFromFfdCode,
} from './units.js';

describe('measurement units (FFD 1.2 tag 2108)', () => {
  it('carries the FFD codes', () => {
    expect(MEASUREMENT_UNITS).toMatchObject({
      piece: 0,
      gram: 10,
      kilogram: 11,
      ton: 12,
      centimeter: 20,
      meter: 22,
      squareMeter: 32,
      milliliter: 40,
      liter: 41,
      cubicMeter: 42,
      kilowattHour: 50,
      gkal: 51,
      day: 70,
      second: 73,
      kilobyte: 80,
      terabyte: 83,
      otherUnits: 255,
    });
    expect(MEASUREMENT_UNIT_NAMES).toHaveLength(24);
    expect(new Set(Object.values(MEASUREMENT_UNITS)).size).toBe(24);
  });

  it('converts between names and codes', () => {
    expect(unitFfdCode('gram')).toBe(10);
    expect(unitFromFfdCode(41)).toBe('liter');
    expect(unitFromFfdCode(255)).toBe('otherUnits');
    expect(() => unitFromFfdCode(99, 'measure')).toThrow('measure: unknown measurement unit code 99');
  });
});

describe('parseUnitName', () => {
  it.each<[string, MeasurementUnit]>([
    ['Штука', 'piece'],
    ['шт', 'piece'],
    ['шт.', 'piece'],
    ['  ШТ. ', 'piece'],
    ['Грамм', 'gram'],
    ['г', 'gram'],
    ['гр.', 'gram'],
    ['Килограмм', 'kilogram'],
    ['кг', 'kilogram'],
    ['Литр', 'liter'],
    ['л', 'liter'],
    ['Миллилитр', 'milliliter'],
    ['мл', 'milliliter'],
    ['Метр', 'meter'],
    ['м', 'meter'],
    ['см', 'centimeter'],
    ['кв. м', 'squareMeter'],
    ['м²', 'squareMeter'],
    ['куб.м', 'cubicMeter'],
    ['м3', 'cubicMeter'],
    ['кВт·ч', 'kilowattHour'],
    ['кВт ч', 'kilowattHour'],
    ['Гкал', 'gkal'],
    ['сутки', 'day'],
    ['час', 'hour'],
    ['мин.', 'minute'],
    ['сек', 'second'],
    ['Мбайт', 'megabyte'],
    ['тонна', 'ton'],
    ['pcs', 'piece'],
    ['kg', 'kilogram'],
    ['meter', 'meter'],
    ['squareMeter', 'squareMeter'],
  ])('reads %j as %s', (text, unit) => {
    expect(parseUnitName(text)).toBe(unit);
  });

  it('reads every ATOL unit name as itself (no alias is claimed twice)', () => {
    for (const unit of MEASUREMENT_UNIT_NAMES) expect(parseUnitName(unit)).toBe(unit);
  });

  it.each(['', 'box', 'упаковка', 'пачка', 'штукенция', '10'])('rejects %j, naming the field', (text) => {
    expect(() => parseUnitName(text, 'products[0].unitname')).toThrow(ValidationError);
    expect(() => parseUnitName(text, 'products[0].unitname')).toThrow(
      `products[0].unitname: unknown measurement unit "${text}"`,
    );
  });
});
