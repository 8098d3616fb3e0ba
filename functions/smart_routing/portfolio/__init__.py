"""What a user holds: the ledger trade, positions, the paper account and FIFO tax lots with
the portfolio history. May import: domain, market, gate (fees), logs."""
