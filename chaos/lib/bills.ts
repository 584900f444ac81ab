import { type Bill, buildBill, buildPosition, type VatType } from '../../src/agent/domain/index.js';
import { BILL_NAME_PREFIX } from '../../test/support/bridgeBills.js';

/** An internal Bill for MQTT `cmd/fiscalize`, its positions named after the bill like the bridge bills. */
export function mqttBill(id: number): Bill {
  const vats: VatType[] = ['vat0', 'none', 'vat10', 'vat22'];
  const positions = Array.from({ length: 1 + (id % 3) }, (_, j) =>
    buildPosition({
      name: `${BILL_NAME_PREFIX}${id} · ${j + 1}`,
      priceMinor: 1_000 + ((id * 37 + j * 101) % 90_000),
      quantityMilli: 1000 * (1 + ((id + j) % 3)),
      vat: vats[(id + j) % vats.length]!,
    }),
  );
  return buildBill({
    source: 'mqtt',
    account: 'chaos',
    billId: String(id),
    number: `MQ-${id}`,
    currency: 'RUB',
    positions,
    payments: id % 2 === 0 ? 'card' : 'cash',
  });
}
