// Firebase from the Hosting-provided config (/__/firebase/init.json); on localhost, the
// emulators whose ports firebase.json sets (injected at build time as __EMULATORS__).
// App Check: reCAPTCHA Enterprise with the site key given at build time (APP_CHECK_SITE_KEY,
// injected as __APP_CHECK_SITE_KEY__); on localhost the debug provider.
import { initializeApp } from "firebase/app";
import { CustomProvider, initializeAppCheck, ReCaptchaEnterpriseProvider } from "firebase/app-check";
import { connectAuthEmulator, getAuth } from "firebase/auth";
import { connectFirestoreEmulator, getFirestore } from "firebase/firestore";
import { connectFunctionsEmulator, getFunctions } from "firebase/functions";

/* global __EMULATORS__, __REGION__, __APP_CHECK_SITE_KEY__ */
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

export async function connectFirebase() {
  const response = await fetch("/__/firebase/init.json");
  if (!response.ok) {
    throw new Error(`could not load the Firebase config (/__/firebase/init.json: HTTP ${response.status})`);
  }
  const app = initializeApp(await response.json());
  const emulated = LOCAL_HOSTS.has(location.hostname);
  const appCheck = startAppCheck(app, emulated);
  const auth = getAuth(app);
  const db = getFirestore(app);
  const functions = getFunctions(app, __REGION__);
  if (emulated) {
    const { auth: a, firestore: f, functions: fn } = __EMULATORS__;
    connectAuthEmulator(auth, `http://${a.host}:${a.port}`, { disableWarnings: true });
    connectFirestoreEmulator(db, f.host, f.port);
    connectFunctionsEmulator(functions, fn.host, fn.port);
  }
  return { app, auth, db, functions, emulated, appCheck };
}

/**
 * App Check, which the callables enforce when deployed (EXEC_ENFORCE_APP_CHECK). On localhost
 * the debug provider: the SDK makes a debug token, prints it to the console once (register it
 * in the console's App Check page to call a real project from here), and exchanges it for App
 * Check tokens; the emulators do not check them. The provider given beside it is never asked
 * in debug mode. Returns null when production has no site key (the callables then refuse).
 */
function startAppCheck(app, emulated) {
  if (emulated) {
    self.FIREBASE_APPCHECK_DEBUG_TOKEN = true;
    const unused = new CustomProvider({ getToken: () => Promise.reject(new Error("debug mode only")) });
    return initializeAppCheck(app, { provider: unused, isTokenAutoRefreshEnabled: false });
  }
  if (!__APP_CHECK_SITE_KEY__) {
    console.error("App Check is not set up: the page was built without APP_CHECK_SITE_KEY (docs/deploy.md).");
    return null;
  }
  return initializeAppCheck(app, {
    provider: new ReCaptchaEnterpriseProvider(__APP_CHECK_SITE_KEY__),
    isTokenAutoRefreshEnabled: true,
  });
}
