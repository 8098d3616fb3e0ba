// Execution quality: estimated vs realized slippage of the user's last 50 trades, drawn as SVG
// (no library). Estimated is a hollow circle, realized a filled triangle, each labelled in its
// <title> and in the legend's words, so the chart reads without colour. Below it, the user's
// downgrade and fill rates from their own routing decisions (tenants/{t}/decisions, their uid).
import { collection, limit, onSnapshot, orderBy, query, where } from "firebase/firestore";
import { $ } from "./dom.js";
import { bps, describeError } from "./format.js";
import { isNum, svg } from "./svg.js";

export const TCA_TRADES = 50;
const W = 640;
const H = 240;
const PAD = { left: 48, right: 12, top: 14, bottom: 28 };

export const TCA_DECISIONS = 50;

/** `tenant` null (no tenant claim): no decisions to count, the trades alone are shown. */
export function watchTca(db, uid, tenant) {
  const state = { rows: [], decisions: tenant ? null : undefined };
  const show = (error) => {
    $("tca-message").textContent = error ? describeError(error) : "";
  };
  const trades = collection(db, "users", uid, "portfolio", "history", "trades");
  const unsubscribes = [
    onSnapshot(
      query(trades, orderBy("timestamp", "desc"), limit(TCA_TRADES)),
      (snapshot) => {
        show();
        state.rows = snapshot.docs.map((d) => ({ id: d.id, ...d.data() })).reverse(); // oldest first
        draw(state.rows);
        figures(state);
      },
      show,
    ),
  ];
  if (tenant) {
    const decisions = collection(db, "tenants", tenant, "decisions");
    unsubscribes.push(
      onSnapshot(
        query(decisions, where("uid", "==", uid), orderBy("decided_at", "desc"), limit(TCA_DECISIONS)),
        (snapshot) => {
          state.decisions = snapshot.docs.map((d) => d.data());
          figures(state);
        },
        show,
      ),
    );
  }
  return () => {
    unsubscribes.forEach((stop) => stop());
    $("tca-chart").replaceChildren();
    $("tca-figures").replaceChildren();
  };
}

function draw(rows) {
  const chart = $("tca-chart");
  const values = rows.flatMap((t) => [t.estimated_slippage, t.realized_slippage_pct].filter(isNum).map((v) => v * 1e4));
  let lo = Math.min(0, ...values);
  let hi = Math.max(1, ...values);
  const margin = (hi - lo) * 0.08;
  lo -= lo < 0 ? margin : 0;
  hi += margin;
  const x = (i) => PAD.left + ((i + 0.5) * (W - PAD.left - PAD.right)) / Math.max(rows.length, 1);
  const y = (v) => PAD.top + ((hi - v) * (H - PAD.top - PAD.bottom)) / (hi - lo);
  const root = svg("svg", {
    viewBox: `0 0 ${W} ${H}`,
    role: "img",
    "aria-labelledby": "tca-svg-title",
    width: "100%",
    preserveAspectRatio: "xMidYMid meet",
  });
  root.append(svg("title", { id: "tca-svg-title" }, `Estimated and realized slippage in basis points, last ${rows.length} trades, oldest on the left`));
  // Axes: a few gridlines with labels, zero drawn solid.
  const step = niceStep((hi - lo) / 4);
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) {
    const yy = y(v).toFixed(1);
    root.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: yy, y2: yy, class: v === 0 ? "axis" : "grid" }));
    root.append(svg("text", { x: PAD.left - 4, y: yy, "text-anchor": "end", "dominant-baseline": "middle", class: "tick" }, `${+v.toFixed(2)}`));
  }
  root.append(svg("text", { x: 4, y: PAD.top - 4, class: "tick" }, "bps"));
  root.append(svg("text", { x: W - PAD.right, y: H - 6, "text-anchor": "end", class: "tick" }, "trades, oldest → newest"));
  rows.forEach((t, i) => {
    const mark = svg("g", { "data-testid": "tca-mark", "data-trade-id": t.id, class: "mark" });
    const est = isNum(t.estimated_slippage) ? t.estimated_slippage * 1e4 : null;
    const real = isNum(t.realized_slippage_pct) ? t.realized_slippage_pct * 1e4 : null;
    mark.append(svg("title", {}, `${t.side} ${t.qty} ${t.symbol}: estimated ${bps(t.estimated_slippage)}, realized ${bps(t.realized_slippage_pct)}`));
    // Side by side (estimate left, realized right) so equal values do not hide each other.
    const [ex, rx] = [(x(i) - 4).toFixed(1), (x(i) + 4).toFixed(1)];
    if (est !== null && real !== null) {
      mark.append(svg("line", { x1: ex, x2: rx, y1: y(est).toFixed(1), y2: y(real).toFixed(1), class: "link" }));
    }
    if (est !== null) mark.append(svg("circle", { cx: ex, cy: y(est).toFixed(1), r: 4, class: "est" }));
    if (real !== null) {
      mark.append(svg("path", { d: `M${rx} ${(y(real) - 5).toFixed(1)}l5 9h-10z`, class: "real" }));
    }
    root.append(mark);
  });
  chart.replaceChildren(root);
  $("tca-empty").hidden = rows.length > 0;
}

