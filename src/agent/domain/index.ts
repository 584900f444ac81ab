export * from './bill.js';
export * from './marking.js';
export * from './money.js';
export * from './payment.js';
export * from './quantity.js';
export * from './units.js';
export * from './vat.js';
export * from './vatRules.js';
