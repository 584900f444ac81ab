import type { MockBillJson } from '../../src/emulators/bridge/index.js';

/**
 * Valid `/api/v2` BILLs in bulk for the bench and the chaos suite. Every bill's first product is named
 * after the bill (`Счёт <id> · 1`), so a fiscal document on the register tells which bill it is for
 * without the agent's help; `summ` is exactly Σ price × quantity (whole quantities, kopeck prices).
 */

export const BILL_NAME_PREFIX = 'Счёт ';

/** The bill id a receipt item name (`Счёт 123 · 1`) belongs to, if it is one of ours. */
export function billIdOfItemName(name: string): string | undefined {
  const found = /^Счёт (\S+) · \d+$/.exec(name);
  return found?.[1];
}

export function bridgeBill(
  id: number,
  options: { positions?: number; date?: string; legalEntity?: boolean } = {},
): MockBillJson {
  const positions = options.positions ?? 1 + (id % 3);
  const rates = ['Без НДС', '22%', '10%', '0%', '22%'];
  let summKop = 0;
  const products = Array.from({ length: positions }, (_, j) => {
    const priceKop = 1_000 + ((id * 37 + j * 101) % 90_000);
    const quantity = 1 + ((id + j) % 3);
    summKop += priceKop * quantity;
    return {
      id: id * 100 + j,
      type: 'NORMAL',
      price: priceKop / 100,
      taxrate: rates[(id + j) % rates.length]!,
      itemType: 1,
      prodname: `${BILL_NAME_PREFIX}${id} · ${j + 1}`,
      quantity,
      unitname: 'Штука',
    };
  });
  return {
    id,
    date: options.date ?? '2026-11-21 12:00:00',
    summ: summKop / 100,
    number: `CH-${id}`,
    customer: {
      id: 7,
      inn: '',
      kpp: '',
      reg: '',
      name: 'Покупатель ',
      okpo: '',
      fullname: 'Покупатель ',
      legalentity: false,
    },
    products,
    prepayment: 0,
    prepaymentEnable: true,
  };
}

/** `count` bills with ids `firstId`, `firstId + 1`, … */
export function bridgeBills(count: number, firstId = 100_001): MockBillJson[] {
  return Array.from({ length: count }, (_, i) => bridgeBill(firstId + i));
}