function niceStep(raw) {
  const power = 10 ** Math.floor(Math.log10(raw || 1));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || power * 10;
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** What the user's own records say: fills, how many were measured, and how they compared;
 * then how their decisions went (held back, sent, filled). */
function figures({ rows, decisions }) {
  const measured = rows.filter((t) => isNum(t.realized_slippage_pct));
  const both = measured.filter((t) => isNum(t.estimated_slippage));
  const latency = rows.map((t) => t.decision_to_fill_ms).filter(isNum);
  const lines = [`Fills: ${rows.length} (your last ${TCA_TRADES} trades at most); realized slippage measured on ${measured.length}.`];
  if (measured.length) {
    lines.push(`Mean realized slippage ${bps(mean(measured.map((t) => t.realized_slippage_pct)))}` +
      (both.length ? `; mean estimated ${bps(mean(both.map((t) => t.estimated_slippage)))}` : "") + ".");
  }
  if (both.length) {
    // Compared at the 0.01 bps shown, so float noise does not call an equal fill worse.
    const shown = (f) => Math.round(f * 1e6);
    const within = both.filter((t) => shown(t.realized_slippage_pct) <= shown(t.estimated_slippage)).length;
    lines.push(`Filled at or better than the estimate: ${within} of ${both.length}.`);
  }
  if (latency.length) lines.push(`Median decision to fill: ${Math.round(median(latency))} ms.`);
  const markouts = rows.map((t) => t.markout_5m_pct).filter(isNum);
  if (markouts.length) {
    lines.push(`Mean 5-minute markout ${bps(mean(markouts))} on ${markouts.length} fills (positive: the market moved your way after the fill).`);
  }
  const items = lines.map((line) => item(line));
  items.push(...decisionItems(decisions, new Set(rows.map((t) => t.id))));
  $("tca-figures").replaceChildren(...items);
}

const item = (text, testid) => {
  const li = Object.assign(document.createElement("li"), { textContent: text });
  if (testid) li.dataset.testid = testid;
  return li;
};
const rate = (part, whole) => `${((100 * part) / whole).toFixed(1)}%`;
const FILLED = new Set(["filled", "partially_filled"]);

/** The downgrade and fill rates of the user's last decisions. An order counts as filled when
 * it filled at submission, or its trade (named by its client_order_id) is in the history. */
function decisionItems(decisions, tradeIds) {
  if (decisions === undefined) {
    return [item("This account has no tenant, so it has no routing decisions to count.", "tca-downgrade-rate")];
  }
  if (decisions === null) return [item("Counting your routing decisions…", "tca-downgrade-rate")];
  if (!decisions.length) {
    return [item("No routing decisions yet: the downgrade and fill rates appear after your first order.", "tca-downgrade-rate")];
  }
  const count = (action) => decisions.filter((d) => d.action === action).length;
  const [held, sent, refused] = [count("downgraded"), count("execute"), count("rejected")];
  const filled = decisions.filter((d) => d.action === "execute" && (FILLED.has(d.status) || tradeIds.has(d.client_order_id))).length;
  const out = [
    item(
      `Downgrade rate: ${rate(held, decisions.length)} — ${held} of your last ${decisions.length} decisions were held back (WAIT) for a wide spread; ${sent} sent, ${refused} refused.`,
      "tca-downgrade-rate",
    ),
  ];
  out.push(
    sent
      ? item(`Fill rate: ${rate(filled, sent)} — ${filled} of the ${sent} orders sent filled.`, "tca-fill-rate")
      : item("Fill rate: no orders sent yet.", "tca-fill-rate"),
  );
  return out;
}
