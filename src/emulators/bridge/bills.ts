/**
 * Bills the mock bridge serves. A bill is plain JSON in the `/api/v2` BILL shape
 * (docs/protocol/bridge-api-v2.md §3): the mock does not interpret it beyond the fields LIST shows, so a
 * broken bill is served as broken as it is.
 */

export type MockBillJson = { [key: string]: unknown };

/** Bills 346042 and 346044 of account 120, verbatim from the exchange log (seed 000). */
export const SEED_BILLS: readonly MockBillJson[] = Object.freeze([
  {
    id: 346042,
    date: '2025-12-14 16:56:32',
    summ: 15931,
    number: '1307620',
    customer: {
      id: 159550,
      inn: '',
      kpp: '',
      reg: '',
      name: 'Оксана Кокорина Викторовна ',
      okpo: '',
      fullname: 'Оксана Кокорина Викторовна ',
      legalentity: false,
    },
    products: [
      {
        id: 34847,
        type: 'NORMAL',
        price: 1037,
        taxrate: 'Без НДС',
        itemType: 1,
        prodname: 'Мезо-концентрат для кожи вокруг глаз / BTX Eyes Lift Booster, Skinasil (Скинасил) - 2 мл',
        quantity: 3,
        unitname: 'Штука',
      },
      {
        id: 34849,
        type: 'NORMAL',
        price: 3299,
        taxrate: 'Без НДС',
        itemType: 1,
        prodname: 'Мезобустер / Succinate Lift Booster 1,2%, Skinasil (Скинасил) - 2 мл',
        quantity: 2,
        unitname: 'Штука',
      },
      {
        id: 27142,
        type: 'NORMAL',
        price: 4812,
        taxrate: 'Без НДС',
        itemType: 1,
        prodname: 'Мезо-концентрат для лица ДМАЭ Лифт Гель / DMAE Lift Gel, Skinasil (Скинасил) - 2 мл',
        quantity: 1,
        unitname: 'Штука',
      },
      {
        id: 27976,
        type: 'NORMAL',
        price: 1410,
        taxrate: 'Без НДС',
        itemType: 1,
        prodname: 'NMF-Protection Cream / Крем восстанавливающий для лица, Mesoforia (Мезофория) - 30 мл',
        quantity: 1,
        unitname: 'Штука',
      },
    ],
    prepayment: 0,
    prepaymentEnable: true,
  },
  {
    id: 346044,
    date: '2025-12-14 17:19:17',
    summ: 3442.71,
    number: '1307622',
    customer: {
      id: 159550,
      inn: '',
      kpp: '',
      reg: '',
      name: 'Оксана Кокорина Викторовна ',
      okpo: '',
      fullname: 'Оксана Кокорина Викторовна ',
      legalentity: false,
    },
    products: [
      {
        id: 22436,
        type: 'NORMAL',
        price: 3442.71,
        taxrate: 'Без НДС',
        itemType: 1,
        prodname:
          'Крем пептидный интенсивный зимний / Intense Cold Cream, Nutri-Peptide, GiGi (Джи Джи) - 50 мл',
        quantity: 1,
        unitname: 'Штука',
      },
    ],
    prepayment: 0,
    prepaymentEnable: true,
  },
]);

const privateCustomer = (id: number, name: string): MockBillJson => ({
  id,
  inn: '',
  kpp: '',
  reg: '',
  name: `${name} `,
  okpo: '',
  fullname: `${name} `,
  legalentity: false,
});

const product = (
  id: number,
  prodname: string,
  price: number,
  quantity: number,
  taxrate: string,
  unitname: string,
): MockBillJson => ({ id, type: 'NORMAL', price, taxrate, itemType: 1, prodname, quantity, unitname });

/**
 * Synthetic bills dated `today` (`YYYY-MM-DD`, the bridge's local date) so that `LIST?date=today` finds
 * them: VAT 5 % by the gram, 7 and 22 % (docs/protocol/bridge-api-v2.md §5), goods by the kilogram at 22 and
 * 10 %, and a legal-entity buyer. Every `summ` is Σ price × quantity, so each one fiscalizes on a register
 * whose taxation system is УСН (5 % and 7 % are УСН rates; docs/money.md, "VAT by settlement date").
 */
export function syntheticBills(today: string): MockBillJson[] {
  const bill = (
    id: number,
    time: string,
    summ: number,
    customer: MockBillJson,
    products: MockBillJson[],
  ): MockBillJson => ({
    id,
    date: `${today} ${time}`,
    summ,
    number: `${id}-CRM`,
    customer,
    products,
    prepayment: 0,
    prepaymentEnable: true,
  });
  return [
    bill(7001, '11:05:00', 1049.75, privateCustomer(55, 'Пётр Иванов'), [
      product(901, 'Чай улун, развес', 12.35, 85, '5%', 'Грамм'),
    ]),
    bill(7002, '12:30:00', 752.52, privateCustomer(56, 'Анна Смирнова'), [
      product(902, 'Сыворотка с ниацинамидом, 30 мл', 215.5, 3, '7%', 'Штука'),
      product(903, 'Ватные диски', 6.03, 1, '22%', 'Штука'),
      product(904, 'Маска тканевая', 99.99, 1, '22%', 'Штука'),
    ]),
    bill(7003, '14:45:10', 696.64, privateCustomer(57, 'Игорь Петров'), [
      product(905, 'Кофе в зёрнах, развес', 1890, 0.25, '22%', 'Килограмм'),
      product(906, 'Сыр твёрдый, развес', 640.4, 0.35, '10%', 'Килограмм'),
    ]),
    bill(
      7004,
      '16:20:00',
      12000,
      {
        id: 58,
        inn: '7712345678',
        kpp: '771201001',
        reg: '1027700000000',
        name: 'ООО "Ромашка" ',
        okpo: '12345678',
        fullname: 'Общество с ограниченной ответственностью "Ромашка" ',
        legalentity: true,
      },
      [product(907, 'Набор профессиональной косметики', 6000, 2, '22%', 'Штука')],
    ),
  ];
}

export type FaultyBillKind = 'nonNumericPrice' | 'unknownTaxRate' | 'totalMismatch' | 'missingFields';

/**
 * A bill broken in one way, for fault-injection tests and demos. The agent must refuse it naming the field:
 * `products[0].price` (nonNumericPrice, missingFields), `products[0].taxrate`, or `summ`.
 */
export function faultyBill(
  kind: FaultyBillKind,
  options: { id: number; number?: string; date: string },
): MockBillJson {
  const good = (price: unknown, taxrate: string): MockBillJson => ({
    id: options.id * 10,
    type: 'NORMAL',
    price,
    taxrate,
    itemType: 1,
    prodname: 'Крем для рук, 50 мл',
    quantity: 2,
    unitname: 'Штука',
  });
  const base = {
    id: options.id,
    date: options.date,
    number: options.number ?? `${options.id}-BAD`,
    customer: privateCustomer(99, 'Тест Тестов'),
    prepayment: 0,
    prepaymentEnable: true,
  };
  switch (kind) {
    case 'nonNumericPrice':
      return { ...base, summ: 500, products: [good('двести пятьдесят', '20%')] };
    case 'unknownTaxRate':
      return { ...base, summ: 500, products: [good(250, '18%')] };
    case 'totalMismatch':
      return { ...base, summ: 500.01, products: [good(250, '20%')] };
    case 'missingFields': {
      const { price: _price, taxrate: _taxrate, ...incomplete } = good(250, '20%');
      return { ...base, summ: 500, products: [incomplete] };
    }
  }
}
