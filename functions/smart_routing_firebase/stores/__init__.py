"""The Firestore documents each concept owns: paths, the ledger and its unmirrored markers,
orders, paper accounts, venue positions, decision records, idempotency claims, trading states
and their audit log, execution issues, one commit per execution and the backoff its
contended commits take, scheduled ticks, orders read in bounded pages. May import: the core."""
