// The kill switch as the user sees it: the stricter of their tenant's trading state and their
// own, live (tenants/{t}/settings/trading_state and tenants/{t}/user_trading_states/{uid}).
import { doc, onSnapshot } from "firebase/firestore";
import { $ } from "./dom.js";
import { describeError } from "./format.js";

const STRICTNESS = { active: 0, reducing: 1, halted: 2 };
const MEANING = {
  active: "Trading is active.",
  reducing: "Trading is reducing: only orders that shrink a position you hold are accepted.",
  halted: "Trading is halted: no new orders are accepted.",
};

/** The binding state of the tenant's and the user's: the stricter; the tenant's on a tie. */
export function bindingState(tenant, user) {
  const t = tenant || { state: "active" };
  const u = user || { state: "active" };
  return (STRICTNESS[u.state] ?? 0) > (STRICTNESS[t.state] ?? 0)
    ? { ...u, scope: "your account" }
    : { ...t, scope: "your platform" };
}

export function watchTradingState(db, tenant, uid) {
  const shown = $("trading-state");
  if (!tenant) {
    shown.hidden = true;
    return () => {};
  }
  const states = { tenant: null, user: null };
  const render = () => {
    const binding = bindingState(states.tenant, states.user);
    shown.hidden = false;
    shown.dataset.state = binding.state;
    const why = binding.state !== "active" && binding.reason ? ` Set for ${binding.scope}: ${binding.reason}.` : "";
    shown.textContent = `${MEANING[binding.state] || MEANING.active}${why}`;
  };
  const failed = (error) => {
    shown.hidden = false;
    shown.textContent = describeError(error);
  };
  const stops = [
    onSnapshot(doc(db, "tenants", tenant, "settings", "trading_state"), (s) => {
      states.tenant = s.data() || null;
      render();
    }, failed),
    onSnapshot(doc(db, "tenants", tenant, "user_trading_states", uid), (s) => {
      states.user = s.data() || null;
      render();
    }, failed),
  ];
  return () => stops.forEach((stop) => stop());
}
