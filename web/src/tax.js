// Realized gains export: one CSV row per lot a sell closed in the chosen tax year, built in the
// browser from the sells' `lots_consumed` (the FIFO lots the mirror wrote), in exact decimals.
import { collection, doc, getDoc, getDocs, orderBy, query, Timestamp, where } from "firebase/firestore";
import { $ } from "./dom.js";
import { add, dec, isZero, minorExponent, mulDiv, sub, toFixed, toText } from "./decimal.js";
import { describeError } from "./format.js";

export const CSV_COLUMNS = [
  "Description",
  "Date acquired",
  "Date sold",
  "Proceeds",
  "Cost basis",
  "Gain or loss",
  "Term",
  "Currency",
  "Sale trade id",
  "Lot trade id",
];

/** Money text at the currency's minor unit (more digits only if the stored value has them). */
function amount(value, currency) {
  const d = dec(value);
  return toFixed(d, Math.max(minorExponent(currency), d.scale));
}

/**
 * The rows of one sell record. Its proceeds (net of fees, for the matched quantity) are
 * realized_gain + cost_basis, exactly as the backend computed them; they are shared among the
 * lots by quantity, rounded half-even to the minor unit, the last lot taking the rest, so the
 * rows add up to the record's proceeds, cost basis and gain to the unit.
 */
export function saleRows(saleId, sale, acquiredOn = {}) {
  const lots = sale.lots_consumed || [];
  if (!lots.length || sale.realized_gain == null) return [];
  const currency = sale.currency || "";
  const exponent = minorExponent(currency);
  const proceeds = add(sale.realized_gain, sale.cost_basis);
  const matched = lots.reduce((total, lot) => add(total, lot.qty), dec(0));
  let left = proceeds;
  return lots.map((lot, index) => {
    const share = index === lots.length - 1 || isZero(matched) ? left : mulDiv(proceeds, lot.qty, matched, exponent);
    left = sub(left, share);
    return {
      description: `${toText(lot.qty)} ${sale.symbol}`,
      acquired: acquiredOn[lot.trade_id] || String(lot.acquired_at || "").slice(0, 10),
      sold: sale.trading_date || "",
      proceeds: amount(share, currency),
      cost: amount(lot.cost, currency),
      gain: amount(sub(share, lot.cost), currency),
      term: lot.term,
      currency,
      saleId,
      lotId: lot.trade_id,
    };
  });
}

function csvField(value) {
  const text = String(value ?? "");
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(rows) {
  const lines = [CSV_COLUMNS, ...rows.map((r) => [r.description, r.acquired, r.sold, r.proceeds, r.cost, r.gain, r.term, r.currency, r.saleId, r.lotId])];
  return `${lines.map((line) => line.map(csvField).join(",")).join("\r\n")}\r\n`;
}

/** The sells of the tax year (by trading date) and their lots, read as the signed-in user. */
async function yearRows(db, uid, year) {
  const trades = collection(db, "users", uid, "portfolio", "history", "trades");
  // A day either side of the UTC year: the trading date is the venue's, not UTC's.
  const from = Timestamp.fromDate(new Date(Date.UTC(year, 0, 1) - 86_400_000));
  const to = Timestamp.fromDate(new Date(Date.UTC(year + 1, 0, 1) + 86_400_000));
  const snapshot = await getDocs(query(trades, where("timestamp", ">=", from), where("timestamp", "<", to), orderBy("timestamp")));
  const sells = snapshot.docs
    .map((d) => ({ id: d.id, data: d.data() }))
    .filter(({ data }) => data.side === "sell" && String(data.trading_date || "").startsWith(`${year}-`));
  // The date acquired is the buy's trading date (what the holding period counts from).
  const buyIds = [...new Set(sells.flatMap(({ data }) => (data.lots_consumed || []).map((lot) => lot.trade_id)))];
  const acquiredOn = {};
  await Promise.all(
    buyIds.map(async (id) => {
      const buy = await getDoc(doc(trades, id));
      if (buy.exists() && buy.data().trading_date) acquiredOn[id] = buy.data().trading_date;
    }),
  );
  return sells.flatMap(({ id, data }) => saleRows(id, data, acquiredOn));
}

export function setupTaxExport(db, uid) {
  const select = $("tax-year");
  const button = $("export-tax-csv");
  const message = $("tax-message");
  const now = new Date().getUTCFullYear();
  select.replaceChildren(
    ...Array.from({ length: 6 }, (_, k) => {
      const option = document.createElement("option");
      option.value = option.textContent = String(now - k);
      return option;
    }),
  );
  const onClick = async () => {
    button.disabled = true;
    message.textContent = "Preparing the CSV…";
    const year = Number(select.value);
    try {
      const rows = await yearRows(db, uid, year);
      const url = URL.createObjectURL(new Blob([toCsv(rows)], { type: "text/csv" }));
      const link = Object.assign(document.createElement("a"), { href: url, download: `realized-gains-${year}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      message.textContent = rows.length
        ? `${rows.length} closed lot${rows.length === 1 ? "" : "s"} in ${year}.`
        : `No lots were closed in ${year}: the CSV has only its header.`;
    } catch (error) {
      message.textContent = describeError(error);
    } finally {
      button.disabled = false;
    }
  };
  button.addEventListener("click", onClick);
  return () => {
    button.removeEventListener("click", onClick);
    message.textContent = "";
  };
}
