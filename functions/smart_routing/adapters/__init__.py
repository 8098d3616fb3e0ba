"""Adapters that need no account and no network, the embedded defaults: the simulated market,
the paper broker, in-memory stores, clocks. May import: the core below (domain to ports,
config)."""
