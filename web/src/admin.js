// The tenant admin's page (a token with role "admin" and the tenant's tenant_id): the tenant's
// trading state with a switch that asks for confirmation and a reason (set_trading_state),
// users and their states, charts from tca_daily, recent orders and the audit log, all live
// through the security rules, which let only the tenant's admin read them.
import { collection, doc, limit, onSnapshot, orderBy, query } from "firebase/firestore";
import { httpsCallable } from "firebase/functions";
import { barChart } from "./admin-charts.js";
import {
  costSaved,
  downgradeRates,
  fillRateByAssetClass,
  meanSlippage,
  usersAndStates,
  volumeByAssetClass,
} from "./admin-data.js";
import { $, el } from "./dom.js";
import { describeError, num, pct } from "./format.js";

export const ADMIN_DAYS = 30;
export const ADMIN_ORDERS = 20;
export const ADMIN_AUDIT = 50;
const STATES = ["active", "reducing", "halted"];
const WORDS = {
  active: "active",
  reducing: "reducing (only orders that shrink a position)",
  halted: "halted (no new orders)",
};

export function isAdmin(claims, tenant) {
  return Boolean(tenant) && claims.role === "admin";
}

/** Show the page for `tenant` and keep it live; returns the function that stops it. */
export function watchAdmin(db, functions, tenant) {
  $("admin").hidden = false;
  const live = { userStates: [], orders: [] };
  const failed = (error) => {
    $("admin-message").textContent = describeError(error);
  };
  const tenantDoc = (...path) => doc(db, "tenants", tenant, ...path);
  const tenantCollection = (name) => collection(db, "tenants", tenant, name);
  const renderUsers = () => showUsers(usersAndStates(live.userStates, live.orders));
  const stops = [
    onSnapshot(tenantDoc("settings", "trading_state"), (s) => showTenantState(s.data()), failed),
    onSnapshot(tenantCollection("user_trading_states"), (snapshot) => {
      live.userStates = snapshot.docs.map((d) => ({ uid: d.id, ...d.data() }));
      renderUsers();
    }, failed),
    onSnapshot(query(tenantCollection("tca_daily"), orderBy("date", "desc"), limit(ADMIN_DAYS)), (snapshot) => {
      showCharts(snapshot.docs.map((d) => d.data()).reverse());
    }, failed),
    onSnapshot(query(tenantCollection("orders"), orderBy("submitted_at", "desc"), limit(ADMIN_ORDERS)), (snapshot) => {
      live.orders = snapshot.docs.map((d) => ({ id: d.id, ...d.data() }));
      showOrders(live.orders);
      renderUsers();
    }, failed),
    onSnapshot(query(tenantCollection("audit_log"), orderBy("at", "desc"), limit(ADMIN_AUDIT)), (snapshot) => {
      showAudit(snapshot.docs.map((d) => ({ id: d.id, ...d.data() })));
    }, failed),
  ];
  const dialog = setupDialog(functions);
  $("admin-state-change").onclick = () => dialog.ask({ scope: "tenant", state: $("admin-state-choice").value });
  $("admin-users-body").onclick = (event) => {
    const button = event.target.closest("button[data-uid]");
    if (!button) return;
    const state = button.parentElement.querySelector("select").value;
    dialog.ask({ scope: "user", uid: button.dataset.uid, state });
  };
  return () => {
    stops.forEach((stop) => stop());
    if ($("admin-dialog").open) $("admin-dialog").close();
    $("admin").hidden = true;
    for (const id of ["admin-users-body", "admin-orders-body", "admin-audit-body"]) $(id).replaceChildren();
    $("admin-message").textContent = $("admin-state-message").textContent = "";
  };
}

function showTenantState(data) {
  const state = data?.state || "active";
  const shown = $("admin-tenant-state");
  shown.dataset.state = state;
  shown.textContent = `The tenant's trading is ${WORDS[state] || state}.` +
    (data?.reason ? ` Reason: ${data.reason}.` : "");
  $("admin-state-choice").value = state === "active" ? "halted" : "active"; // the likely switch
}

function stateSelect(current) {
  const select = el("select", { "aria-label": "New state", "data-testid": "admin-user-state-choice" });
  for (const state of STATES) select.append(el("option", { value: state }, state));
  select.value = current === "active" ? "halted" : "active";
  return select;
}

function showUsers(users) {
  $("admin-users-body").replaceChildren(
    ...users.map((u) =>
      el("tr", { "data-testid": "admin-user-row", "data-uid": u.uid },
        el("td", {}, u.uid),
        el("td", { "data-state": u.state, "data-testid": "admin-user-state" }, u.state),
        el("td", {}, u.reason || "—"),
        el("td", {}, stateSelect(u.state), " ",
          el("button", { type: "button", "data-uid": u.uid, "data-testid": "admin-user-change" }, "Change…")),
      ),
    ),
  );
}

