// The realized-gains CSV's arithmetic: exact decimals, proceeds shared among lots to the cent.
import assert from "node:assert/strict";
import { test } from "node:test";
import { add, dec, mulDiv, toFixed, toText } from "../src/decimal.js";
import { saleRows, toCsv } from "../src/tax.js";

test("decimals are exact where floats are not", () => {
  assert.equal(toFixed(add(0.1, 0.2), 2), "0.30");
  assert.equal(toText(add(0.1, 0.2)), "0.3");
  assert.equal(toText(dec(1e-7)), "0.0000001");
  assert.equal(toText(dec(1.5e21)), "1500000000000000000000");
  assert.equal(toFixed(mulDiv("100.01", 1, 3, 2), 2), "33.34");
  assert.equal(toFixed(mulDiv("0.05", 1, 2, 2), 2), "0.02"); // half-even
  assert.equal(toFixed(mulDiv("-0.15", 1, 2, 2), 2), "-0.08");
});

test("a sell's proceeds are shared among its lots and add up to the record", () => {
  const sale = {
    symbol: "AAPL", currency: "USD", trading_date: "2026-11-25", realized_gain: 0.33, cost_basis: 300.03,
    lots_consumed: [
      { trade_id: "b1", qty: 1, cost: 100.01, acquired_at: "2025-01-02T15:00:00Z", term: "long" },
      { trade_id: "b2", qty: 2, cost: 200.02, acquired_at: "2026-03-04T15:00:00Z", term: "short" },
    ],
  };
  const rows = saleRows("s1", sale, { b1: "2025-01-02" });
  assert.deepEqual(rows.map((r) => [r.description, r.acquired, r.proceeds, r.cost, r.gain, r.term]), [
    ["1 AAPL", "2025-01-02", "100.12", "100.01", "0.11", "long"],
    ["2 AAPL", "2026-03-04", "200.24", "200.02", "0.22", "short"],
  ]);
  assert.match(toCsv(rows), /^Description,Date acquired,Date sold,Proceeds,Cost basis,Gain or loss,Term,Currency/);
});
