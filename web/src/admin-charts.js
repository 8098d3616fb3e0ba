// Small inline SVG bar charts for the admin page (no library). Every bar carries its value in
// its <title> and data-value, so the charts read without colour or pointer.

import { isNum, svg } from "./svg.js";

const W = 360;
const H = 180;
const PAD = { left: 44, right: 8, top: 10, bottom: 34 };

/**
 * Bars in groups: `groups` [{label, bars: [{value, text, className}]}], one group per x label.
 * A null value leaves its bar out (no data) and says so in the group's title.
 */
export function barChart(container, title, groups, tickText = (v) => `${+v.toFixed(2)}`) {
  const values = groups.flatMap((g) => g.bars.map((b) => b.value)).filter(isNum);
  const lo = Math.min(0, ...values);
  const hi = Math.max(lo === 0 ? 1e-9 : 0, ...values) || 1;
  const span = hi - lo || 1;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const y = (v) => PAD.top + ((hi - v) * plotH) / span;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", width: "100%", preserveAspectRatio: "xMidYMid meet" });
  root.append(svg("title", {}, title));
  for (const v of [lo, (lo + hi) / 2, hi].filter((v, i, all) => all.indexOf(v) === i)) {
    root.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(v).toFixed(1), y2: y(v).toFixed(1), class: "grid" }));
    root.append(svg("text", { x: PAD.left - 4, y: y(v).toFixed(1), "text-anchor": "end", "dominant-baseline": "middle", class: "tick" }, tickText(v)));
  }
  root.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(0).toFixed(1), y2: y(0).toFixed(1), class: "axis" }));
  const slot = plotW / Math.max(groups.length, 1);
  const labelEvery = Math.ceil(groups.length / 6);
  groups.forEach((group, i) => {
    const g = svg("g", { "data-testid": "admin-bar-group", "data-label": group.label });
    g.append(svg("title", {}, `${group.label}: ${group.bars.map((b) => b.text).join("; ")}`));
    const barW = Math.max(2, (slot * 0.8) / group.bars.length);
    group.bars.forEach((bar, j) => {
      if (!isNum(bar.value)) return;
      const x = PAD.left + i * slot + slot * 0.1 + j * barW;
      const top = y(Math.max(bar.value, 0));
      const height = Math.max(Math.abs(y(bar.value) - y(0)), 1);
      g.append(svg("rect", {
        x: x.toFixed(1), y: top.toFixed(1), width: (barW - 1).toFixed(1), height: height.toFixed(1),
        class: `bar ${bar.className || ""}`.trim(), "data-value": String(bar.value),
      }));
    });
    if (i % labelEvery === 0) {
      const short = /^\d{4}-\d{2}-\d{2}$/.test(group.label) ? group.label.slice(5) : group.label; // MM-DD
      root.append(svg("text", { x: (PAD.left + (i + 0.5) * slot).toFixed(1), y: H - PAD.bottom + 14, "text-anchor": "middle", class: "tick" }, short));
    }
    root.append(g);
  });
  container.replaceChildren(root);
}
