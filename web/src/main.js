// The page: sign in, then the ticket, positions and history of the signed-in user.
import { onAuthStateChanged, signInWithEmailAndPassword, signOut } from "firebase/auth";
import { collection, doc, getDoc, getDocs } from "firebase/firestore";
import { isAdmin, watchAdmin } from "./admin.js";
import { $ } from "./dom.js";
import { connectFirebase } from "./firebase.js";
import { describeError } from "./format.js";
import { watchHistory } from "./history.js";
import { watchPositions } from "./positions.js";
import { setupTaxExport } from "./tax.js";
import { watchTca } from "./tca.js";
import { setupTicket } from "./ticket.js";
import { watchTradingState } from "./trading-state.js";

export const NO_TENANT_MESSAGE =
  "This account is not enabled for trading (it has no tenant). You can still read your own history.";

async function start() {
  let firebase;
  try {
    firebase = await connectFirebase();
  } catch (error) {
    $("auth-message").textContent = `The page could not start: ${describeError(error)}`;
    return;
  }
  const { auth, db, functions, emulated } = firebase;
  if (emulated) exposeProbe(db);
  let positions = null;
  const ticket = setupTicket(functions, { onQuote: (symbol, mid) => positions?.quote(symbol, mid) });
  let stopHistory = () => {};
  let stopTca = () => {};
  let stopTradingState = () => {};
  let stopTax = () => {};
  let stopAdmin = () => {};

  $("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("sign-in").disabled = true;
    $("auth-message").textContent = "Signing in…";
    try {
      await signInWithEmailAndPassword(auth, $("email").value.trim(), $("password").value);
    } catch (error) {
      $("auth-message").textContent = describeError(error);
    } finally {
      $("sign-in").disabled = false;
    }
  });
  $("sign-out").addEventListener("click", () => signOut(auth));

  onAuthStateChanged(auth, async (user) => {
    stopHistory();
    stopTca();
    stopTradingState();
    stopTax();
    stopAdmin();
    stopTca = stopTax = stopTradingState = stopAdmin = () => {};
    $("trading-state").hidden = true;
    positions?.stop();
    positions = null;
    ticket.enable(false);
    $("preview-result").replaceChildren();
    $("submit-result").replaceChildren();
    $("sign-in-form").hidden = Boolean(user);
    $("signed-in").hidden = !user;
    $("app").hidden = !user;
    if (!user) {
      $("auth-message").textContent = "Sign in to trade and see your history.";
      return;
    }
    $("who").textContent = `Signed in as ${user.email || user.uid}`;
    const claims = (await user.getIdTokenResult()).claims;
    if (auth.currentUser !== user) return; // signed out or switched meanwhile
    const tenant = typeof claims.tenant_id === "string" && claims.tenant_id ? claims.tenant_id : null;
    $("auth-message").textContent = tenant ? `Trading for ${tenant}.` : NO_TENANT_MESSAGE;
    ticket.enable(Boolean(tenant));
    stopHistory = watchHistory(db, user.uid);
    positions = watchPositions(db, user.uid);
    stopTca = watchTca(db, user.uid, tenant);
    stopTradingState = watchTradingState(db, tenant, user.uid);
    stopTax = setupTaxExport(db, user.uid);
    if (isAdmin(claims, tenant)) stopAdmin = watchAdmin(db, functions, tenant);
  });
}

/**
 * On the emulators only: window.firestoreProbe.read(path) reads a document or lists a
 * collection as the signed-in user, through the same SDK and security rules as the page, and
 * answers {ok, count} or {ok: false, code}. The browser tests use it to show another user's
 * rows are refused to this browser.
 */
function exposeProbe(db) {
  window.firestoreProbe = {
    async read(path) {
      const segments = path.split("/");
      try {
        if (segments.length % 2 === 0) {
          const snapshot = await getDoc(doc(db, path));
          return { ok: true, count: snapshot.exists() ? 1 : 0 };
        }
        return { ok: true, count: (await getDocs(collection(db, path))).size };
      } catch (error) {
        return { ok: false, code: error.code || String(error) };
      }
    },
  };
}

start();
