"""One module per deployed function: its body, which main.py wires to its trigger. May import:
the core, venues, stores, platform, reconciliation, and other handlers."""
