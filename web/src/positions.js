// Positions and the account, live. Unrealized P&L uses the latest mid the page has seen (the
// callable's quote from a preview or submit); realized P&L is the positions' total per currency.
import { collection, doc, onSnapshot } from "firebase/firestore";
import { $, el } from "./dom.js";
import { cents, describeError, money, num } from "./format.js";

/** (mid - avg cost) x qty x the instrument's multiplier (cost basis / (qty x avg cost)). */
export function unrealizedPnl(position, mid) {
  const { qty, avg_cost: avg, cost_basis: basis } = position;
  if (mid === undefined || !qty || !avg) return null;
  const multiplier = basis ? Math.round(Math.abs(basis / (qty * avg))) || 1 : 1;
  return (mid - avg) * qty * multiplier;
}

export function watchPositions(db, uid) {
  const mids = new Map();
  let positions = [];
  const stops = [];

  stops.push(
    onSnapshot(
      collection(db, "users", uid, "portfolio", "positions", "symbols"),
      (snapshot) => {
        $("positions-message").textContent = "";
        positions = snapshot.docs.map((d) => ({ key: d.id, ...d.data() }));
        render();
      },
      (error) => {
        $("positions-message").textContent = describeError(error);
      },
    ),
  );
  stops.push(
    onSnapshot(
      doc(db, "users", uid, "portfolio", "account"),
      (snapshot) => {
        const account = snapshot.data();
        if (!account) {
          $("account-summary").textContent = "No account yet: it opens with your first order.";
          return;
        }
        const cash = Object.entries(account.cash || {})
          .map(([currency, amount]) => money(amount, currency))
          .join(", ");
        $("account-summary").textContent =
          `Cash: ${cash || "—"}. Buying power: ${money(account.buying_power, account.currency)}.`;
      },
      (error) => {
        $("positions-message").textContent = describeError(error);
      },
    ),
  );

  function render() {
    const open = positions.filter((p) => p.qty);
    $("positions-body").replaceChildren(
      ...open.map((p) =>
        el(
          "tr",
          { "data-testid": "position-row", "data-symbol": p.symbol },
          el("td", {}, p.symbol),
          el("td", { "data-testid": "position-qty" }, num(p.qty)),
          el("td", {}, money(p.avg_cost, p.currency)),
          el("td", {}, mids.has(p.symbol) ? cents(unrealizedPnl(p, mids.get(p.symbol)), p.currency) : "— (preview for a price)"),
          el("td", {}, money(p.realized_pnl || 0, p.currency)),
        ),
      ),
    );
    if (!open.length) $("positions-message").textContent = "No open positions.";
    const totals = new Map();
    for (const p of positions) {
      const currency = p.currency || "USD";
      totals.set(currency, (totals.get(currency) || 0) + (p.realized_pnl || 0));
    }
    $("realized-pnl").textContent = totals.size
      ? [...totals].map(([currency, total]) => cents(total, currency)).join(", ")
      : cents(0, "USD");
  }

  return {
    quote(symbol, mid) {
      mids.set(symbol, mid);
      render();
    },
    stop() {
      for (const stop of stops) stop();
      $("positions-body").replaceChildren();
    },
  };
}
