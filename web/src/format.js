// Pure wording: numbers, the gate's decision and errors in words a person reads.

const NUMBER = new Intl.NumberFormat("en-US", { maximumFractionDigits: 9 });
const MONEY = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 9 });

/** A decimal as stored (exact on its grid): every digit kept, thousands grouped. */
export function num(value) {
  return value === null || value === undefined || Number.isNaN(Number(value)) ? "—" : NUMBER.format(value);
}

/** An amount with at least two decimals and its currency. */
export function money(value, currency) {
  if (value === null || value === undefined) return "—";
  return `${MONEY.format(value)}${currency ? ` ${currency}` : ""}`;
}

/** An amount rounded to the cent (for figures the page computes, like unrealized P&L). */
export function cents(value, currency) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const text = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(value);
  return `${value > 0 ? "+" : ""}${text}${currency ? ` ${currency}` : ""}`;
}

/** A fraction (0.002) as a percentage ("0.20%"). */
export function pct(fraction) {
  if (fraction === null || fraction === undefined) return "—";
  return `${(fraction * 100).toFixed(fraction * 100 < 0.01 && fraction !== 0 ? 4 : 2)}%`;
}

const SOURCES = {
  default: "the default for this asset class",
  strategy: "the strategy's own maximum",
};

function sourceWords(source) {
  if (!source) return "unknown source";
  // The session scaled the class's threshold: "default x1.5 crypto_weekend".
  const scaled = /^(.+) x([0-9.]+) ([a-z_]+)$/.exec(source);
  if (scaled) return `${sourceWords(scaled[1])}, x${scaled[2]} in the ${scaled[3]} session`;
  if (SOURCES[source]) return SOURCES[source];
  if (source.startsWith("EXEC_")) return `the setting ${source}`;
  return source;
}

const ACTION_WORDS = {
  execute: "Execute: the order would be sent now.",
  wait: "Wait: the order is held back, nothing is sent.",
  reject: "Rejected: the order cannot be placed.",
};

/**
 * The callable's answer as lines of text: what the strategy wanted, what the gate decided
 * and why, spread vs threshold (and which threshold bound), estimated cost and fees.
 * Returns { tone, lines } with tone one of execute / wait / reject.
 */
export function describeDecision(result) {
  const routing = result.routing;
  const signal = result.signal || {};
  const currency = (routing && routing.currency) || result.currency || "";
  const lines = [];
  const wanted = signal.signal_type ? `The strategy says ${signal.signal_type}` : "The strategy gave no signal";
  lines.push(`${wanted}${signal.reason ? ` (${signal.reason})` : ""}.`);
  if (!routing) {
    lines.push(result.message || `Status: ${result.status}.`);
    return { tone: result.status === "hold" ? "wait" : "reject", lines };
  }
  lines.push(ACTION_WORDS[routing.action] || `Decision: ${routing.action}.`);
  if (routing.reason) lines.push(`Why: ${routing.reason}.`);
  if (routing.spread_pct !== null && routing.spread_pct !== undefined) {
    const relation = routing.spread_pct > routing.threshold_pct ? "above" : "within";
    lines.push(
      `Spread ${pct(routing.spread_pct)} is ${relation} the threshold ${pct(routing.threshold_pct)}, ` +
        `set by ${sourceWords(routing.threshold_source)}.`,
    );
  } else {
    lines.push(`No usable quote: the spread could not be checked (threshold ${pct(routing.threshold_pct)}).`);
  }
  if (result.quote) {
    lines.push(`Quote: bid ${num(result.quote.bid)} / ask ${num(result.quote.ask)} ${currency} (${result.quote.source || "venue"}).`);
  }
  if (routing.qty !== null && routing.qty !== undefined) {
    lines.push(`${num(routing.qty)} at ${money(routing.price, currency)} = ${money(routing.notional, currency)}.`);
  }
  lines.push(
    `Estimated cost of crossing the spread: ${money(routing.estimated_spread_cost, currency)}; ` +
      `estimated fees: ${money(routing.estimated_fees, currency)}.`,
  );
  if (routing.account_currency && routing.account_currency !== currency && routing.notional_in_account_currency != null) {
    lines.push(`In the account's currency: ${money(routing.notional_in_account_currency, routing.account_currency)}.`);
  }
  lines.push(`All amounts in ${currency}.`);
  return { tone: routing.action === "execute" ? "execute" : routing.action === "wait" ? "wait" : "reject", lines };
}

const STATUS_WORDS = {
  filled: "Filled",
  partially_filled: "Partially filled: the rest is working",
  accepted: "Accepted by the venue, not filled yet",
  downgraded: "Held back (WAIT): nothing was sent",
  dry_run: "Preview only: nothing was sent",
  hold: "The strategy did not signal a trade",
  rejected: "Rejected",
  unknown: "Outcome unknown: submitting again is safe",
};

/** The submission's outcome: status in words, then the trade and order ids. */
export function describeSubmission(result) {
  const lines = [`Status: ${result.status} — ${STATUS_WORDS[result.status] || result.status}.`];
  if (result.message) lines.push(result.message);
  const order = result.order;
  if (order && order.filled_qty) {
    lines.push(`Filled ${num(order.filled_qty)} of ${num(order.qty)} at ${money(order.filled_avg_price, result.currency)}.`);
  }
  if (result.trade_id) lines.push(`Trade id: ${result.trade_id}`);
  if (order && order.client_order_id) lines.push(`Order id: ${order.client_order_id}`);
  const tone = ["filled", "partially_filled", "accepted"].includes(result.status)
    ? "execute"
    : ["downgraded", "hold", "dry_run"].includes(result.status)
      ? "wait"
      : "reject";
  return { tone, lines };
}

const AUTH_ERRORS = {
  "auth/invalid-credential": "Wrong email or password.",
  "auth/invalid-login-credentials": "Wrong email or password.",
  "auth/wrong-password": "Wrong email or password.",
  "auth/user-not-found": "No account with this email.",
  "auth/invalid-email": "That email address is not valid.",
  "auth/missing-password": "Enter your password.",
  "auth/too-many-requests": "Too many attempts: wait a moment and try again.",
  "auth/network-request-failed": "Network error: could not reach the sign-in service.",
};

/** Any error (auth, callable, Firestore, network) as one readable sentence. */
export function describeError(error) {
  const code = (error && error.code) || "";
  const message = (error && error.message) || String(error);
  if (AUTH_ERRORS[code]) return AUTH_ERRORS[code];
  switch (code) {
    case "functions/invalid-argument":
      return `Invalid input: ${message}`;
    case "functions/failed-precondition":
      return `Not allowed: ${message}`;
    case "functions/unauthenticated":
      return message.startsWith("App Check")
        ? "This app could not be verified (App Check): reload the page and try again."
        : "You are signed out: sign in again.";
    case "functions/not-found":
      return `Not found: ${message}`;
    case "functions/unavailable":
      return `The venue is unavailable, nothing was placed: ${message}`;
    case "functions/aborted":
      return "The same order is still being processed: try again in a moment.";
    case "functions/internal":
    case "functions/deadline-exceeded":
      return message === "internal" || !message
        ? "Network or server error: could not reach the trading service. Nothing is lost; try again."
        : `Server error: ${message}`;
    case "permission-denied":
      return "Permission denied: you can only read your own data.";
    case "unavailable":
      return "Offline: the data shown may be out of date; it updates when the connection returns.";
    default:
      return message;
  }
}

/** A fraction (0.0012) in basis points ("12.00 bps"); positive is a cost. */
export function bps(fraction) {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return "—";
  return `${(fraction * 1e4).toFixed(2)} bps`;
}
