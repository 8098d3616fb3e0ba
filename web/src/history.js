// History, live: the newest trades first, 50 a page. Each page is its own onSnapshot query
// (limit 50, after the previous page's last row), so the DOM never holds more than 50 rows
// however long the history grows.
import { collection, limit, onSnapshot, orderBy, query, startAfter } from "firebase/firestore";
import { $, el } from "./dom.js";
import { bps, describeError, money, num } from "./format.js";

export const PAGE_SIZE = 50;

export function watchHistory(db, uid) {
  const trades = collection(db, "users", uid, "portfolio", "history", "trades");
  const cursors = [null]; // cursors[k]: the last row before page k
  let page = 0;
  let lastDoc = null;
  let full = false;
  let unsubscribe = () => {};
  const older = $("history-older");
  const newer = $("history-newer");

  function listen() {
    unsubscribe();
    const parts = [orderBy("timestamp", "desc")];
    if (cursors[page]) parts.push(startAfter(cursors[page]));
    parts.push(limit(PAGE_SIZE));
    unsubscribe = onSnapshot(
      query(trades, ...parts),
      (snapshot) => {
        $("history-message").textContent = "";
        lastDoc = snapshot.docs.at(-1) || null;
        full = snapshot.size === PAGE_SIZE;
        render(snapshot.docs);
        older.disabled = !full;
        newer.disabled = page === 0;
        $("history-page").textContent = `Page ${page + 1}`;
      },
      (error) => {
        $("history-message").textContent = describeError(error);
      },
    );
  }

  const onOlder = () => {
    if (!full || !lastDoc) return;
    cursors[page + 1] = lastDoc;
    page += 1;
    listen();
  };
  const onNewer = () => {
    if (page === 0) return;
    page -= 1;
    listen();
  };
  older.addEventListener("click", onOlder);
  newer.addEventListener("click", onNewer);
  listen();
  return () => {
    unsubscribe();
    older.removeEventListener("click", onOlder);
    newer.removeEventListener("click", onNewer);
    $("history-body").replaceChildren();
    older.disabled = newer.disabled = true;
  };
}

function when(timestamp) {
  if (!timestamp || typeof timestamp.toDate !== "function") return "—";
  return timestamp.toDate().toISOString().replace("T", " ").slice(0, 19);
}

function render(docs) {
  const rows = docs.map((doc) => {
    const t = doc.data();
    return el(
      "tr",
      { "data-testid": "history-row", "data-trade-id": doc.id },
      el("td", {}, when(t.timestamp)),
      el("td", {}, t.symbol),
      el("td", {}, t.side),
      el("td", {}, num(t.qty)),
      el("td", {}, num(t.price)),
      el("td", {}, money(t.notional)),
      el("td", {}, t.currency || "—"),
      el("td", {}, bps(t.estimated_slippage)),
      el("td", {}, bps(t.realized_slippage_pct)),
      el("td", {}, t.realized_gain === null || t.realized_gain === undefined ? "—" : money(t.realized_gain)),
    );
  });
  $("history-body").replaceChildren(...rows);
  if (!docs.length) $("history-message").textContent = "No trades yet.";
}
