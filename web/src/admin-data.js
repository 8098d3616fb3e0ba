// The tenant admin's charts from tca_daily documents (functions/smart_routing/tca/daily.py):
// pure, so web/test/admin.test.mjs checks them without a browser.

const isNum = (v) => typeof v === "number" && Number.isFinite(v);

/** Per day, oldest first: the downgrade rate (a fraction, null with no decisions). */
export function downgradeRates(days) {
  return days.map((d) => ({ label: d.date, value: d.total?.downgrade_rate ?? null }));
}

/** Per day: the mean estimated and realized slippage of the day's trades, in bps. */
export function meanSlippage(days) {
  return days.map((d) => ({
    label: d.date,
    estimated: d.total?.estimated_slippage_bps?.mean ?? null,
    realized: d.total?.realized_slippage_bps?.mean ?? null,
  }));
}

/** Per currency, per day: the cost saved by held orders (0 on a day that saved nothing). */
export function costSaved(days) {
  const currencies = [...new Set(days.flatMap((d) => Object.keys(d.total?.cost_saved || {})))].sort();
  return Object.fromEntries(
    currencies.map((ccy) => [ccy, days.map((d) => ({ label: d.date, value: Number(d.total?.cost_saved?.[ccy] ?? 0) }))]),
  );
}

/** Per asset class and currency, over all the days: the traded notional. */
export function volumeByAssetClass(days) {
  const totals = new Map();
  for (const day of days) {
    for (const [assetClass, metrics] of Object.entries(day.by_asset_class || {})) {
      for (const [ccy, amount] of Object.entries(metrics.volume || {})) {
        const key = `${assetClass} (${ccy})`;
        totals.set(key, (totals.get(key) || 0) + Number(amount));
      }
    }
  }
  return [...totals].sort(([a], [b]) => a.localeCompare(b)).map(([label, value]) => ({ label, value }));
}

/** Per asset class, over all the days: orders sent that filled, of orders sent (null: none). */
export function fillRateByAssetClass(days) {
  const counts = new Map();
  for (const day of days) {
    for (const [assetClass, metrics] of Object.entries(day.by_asset_class || {})) {
      const seen = counts.get(assetClass) || { orders: 0, filled: 0 };
      seen.orders += isNum(metrics.orders) ? metrics.orders : 0;
      seen.filled += isNum(metrics.filled_orders) ? metrics.filled_orders : 0;
      counts.set(assetClass, seen);
    }
  }
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, { orders, filled }]) => ({ label, value: orders ? filled / orders : null, filled, orders }));
}

/** The users the page lists: each with a state of their own, and each with a recent order
 * (trading by the tenant's state: `active` of their own). Sorted by uid. */
export function usersAndStates(userStates, orders) {
  const users = new Map();
  for (const order of orders) if (order.uid) users.set(order.uid, { uid: order.uid, state: "active", reason: "" });
  for (const state of userStates) users.set(state.uid, { reason: "", ...state });
  return [...users.values()].sort((a, b) => a.uid.localeCompare(b.uid));
}
