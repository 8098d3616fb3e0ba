// The security rules for everything the page reads, from the JS side: @firebase/rules-unit-testing
// against the Firestore emulator (FIRESTORE_EMULATOR_HOST, or firebase.json's port).
// Run by `npm run test:rules` (node's test runner); tests/browser/test_rules_js.py runs it in
// `make test` with the emulator started.
import { after, before, beforeEach, describe, test } from "node:test";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  assertFails,
  assertSucceeds,
  initializeTestEnvironment,
} from "@firebase/rules-unit-testing";
import {
  collection,
  deleteDoc,
  doc,
  getDoc,
  getDocs,
  orderBy,
  query,
  setDoc,
  limit,
  where,
} from "firebase/firestore";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const config = JSON.parse(readFileSync(join(root, "firebase.json"), "utf8"));
const projectId = `rules-${Date.now()}`; // its own project: the emulator keeps other runs' data apart
const [host, port] = (
  process.env.FIRESTORE_EMULATOR_HOST ||
  `${config.emulators.firestore.host}:${config.emulators.firestore.port}`
).split(":");

const OWNER = "alice";
const PAGE_READS = {
  history: `users/${OWNER}/portfolio/history/trades/t1`,
  "lots head": `users/${OWNER}/portfolio/lots/symbols/AAPL`,
  "open lot": `users/${OWNER}/portfolio/lots/symbols/AAPL/open/t1`,
  position: `users/${OWNER}/portfolio/positions/symbols/AAPL`,
};
const ACCOUNT = `users/${OWNER}/portfolio/account`;
const PRIVATE = {
  "ledger trade": "tenants/t/ledger_trades/t1",
  "execution claim": "tenants/t/executions/e1",
  strategy: "tenants/t/strategies/manual",
  "reconciliation cursor": "reconciliation/paper",
  markout: "tenants/t/ledger_trades/t1/markouts/5m",
};

let env;

before(async () => {
  env = await initializeTestEnvironment({
    projectId,
    firestore: { host, port: Number(port), rules: readFileSync(join(root, "firestore.rules"), "utf8") },
  });
});

after(async () => {
  await env?.cleanup();
});

beforeEach(async () => {
  await env.clearFirestore();
  await env.withSecurityRulesDisabled(async (context) => {
    const db = context.firestore();
    for (const path of [...Object.values(PAGE_READS), ACCOUNT, ...Object.values(PRIVATE)]) {
      await setDoc(doc(db, path), { seeded: true, timestamp: new Date() });
    }
  });
});

const owner = () => env.authenticatedContext(OWNER, { tenant_id: "t" }).firestore();
const ownerWithoutTenant = () => env.authenticatedContext(OWNER).firestore();
const other = () => env.authenticatedContext("bob", { tenant_id: "t" }).firestore();
const nobody = () => env.unauthenticatedContext().firestore();
const parent = (path) => path.split("/").slice(0, -1).join("/");

describe("what the page reads", () => {
  for (const [name, path] of Object.entries(PAGE_READS)) {
    test(`the owner gets and lists their ${name}`, async () => {
      await assertSucceeds(getDoc(doc(owner(), path)));
      await assertSucceeds(getDocs(collection(owner(), parent(path))));
    });
    test(`the owner without a tenant claim still reads their ${name}`, async () => {
      await assertSucceeds(getDoc(doc(ownerWithoutTenant(), path)));
      await assertSucceeds(getDocs(collection(ownerWithoutTenant(), parent(path))));
    });
    test(`another user and no one signed in cannot read the ${name}`, async () => {
      for (const db of [other(), nobody()]) {
        await assertFails(getDoc(doc(db, path)));
        await assertFails(getDocs(collection(db, parent(path))));
      }
    });
    test(`nobody writes the ${name}, not even its owner`, async () => {
      await assertFails(setDoc(doc(owner(), path), { qty: 1 }));
      await assertFails(deleteDoc(doc(owner(), path)));
      await assertFails(setDoc(doc(owner(), `${parent(path)}/new`), { qty: 1 }));
    });
  }

  test("the page's history query (newest first, 50) is allowed for the owner only", async () => {
    const history = (db) =>
      query(collection(db, parent(PAGE_READS.history)), orderBy("timestamp", "desc"), limit(50));
    const snapshot = await assertSucceeds(getDocs(history(owner())));
    if (snapshot.size !== 1) throw new Error(`expected 1 row, got ${snapshot.size}`);
    await assertFails(getDocs(history(other())));
  });

  test("the owner gets their account; others cannot; nobody writes it", async () => {
    await assertSucceeds(getDoc(doc(owner(), ACCOUNT)));
    await assertSucceeds(getDoc(doc(ownerWithoutTenant(), ACCOUNT)));
    await assertFails(getDoc(doc(other(), ACCOUNT)));
    await assertFails(getDoc(doc(nobody(), ACCOUNT)));
    await assertFails(setDoc(doc(owner(), ACCOUNT), { cash: { USD: 1e9 } }));
  });
});

// Routing decisions: each user reads their own, in their tenant, by the page's query.
const DECISIONS = "tenants/t/decisions";
const TCA_DAILY = "tenants/t/tca_daily/2026-03-02";

