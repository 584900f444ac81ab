/** ATOL model codes (the `A5` model byte) with line widths (docs/protocol/atol-v3.md §11). */
export interface ModelInfo {
  name: string;
  platform: '2.5' | '5.0';
  lineWidth?: number;
}

export const MODELS: ReadonlyMap<number, ModelInfo> = new Map([
  [57, { name: 'АТОЛ 25Ф', platform: '2.5', lineWidth: 48 }],
  [61, { name: 'АТОЛ 30Ф', platform: '2.5', lineWidth: 32 }],
  [62, { name: 'АТОЛ 55Ф', platform: '2.5', lineWidth: 36 }],
  [63, { name: 'АТОЛ 22Ф', platform: '2.5', lineWidth: 48 }],
  [64, { name: 'АТОЛ 52Ф', platform: '2.5', lineWidth: 36 }],
  [67, { name: 'АТОЛ 11Ф', platform: '2.5', lineWidth: 32 }],
  [69, { name: 'АТОЛ 77Ф', platform: '2.5', lineWidth: 48 }],
  [77, { name: 'АТОЛ 42ФС', platform: '2.5', lineWidth: 32 }],
  [78, { name: 'АТОЛ 15Ф', platform: '2.5', lineWidth: 32 }],
  [80, { name: 'АТОЛ 50Ф', platform: '5.0' }],
  [81, { name: 'АТОЛ 20Ф', platform: '2.5', lineWidth: 48 }],
  [82, { name: 'АТОЛ 91Ф', platform: '2.5', lineWidth: 32 }],
  [84, { name: 'АТОЛ 92Ф', platform: '2.5' }],
  [86, { name: 'АТОЛ Sigma 10', platform: '5.0' }],
  [87, { name: 'АТОЛ 27Ф', platform: '5.0' }],
  [90, { name: 'АТОЛ Sigma 7Ф', platform: '5.0' }],
  [91, { name: 'АТОЛ Sigma 8Ф', platform: '5.0' }],
  [93, { name: 'АТОЛ 1Ф', platform: '5.0' }],
  [95, { name: 'АТОЛ 22 v2 Ф', platform: '5.0' }],
  [96, { name: 'АТОЛ 2Ф', platform: '5.0' }],
  [97, { name: 'АТОЛ 35Ф', platform: '5.0' }],
  [99, { name: 'АТОЛ 27 FP7 Ф', platform: '5.0' }],
]);
