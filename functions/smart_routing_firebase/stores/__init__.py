"""The Firestore documents each concept owns: paths, the ledger, orders, paper accounts, venue
positions, decisions, idempotency claims, one commit per execution. May import: the core."""
