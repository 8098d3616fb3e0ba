"""Alpaca through alpaca-py: its clients with our timeout and 429 policy (client), its names for
symbols (symbols), quotes, bars and crypto books (market_data), asset and contract specs
(instruments), orders and the account (broker), and FILL activities for the reconciler
(fills). May import: the core, alpaca-py, the shared venue modules (http, settings,
fill_entries, instrument_specs)."""
