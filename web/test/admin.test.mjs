// The admin page's chart data from tca_daily documents (web/src/admin-data.js).
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  costSaved,
  downgradeRates,
  fillRateByAssetClass,
  meanSlippage,
  usersAndStates,
  volumeByAssetClass,
} from "../src/admin-data.js";

const DAYS = [
  {
    date: "2026-03-02",
    total: { downgrade_rate: 0.25, estimated_slippage_bps: { mean: 4 }, realized_slippage_bps: { mean: 3.5 }, cost_saved: { USD: 12.5 } },
    by_asset_class: {
      crypto: { orders: 3, filled_orders: 3, volume: { USD: 1000 } },
      equity: { orders: 2, filled_orders: 1, volume: { USD: 200.25 } },
    },
  },
  {
    date: "2026-03-03",
    total: { downgrade_rate: null, estimated_slippage_bps: { mean: null }, realized_slippage_bps: { mean: null }, cost_saved: { JPY: 300 } },
    by_asset_class: {
      equity: { orders: 2, filled_orders: 2, volume: { USD: 99.75 } },
      forex: { orders: 0, filled_orders: 0, volume: {} },
    },
  },
];

test("per day: downgrade rate and mean slippage, null where the day had none", () => {
  assert.deepEqual(downgradeRates(DAYS), [{ label: "2026-03-02", value: 0.25 }, { label: "2026-03-03", value: null }]);
  assert.deepEqual(meanSlippage(DAYS)[0], { label: "2026-03-02", estimated: 4, realized: 3.5 });
  assert.deepEqual(meanSlippage(DAYS)[1], { label: "2026-03-03", estimated: null, realized: null });
});

test("cost saved: one series per currency, zero on a day that saved none in it", () => {
  assert.deepEqual(costSaved(DAYS), {
    JPY: [{ label: "2026-03-02", value: 0 }, { label: "2026-03-03", value: 300 }],
    USD: [{ label: "2026-03-02", value: 12.5 }, { label: "2026-03-03", value: 0 }],
  });
});

test("volume and fill rate by asset class, over the days", () => {
  assert.deepEqual(volumeByAssetClass(DAYS), [{ label: "crypto (USD)", value: 1000 }, { label: "equity (USD)", value: 300 }]);
  assert.deepEqual(fillRateByAssetClass(DAYS), [
    { label: "crypto", value: 1, filled: 3, orders: 3 },
    { label: "equity", value: 0.75, filled: 3, orders: 4 },
    { label: "forex", value: null, filled: 0, orders: 0 },
  ]);
});

test("users: those with a state of their own and those with recent orders, by uid", () => {
  const users = usersAndStates([{ uid: "b", state: "halted", reason: "review" }], [{ uid: "c" }, { uid: "b" }, {}]);
  assert.deepEqual(users, [{ uid: "b", state: "halted", reason: "review" }, { uid: "c", state: "active", reason: "" }]);
});