describe("the user's own routing decisions", () => {
  beforeEach(async () => {
    await env.withSecurityRulesDisabled(async (context) => {
      const db = context.firestore();
      await setDoc(doc(db, `${DECISIONS}/mine`), { uid: OWNER, action: "downgraded", decided_at: new Date() });
      await setDoc(doc(db, `${DECISIONS}/bobs`), { uid: "bob", action: "execute", decided_at: new Date() });
      await setDoc(doc(db, TCA_DAILY), { date: "2026-03-02", total: { decisions: 2 } });
    });
  });
  const mine = (db, uid = OWNER) =>
    query(collection(db, DECISIONS), where("uid", "==", uid), orderBy("decided_at", "desc"), limit(50));

  test("the page's query (their uid, newest first, 50) gives the owner their own only", async () => {
    const snapshot = await assertSucceeds(getDocs(mine(owner())));
    if (snapshot.size !== 1 || snapshot.docs[0].id !== "mine") throw new Error(`got ${snapshot.size} rows`);
    await assertSucceeds(getDoc(doc(owner(), `${DECISIONS}/mine`)));
  });
  test("nobody reads another user's decisions, or all of them", async () => {
    await assertFails(getDoc(doc(owner(), `${DECISIONS}/bobs`)));
    await assertFails(getDocs(mine(owner(), "bob")));
    await assertFails(getDocs(collection(owner(), DECISIONS)));
    await assertFails(getDocs(mine(nobody())));
  });
  test("a decision is read only within the user's own tenant", async () => {
    const elsewhere = env.authenticatedContext(OWNER, { tenant_id: "u" }).firestore();
    await assertFails(getDocs(mine(elsewhere)));
    await assertFails(getDoc(doc(elsewhere, `${DECISIONS}/mine`)));
    await assertFails(getDocs(mine(ownerWithoutTenant())));
  });
  test("nobody writes a decision, not even its owner", async () => {
    await assertFails(setDoc(doc(owner(), `${DECISIONS}/mine`), { action: "execute" }));
    await assertFails(setDoc(doc(owner(), `${DECISIONS}/new`), { uid: OWNER }));
    await assertFails(deleteDoc(doc(owner(), `${DECISIONS}/mine`)));
  });
});

describe("the tenant's daily TCA", () => {
  const admin = (claims = { tenant_id: "t", role: "admin" }) => env.authenticatedContext("carol", claims).firestore();

  test("the tenant's admin gets and lists it", async () => {
    await env.withSecurityRulesDisabled(async (context) => {
      await setDoc(doc(context.firestore(), TCA_DAILY), { date: "2026-03-02" });
    });
    await assertSucceeds(getDoc(doc(admin(), TCA_DAILY)));
    await assertSucceeds(getDocs(collection(admin(), parent(TCA_DAILY))));
  });
  test("no one else reads it: a user of the tenant, another tenant's admin, an admin with no tenant", async () => {
    for (const db of [owner(), other(), nobody(), admin({ tenant_id: "u", role: "admin" }), admin({ role: "admin" }),
      admin({ tenant_id: "t", role: "trader" })]) {
      await assertFails(getDoc(doc(db, TCA_DAILY)));
      await assertFails(getDocs(collection(db, parent(TCA_DAILY))));
    }
  });
  test("nobody writes it, not even the admin", async () => {
    await assertFails(setDoc(doc(admin(), TCA_DAILY), { total: {} }));
    await assertFails(deleteDoc(doc(admin(), TCA_DAILY)));
  });
});

// The admin page's reads: only the tenant's admin (claims tenant_id and role "admin").
const ADMIN_READS = {
  order: "tenants/t/orders/o1",
  "audit log entry": "tenants/t/audit_log/a1",
  "user trading state": "tenants/t/user_trading_states/bob",
  "daily TCA": TCA_DAILY,
};

describe("the tenant admin's page", () => {
  const admin = (claims = { tenant_id: "t", role: "admin" }) => env.authenticatedContext("carol", claims).firestore();
  beforeEach(async () => {
    await env.withSecurityRulesDisabled(async (context) => {
      const db = context.firestore();
      for (const path of Object.values(ADMIN_READS)) {
        await setDoc(doc(db, path), { seeded: true, date: "2026-03-02", submitted_at: new Date(), at: new Date() });
      }
    });
  });
  test("the page's queries (recent orders, audit log, days) are allowed for the tenant's admin", async () => {
    for (const [path, field] of [[ADMIN_READS.order, "submitted_at"], [ADMIN_READS["audit log entry"], "at"], [TCA_DAILY, "date"]]) {
      const snapshot = await assertSucceeds(getDocs(query(collection(admin(), parent(path)), orderBy(field, "desc"), limit(20))));
      if (snapshot.size !== 1) throw new Error(`${path}: expected 1 row, got ${snapshot.size}`);
    }
    await assertSucceeds(getDocs(collection(admin(), parent(ADMIN_READS["user trading state"]))));
  });
  for (const [name, path] of Object.entries(ADMIN_READS)) {
    test(`no one else lists the ${name}: a user of the tenant, another tenant's admin, a non-admin role`, async () => {
      for (const db of [owner(), other(), nobody(), admin({ tenant_id: "u", role: "admin" }), admin({ role: "admin" }),
        admin({ tenant_id: "t", role: "trader" })]) {
        await assertFails(getDocs(collection(db, parent(path))));
      }
    });
    test(`nobody writes the ${name}, not even the admin`, async () => {
      await assertFails(setDoc(doc(admin(), path), { seeded: false }));
      await assertFails(deleteDoc(doc(admin(), path)));
    });
  }
  test("a plain user of the tenant reads neither an order nor the audit log", async () => {
    await assertFails(getDoc(doc(owner(), ADMIN_READS.order)));
    await assertFails(getDoc(doc(owner(), ADMIN_READS["audit log entry"])));
  });
});

describe("what the page never reads", () => {
  for (const [name, path] of Object.entries(PRIVATE)) {
    test(`no client reads or writes the ${name}`, async () => {
      for (const db of [owner(), other(), nobody()]) {
        await assertFails(getDoc(doc(db, path)));
        await assertFails(getDocs(collection(db, parent(path))));
        await assertFails(setDoc(doc(db, path), { x: 1 }));
      }
    });
  }
});
