"""An intent through the gate to a venue and the ledger: the engine, the strategy pipeline,
what the gate needs fetched (gate_inputs), the submission, the result, the fill rules of
reconciliation, decision records, the market-context cache. May import: domain, market,
gate, portfolio, ports, strategies, logs."""
