export { type FaultyBillKind, faultyBill, type MockBillJson, SEED_BILLS, syntheticBills } from './bills.js';
export {
  type MockBridge,
  type MockBridgeAuth,
  type MockBridgeEndpoint,
  type MockBridgeEvents,
  type MockBridgeFault,
  type MockBridgeOptions,
  type MockBridgeReceipt,
  type MockBridgeRequest,
  startMockBridge,
} from './server.js';
