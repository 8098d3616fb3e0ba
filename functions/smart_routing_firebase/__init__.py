"""The Firebase side: handlers (one per deployed function), stores (the Firestore documents
each concept owns), reconciliation, and platform (app, services, request guard, deployment).

Modules load on first use from the function that needs them, so a cold start pays only for
what that function runs.
"""
