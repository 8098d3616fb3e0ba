// The trade ticket: Preview (dry run) and Submit (one idempotency key per click).
import { httpsCallable } from "firebase/functions";
import { $, showLines } from "./dom.js";
import { describeDecision, describeError, describeSubmission } from "./format.js";

const SAVED = "ticket";
const RETRYABLE = new Set(["functions/aborted", "functions/deadline-exceeded"]);

export function newIdempotencyKey() {
  return crypto.randomUUID();
}

/** The callable's data from the form, or throws with a readable message. */
export function readTicket() {
  const symbol = $("ticket-symbol").value.trim().toUpperCase();
  const qtyText = $("ticket-qty").value.trim();
  const qty = Number(qtyText);
  if (!symbol) throw new Error("Symbol: enter a symbol, e.g. AAPL or BTC/USD.");
  if (!qtyText || !Number.isFinite(qty) || qty <= 0) throw new Error("Quantity: enter a number above zero.");
  const strategy = $("ticket-strategy").value;
  const data = { strategy_id: strategy, symbol, qty };
  if (strategy === "manual") data.side = $("ticket-side").value;
  return data;
}

export function setupTicket(functions, { onQuote }) {
  const call = httpsCallable(functions, "execute_strategy", { timeout: 90_000 });
  const preview = $("ticket-preview");
  const submit = $("ticket-submit");
  const previewBox = $("preview-result");
  const submitBox = $("submit-result");
  let inFlight = false;
  let enabled = false;

  restore();
  $("ticket").addEventListener("input", save);
  $("ticket-strategy").addEventListener("change", () => {
    $("ticket-side").disabled = $("ticket-strategy").value !== "manual";
  });

  function setBusy(busy) {
    inFlight = busy;
    preview.disabled = busy || !enabled;
    submit.disabled = busy || !enabled;
  }

  async function run(box, data, describe) {
    box.className = "result";
    box.textContent = "Working…";
    try {
      const result = (await call(data)).data;
      if (result.quote && result.quote.mid) onQuote(data.symbol, result.quote.mid);
      showLines(box, describe(result));
      return null;
    } catch (error) {
      showLines(box, { tone: "error", lines: [describeError(error)] });
      return error.code || "error";
    }
  }

  preview.addEventListener("click", async () => {
    if (inFlight) return;
    let data;
    try {
      data = readTicket();
    } catch (error) {
      showLines(previewBox, { tone: "error", lines: [error.message] });
      return;
    }
    setBusy(true);
    try {
      await run(previewBox, { ...data, dry_run: true }, describeDecision);
    } finally {
      setBusy(false);
    }
  });

  $("ticket").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (inFlight) return; // a second click while the first is in flight places nothing
    let data;
    try {
      data = readTicket();
    } catch (error) {
      showLines(submitBox, { tone: "error", lines: [error.message] });
      return;
    }
    setBusy(true); // before any await: a double click's second click finds the button disabled
    // One key per click; a retry of this click (the key still running elsewhere) reuses it.
    const key = newIdempotencyKey();
    submitBox.dataset.idempotencyKey = key;
    try {
      let code = await run(submitBox, { ...data, idempotency_key: key }, describeSubmission);
      for (let attempt = 1; attempt <= 2 && RETRYABLE.has(code); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
        code = await run(submitBox, { ...data, idempotency_key: key }, describeSubmission);
      }
    } finally {
      setBusy(false);
    }
  });

  return {
    /** Trading on or off (off: signed out, or no tenant claim). */
    enable(on) {
      enabled = on;
      setBusy(inFlight);
    },
  };
}

function save() {
  const values = {
    symbol: $("ticket-symbol").value,
    side: $("ticket-side").value,
    qty: $("ticket-qty").value,
    strategy: $("ticket-strategy").value,
  };
  try {
    localStorage.setItem(SAVED, JSON.stringify(values));
  } catch {
    /* storage full or disabled: the ticket still works */
  }
}

function restore() {
  let values;
  try {
    values = JSON.parse(localStorage.getItem(SAVED) || "null");
  } catch {
    values = null;
  }
  if (!values) return;
  for (const [field, value] of Object.entries(values)) {
    const input = $(`ticket-${field}`);
    if (input && typeof value === "string" && value) input.value = value;
  }
  $("ticket-side").disabled = $("ticket-strategy").value !== "manual";
}