function showCharts(days) {
  $("admin-tca-empty").hidden = days.length > 0;
  const percent = (v) => `${+(v * 100).toFixed(1)}%`;
  barChart($("admin-chart-downgrade-rate"), "Downgrade rate per day",
    downgradeRates(days).map((d) => ({ label: d.label, bars: [{ value: d.value, text: `downgrade rate ${pct(d.value)}` }] })),
    percent);
  barChart($("admin-chart-slippage"), "Mean estimated and realized slippage per day, bps",
    meanSlippage(days).map((d) => ({ label: d.label, bars: [
      { value: d.estimated, text: `estimated ${num(d.estimated)} bps`, className: "estimated" },
      { value: d.realized, text: `realized ${num(d.realized)} bps`, className: "realized" },
    ] })));
  const saved = costSaved(days);
  const currencies = Object.keys(saved);
  barChart($("admin-chart-cost-saved"), `Cost saved per day (${currencies.join(", ") || "none yet"})`,
    days.map((d, i) => ({ label: d.date, bars: currencies.map((ccy) => ({ value: saved[ccy][i].value, text: `${num(saved[ccy][i].value)} ${ccy} saved` })) })));
  barChart($("admin-chart-volume"), "Volume by asset class",
    volumeByAssetClass(days).map((v) => ({ label: v.label, bars: [{ value: v.value, text: `${num(v.value)} traded` }] })));
  barChart($("admin-chart-fill-rate"), "Fill rate by asset class",
    fillRateByAssetClass(days).map((f) => ({ label: f.label, bars: [{ value: f.value, text: `${f.filled} of ${f.orders} orders filled (${pct(f.value)})` }] })),
    percent);
}

const when = (value) => (value && typeof value.toDate === "function" ? value.toDate().toISOString().replace("T", " ").slice(0, 19) : "—");

function showOrders(orders) {
  $("admin-orders-body").replaceChildren(
    ...orders.map((o) =>
      el("tr", { "data-testid": "admin-order-row", "data-order-id": o.id, "data-status": o.status || "" },
        el("td", {}, when(o.submitted_at)), el("td", {}, o.uid || "—"), el("td", {}, o.symbol || "—"),
        el("td", {}, o.side || "—"), el("td", {}, num(o.qty)), el("td", {}, num(o.filled_qty)),
        el("td", { "data-testid": "admin-order-status" }, o.status || "—"),
      ),
    ),
  );
}

function showAudit(entries) {
  $("admin-audit-body").replaceChildren(
    ...entries.map((a) =>
      el("tr", { "data-testid": "admin-audit-row", "data-audit-id": a.id },
        el("td", {}, when(a.at)), el("td", {}, a.by || "—"),
        el("td", {}, a.scope === "user" ? `user ${a.uid}` : "tenant"),
        el("td", {}, `${a.from} → ${a.to}`), el("td", { "data-testid": "admin-audit-reason" }, a.reason || ""),
      ),
    ),
  );
}

/** The confirmation: what will change, a reason (required), then set_trading_state. */
function setupDialog(functions) {
  const dialog = $("admin-dialog");
  const setState = httpsCallable(functions, "set_trading_state");
  let target = null;
  $("admin-cancel").onclick = () => dialog.close();
  $("admin-dialog-form").onsubmit = async (event) => {
    event.preventDefault();
    const reason = $("admin-reason").value.trim();
    if (!reason) {
      $("admin-dialog-message").textContent = "Give a reason: it is recorded in the audit log.";
      $("admin-reason").focus();
      return;
    }
    $("admin-confirm").disabled = true;
    $("admin-dialog-message").textContent = "";
    try {
      const { data } = await setState({ ...target, reason });
      const who = data.scope === "user" ? `user ${data.uid}` : "the tenant";
      $("admin-state-message").textContent = data.changed
        ? `Trading for ${who} is now ${data.to} (was ${data.from}).`
        : `Trading for ${who} was already ${data.to}: nothing changed.`;
      dialog.close();
    } catch (error) {
      $("admin-dialog-message").textContent = describeError(error);
    } finally {
      $("admin-confirm").disabled = false;
    }
  };
  return {
    ask(next) {
      target = next;
      const who = next.scope === "user" ? `user ${next.uid}` : "the whole tenant";
      $("admin-dialog-question").textContent = `Set trading for ${who} to ${WORDS[next.state]}?`;
      $("admin-reason").value = "";
      $("admin-dialog-message").textContent = "";
      dialog.showModal();
      $("admin-reason").focus();
    },
  };
}
