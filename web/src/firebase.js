// Firebase from the Hosting-provided config (/__/firebase/init.json); on localhost, the
// emulators whose ports firebase.json sets (injected at build time as __EMULATORS__).
import { initializeApp } from "firebase/app";
import { connectAuthEmulator, getAuth } from "firebase/auth";
import { connectFirestoreEmulator, getFirestore } from "firebase/firestore";
import { connectFunctionsEmulator, getFunctions } from "firebase/functions";

/* global __EMULATORS__, __REGION__ */
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

export async function connectFirebase() {
  const response = await fetch("/__/firebase/init.json");
  if (!response.ok) {
    throw new Error(`could not load the Firebase config (/__/firebase/init.json: HTTP ${response.status})`);
  }
  const app = initializeApp(await response.json());
  const auth = getAuth(app);
  const db = getFirestore(app);
  const functions = getFunctions(app, __REGION__);
  const emulated = LOCAL_HOSTS.has(location.hostname);
  if (emulated) {
    const { auth: a, firestore: f, functions: fn } = __EMULATORS__;
    connectAuthEmulator(auth, `http://${a.host}:${a.port}`, { disableWarnings: true });
    connectFirestoreEmulator(db, f.host, f.port);
    connectFunctionsEmulator(functions, fn.host, fn.port);
  }
  return { app, auth, db, functions, emulated };
}
